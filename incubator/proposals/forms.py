from wtforms import (
    DateField,
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from ..admin.forms import coerce_optional_int
from ..forms import Form
from ..people.models import EMAIL_MAX
from .models import OPEN_TO_LABELS
from .services import COMMENT_MAX, HIDDEN_REASON_MAX, THEME_NAME_MAX, TITLE_MAX

TEXT = {"rows": 5}


class _ProposalForm(Form):
    title = StringField(
        "Titre", validators=[Length(max=TITLE_MAX)],
        description="Une phrase qui dit l'idée (ex. « Un carnet de santé numérique des bâtiments »).",
        render_kw={"autocomplete": "off"},
    )
    theme_id = SelectField("Thème", coerce=coerce_optional_int, validate_choice=False)
    coauthor_emails = StringField(
        "Co-auteurs (facultatif)", validators=[Optional(), Length(max=2000)],
        description="Adresses électroniques séparées par des virgules. Chacun est invité et "
                    "n'apparaît comme co-auteur qu'après avoir accepté.",
        render_kw={"autocomplete": "off"},
    )


class InitiativeForm(_ProposalForm):
    problem = TextAreaField("Le problème", description="À quel problème, quel besoin ou quelle difficulté répond-elle ?", render_kw=TEXT)
    change = TextAreaField("Ce qui est proposé", description="Quel service, quelle façon de faire, quel changement ?", render_kw=TEXT)
    beneficiaries = TextAreaField("Pour qui, et quelle valeur", description="Usagers, agents, partenaires : qui en bénéficie, et en quoi ?", render_kw=TEXT)
    gain = TextAreaField("Le gain par rapport à aujourd'hui", description="Temps, qualité, coût, conditions de travail… même estimé.", render_kw=TEXT)
    needs = TextAreaField("Ce qu'il faut", description="Temps (en heures ou en jours), compétences, budget, matériel.", render_kw=TEXT)


class MobilityForm(_ProposalForm):
    host_org_unit_id = SelectField("Service d'accueil", coerce=coerce_optional_int, validate_choice=False)
    mission = TextAreaField("La mission", description="Ce que fera la personne accueillie, concrètement.", render_kw=TEXT)
    learning = TextAreaField("Ce qu'elle découvrira", description="Métiers, outils, publics, façons de faire.", render_kw=TEXT)
    contribution = TextAreaField("Ce qu'elle pourra apporter", description="Un regard neuf, une compétence, un coup de main…", render_kw=TEXT)
    duration_days = IntegerField("Durée (jours ouvrés)", validators=[Optional()],
                                 description="Entre 2 et 10 jours pour une immersion entre employeurs publics.")
    window_starts_on = DateField("Possible à partir du", validators=[Optional()])
    window_ends_on = DateField("Jusqu'au", validators=[Optional()])
    places = IntegerField("Nombre de places", validators=[Optional()], default=1)
    open_to = RadioField("Ouverte à", choices=list(OPEN_TO_LABELS.items()), default="institution")
    contact_email = EmailField("Personne à contacter (adresse électronique)",
                               validators=[Optional(), Length(max=EMAIL_MAX)],
                               render_kw={"autocomplete": "off"})


class CommentForm(Form):
    body = TextAreaField("Votre commentaire", validators=[Length(max=COMMENT_MAX)],
                         description="Texte simple ; les adresses web deviennent des liens. Restez courtois : l'animation peut masquer un commentaire, en le disant.",
                         render_kw={"rows": 4})


class HideCommentForm(Form):
    reason = TextAreaField("Raison du masquage (affichée à tous)", validators=[Length(max=HIDDEN_REASON_MAX)],
                           render_kw={"rows": 3})


class ThemeForm(Form):
    name = StringField("Nouveau thème", validators=[Length(max=THEME_NAME_MAX)])
