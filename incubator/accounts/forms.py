from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ..forms import Form as FlaskForm
from ..people.models import EMAIL_MAX

NEW_PASSWORD_HINT = ("12 caractères au moins, sans votre nom ni votre adresse. Une phrase de plusieurs mots "
                     "est plus sûre et plus facile à retenir.")


class LoginForm(FlaskForm):
    # The field keeps its name (email) for the forms and scripts that post it; it takes
    # the address, or the identifier of an agent without one.
    email = StringField(
        "Adresse électronique ou identifiant",
        description="Votre adresse professionnelle ; si vous n'en avez pas, l'identifiant de votre fiche d'activation.",
        validators=[DataRequired("Indiquez votre adresse électronique ou votre identifiant."),
                    Length(max=EMAIL_MAX)],
        render_kw={"autocomplete": "username", "autofocus": True, "autocapitalize": "none",
                   "spellcheck": "false"},
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
        description=NEW_PASSWORD_HINT,
        validators=[DataRequired("Choisissez un nouveau mot de passe.")],
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        "Nouveau mot de passe, une seconde fois",
        validators=[DataRequired("Saisissez une seconde fois le nouveau mot de passe.")],
        render_kw={"autocomplete": "new-password"},
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Adresse électronique professionnelle",
        validators=[DataRequired("Indiquez votre adresse électronique."), Length(max=EMAIL_MAX)],
        render_kw={"autocomplete": "email", "autofocus": True},
    )


class NewPasswordForm(FlaskForm):
    """Choosing one's password from a reset link or an invitation."""

    password = PasswordField("Nouveau mot de passe", description=NEW_PASSWORD_HINT,
                             validators=[DataRequired("Choisissez un mot de passe."), Length(max=200)],
                             render_kw={"autocomplete": "new-password"})
    confirm_password = PasswordField(
        "Le même mot de passe, une seconde fois",
        validators=[DataRequired("Saisissez une seconde fois le mot de passe."), Length(max=200)],
        render_kw={"autocomplete": "new-password"},
    )


class ActivationCodeForm(NewPasswordForm):
    """Activating one's account with the printed sheet: identifier, code, password."""

    login = StringField("Identifiant", description="Il est écrit sur votre fiche d'activation.",
                        validators=[DataRequired("Indiquez l'identifiant écrit sur votre fiche."),
                                    Length(max=EMAIL_MAX)],
                        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})
    code = StringField("Code d'activation", description="16 lettres et chiffres, par exemple KM4C-7XQA-3HDT-9PWE. "
                       "Les tirets et les majuscules n'ont pas d'importance.",
                       validators=[DataRequired("Indiquez le code écrit sur votre fiche."), Length(max=40)],
                       render_kw={"autocomplete": "one-time-code", "autocapitalize": "characters",
                                  "spellcheck": "false"})
