from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from ..forms import Form as FlaskForm
from ..people.models import EMAIL_MAX


class LoginForm(FlaskForm):
    email = EmailField(
        "Adresse électronique professionnelle",
        validators=[DataRequired("Indiquez votre adresse électronique."), Length(max=EMAIL_MAX)],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    password = PasswordField(
        "Mot de passe",
        validators=[DataRequired("Indiquez votre mot de passe."), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        "Mot de passe actuel", validators=[DataRequired("Indiquez votre mot de passe actuel.")],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        "Nouveau mot de passe",
        description="12 caractères au moins, sans votre nom ni votre adresse. Une phrase de plusieurs mots est plus sûre et plus facile à retenir.",
        validators=[DataRequired("Choisissez un nouveau mot de passe.")],
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        "Nouveau mot de passe, une seconde fois",
        validators=[DataRequired("Saisissez une seconde fois le nouveau mot de passe.")],
        render_kw={"autocomplete": "new-password"},
    )
