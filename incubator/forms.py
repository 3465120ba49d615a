"""Base form: WTForms' own messages in French (no Flask-Babel needed), and what every
form refuses whatever its fields: input no HTML form sends."""

from flask import has_request_context, request
from flask_wtf import FlaskForm
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms import FileField
from wtforms.widgets import HiddenInput

NUL_MESSAGE = "Ce champ contient un caractère non autorisé (caractère nul)."


class Form(FlaskForm):
    class Meta:
        locales = ("fr",)

        def wrap_formdata(self, form, formdata):
            if formdata is None or hasattr(formdata, "getlist"):
                return formdata  # given explicitly
            if not has_request_context() or request.method not in ("POST", "PUT", "PATCH", "DELETE"):
                return None
            # From the request, only what an HTML form sends: text values, and files for
            # file fields alone (a file in a text field would reach the services as an
            # object). A JSON body is not a form: its values may be of any type.
            file_names = {field.name for field in form if isinstance(field, FileField)}
            files = MultiDict([(name, value) for name, value in request.files.items(multi=True)
                               if name in file_names])
            if files:
                return CombinedMultiDict((files, request.form))
            return request.form or None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A hidden input is never labelled nor targeted, and a page with several forms would
        # repeat its id (`csrf_token`, RGAA 8.2, issue 20): hidden fields render without one.
        for field in self:
            if isinstance(field.widget, HiddenInput):
                field.render_kw = {"id": False, **(field.render_kw or {})}

    def validate(self, extra_validators=None) -> bool:
        # No keyboard types a NUL character, and PostgreSQL refuses it in text: refused here,
        # next to the field, rather than failing in the database.
        valid = super().validate(extra_validators)
        for field in self:
            if any(isinstance(value, str) and "\x00" in value for value in field.raw_data or ()):
                field.errors = [*field.errors, NUL_MESSAGE]
                valid = False
        return valid
