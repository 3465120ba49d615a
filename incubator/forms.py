"""Base form: WTForms' own messages in French (no Flask-Babel needed)."""

from flask_wtf import FlaskForm


class Form(FlaskForm):
    class Meta:
        locales = ("fr",)
