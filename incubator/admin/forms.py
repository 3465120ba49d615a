from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..dbutil import MAX_ID
from ..forms import Form as FlaskForm
from ..people.models import (
    CATEGORIES,
    EMAIL_MAX,
    EMPLOYEE_NUMBER_MAX,
    LOGIN_ID_MAX,
    QUOTITE_MAX,
    QUOTITE_MIN,
    ROLE_LABELS,
    ROLES,
)

NO_PARENT = ""


def coerce_optional_int(value):
    if value in (None, "", "None"):
        return None
    number = int(value)
    if not 0 < number <= MAX_ID:
        raise ValueError("out of range")
    return number


class OrgUnitCreateForm(FlaskForm):
    code = StringField("Code", description="Court et stable, repris dans les imports CSV (ex. DRH-PAIE).",
                       validators=[DataRequired("Indiquez un code."), Length(max=40)])
    name = StringField("Nom", validators=[DataRequired("Indiquez un nom."), Length(max=200)])
    kind = RadioField("Nature", choices=[("direction", "Direction"), ("service", "Service")],
                      default="service", validators=[InputRequired("Choisissez la nature.")])
    parent_id = SelectField("Rattachée à", coerce=coerce_optional_int, validate_choice=False)


class OrgUnitRenameForm(FlaskForm):
    name = StringField("Nouveau nom", validators=[DataRequired("Indiquez un nom."), Length(max=200)])


class OrgUnitMoveForm(FlaskForm):
    parent_id = SelectField("Nouvelle unité de rattachement", coerce=coerce_optional_int,
                            validate_choice=False)


class OrgUnitCloseForm(FlaskForm):
    closed_on = DateField("Date de fermeture", validators=[InputRequired("Indiquez une date valide.")])


class UserForm(FlaskForm):
    first_name = StringField("Prénom", validators=[DataRequired("Le prénom est obligatoire."), Length(max=100)],
                             render_kw={"autocomplete": "off"})
    last_name = StringField("Nom", validators=[DataRequired("Le nom est obligatoire."), Length(max=100)],
                            render_kw={"autocomplete": "off"})
    email = EmailField("Adresse électronique professionnelle",
                       description="Laisser vide pour un agent qui n'en a pas : il lui faut alors un identifiant.",
                       validators=[Optional(), Length(max=EMAIL_MAX)],
                       render_kw={"autocomplete": "off"})
    login_id = StringField("Identifiant de connexion", validators=[Optional(), Length(max=LOGIN_ID_MAX)],
                           description="Pour un agent sans adresse professionnelle, par exemple son matricule : "
                                       "il se connecte avec, et reçoit ses notifications dans l'application.",
                           render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"})
    employee_number = StringField("Matricule", validators=[Optional(), Length(max=EMPLOYEE_NUMBER_MAX)],
                                  description="Le numéro de l'agent dans la paie, repris dans le relevé d'engagement "
                                              "des RH ; facultatif.",
                                  render_kw={"autocomplete": "off", "spellcheck": "false"})
    category = RadioField("Catégorie", choices=[(c, f"Catégorie {c}") for c in CATEGORIES],
                          validators=[InputRequired("Choisissez la catégorie.")])
    quotite = IntegerField("Quotité de travail (%)", default=QUOTITE_MAX,
                           description=f"{QUOTITE_MAX} pour un temps plein, 80 pour un temps partiel à 80 %…",
                           validators=[InputRequired("Indiquez la quotité (nombre entier)."),
                                       NumberRange(QUOTITE_MIN, QUOTITE_MAX,
                                                   f"Entre {QUOTITE_MIN} et {QUOTITE_MAX}.")])
    org_unit_id = SelectField("Direction ou service", coerce=coerce_optional_int,
                              validate_choice=False)
    manager_email = StringField("N+1 (adresse électronique ou identifiant)",
                                validators=[Optional(), Length(max=EMAIL_MAX)],
                               description="Laisser vide si l'agent n'a pas de N+1 dans l'outil.",
                               # No suggestion list: every agent's address in the page would
                               # weigh thousands of options (and the list it named never existed).
                               render_kw={"autocomplete": "off"})


class UserCreateForm(UserForm):
    password = PasswordField("Mot de passe initial", validators=[Optional(), Length(max=200)],
                             description="Facultatif. 12 caractères au moins, sans le nom ni l'adresse de l'agent, et pas un mot de passe courant. À transmettre à l'agent, qui le changera depuis « Mon compte ».",
                             render_kw={"autocomplete": "new-password"})
    roles = SelectMultipleField("Rôles", choices=[(r, ROLE_LABELS[r]) for r in ROLES],
                                option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False))


class RolesForm(FlaskForm):
    roles = SelectMultipleField("Rôles", choices=[(r, ROLE_LABELS[r]) for r in ROLES],
                                option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False))


class PasswordSetForm(FlaskForm):
    password = PasswordField("Nouveau mot de passe", description="12 caractères au moins, sans le nom ni l'adresse de l'agent, et pas un mot de passe courant.",
                             validators=[DataRequired("Indiquez un mot de passe.")],
                             render_kw={"autocomplete": "new-password"})


class ConfirmForm(FlaskForm):
    """A destructive action's confirmation: only the CSRF token."""


class MembershipForm(FlaskForm):
    member_email = EmailField("Agent (adresse électronique)",
                              validators=[DataRequired("Indiquez l'adresse de l'agent."), Length(max=EMAIL_MAX)],
                              render_kw={"autocomplete": "off"})  # no suggestion list: see manager_email
    starts_on = DateField("Début du mandat", validators=[InputRequired("Indiquez une date valide.")])
    ends_on = DateField("Fin du mandat", validators=[Optional()],
                        description="Facultatif : laisser vide pour un mandat sans terme fixé.")


class EndMembershipForm(FlaskForm):
    ends_on = DateField("Fin du mandat", validators=[InputRequired("Indiquez une date valide.")])


class ImportForm(FlaskForm):
    file = FileField("Fichier CSV des agents")


class UnitImportForm(FlaskForm):
    file = FileField("Fichier CSV des directions et services")


class InstitutionForm(FlaskForm):
    name = StringField("Nom", validators=[DataRequired("Indiquez le nom."), Length(max=200)])
    slug = StringField("Identifiant", description="Minuscules, chiffres et tirets (ex. ccas-belleville).",
                       validators=[DataRequired("Indiquez un identifiant."), Length(max=80)])
    kind = SelectField("Nature", choices=[
        ("commune", "Commune"), ("intercommunalite", "Intercommunalité"),
        ("departement", "Département"), ("region", "Région"), ("ccas", "CCAS"),
        ("centre-de-gestion", "Centre de gestion"), ("autre", "Autre établissement"),
    ])


class SignInSettingsForm(FlaskForm):
    """How the institution's agents sign in (admin/sign_in_views.py)."""

    siret = StringField(
        "SIRET de la collectivité", validators=[Optional(), Length(max=20)],
        description="14 chiffres. ProConnect le transmet : il désigne votre collectivité à la première connexion d'un agent.",
    )
    email_domains = StringField(
        "Domaines des adresses des agents", validators=[Optional(), Length(max=500)],
        description="Séparés par des espaces, par exemple ville-exemple.fr ccas-exemple.fr : ils désignent votre collectivité quand le SIRET ne suffit pas.",
    )
    provisions_agents = BooleanField(
        "Créer le compte d'un agent inconnu qui se connecte par la connexion unique (sans service : à compléter ensuite)")
    agents_use_passwords = BooleanField(
        "Les agents peuvent aussi se connecter avec un mot de passe (les administrateurs gardent toujours le leur)")
