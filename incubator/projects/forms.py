from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from ..forms import Form
from ..people.models import EMAIL_MAX
from .services import INDICATOR_VALUES_MAX, MILESTONE_TITLE_MAX, REASON_MAX, TEXT_MAX


class CharterForm(Form):
    sponsor_email = EmailField("Commanditaire (adresse électronique)", validators=[Optional(), Length(max=EMAIL_MAX)],
                               description=("L'élu·e ou le directeur·rice qui commande le projet : une autre personne que le chef "
                                            "ou la cheffe de projet. La lettre de mission est ensuite validée par "
                                            "l'animation du collectif."))
    lead_email = EmailField("Chef·fe de projet (adresse électronique)", validators=[Optional(), Length(max=EMAIL_MAX)])
    objectives = TextAreaField("Objectifs", validators=[Length(max=TEXT_MAX)], render_kw={"rows": 4})
    indicators = TextAreaField("Indicateurs de réussite", validators=[Length(max=TEXT_MAX)], render_kw={"rows": 3},
                               description="Comment saura-t-on que c'est réussi ? (ex. délai de réparation < 5 jours)")
    starts_on = DateField("Début", validators=[Optional()])
    ends_on = DateField("Fin prévue", validators=[Optional()])


class MilestoneForm(Form):
    title = StringField("Jalon", validators=[Length(max=MILESTONE_TITLE_MAX)])
    due_on = DateField("Échéance", validators=[Optional()])


class ProgressForm(Form):
    text = TextAreaField("Où en est le projet ?", validators=[Length(max=TEXT_MAX)], render_kw={"rows": 4})
    progress = IntegerField("Avancement (%)", validators=[Optional()])
    indicator_values = TextAreaField("Valeurs des indicateurs (facultatif)", validators=[Length(max=INDICATOR_VALUES_MAX)],
                                     render_kw={"rows": 2})


class ReasonForm(Form):
    reason = TextAreaField("Raison (publiée)", validators=[Length(max=REASON_MAX)], render_kw={"rows": 3})


class CloseForm(Form):
    action = RadioField("Issue", choices=[("complete", "Terminé : objectifs atteints ou projet livré"),
                                          ("abandon", "Abandonné")], default="complete")
    worked = TextAreaField("Ce qui a marché", validators=[Length(max=TEXT_MAX)], render_kw={"rows": 3})
    did_not_work = TextAreaField("Ce qui n'a pas marché", validators=[Length(max=TEXT_MAX)], render_kw={"rows": 3})
    reusable = TextAreaField("Ce que d'autres peuvent réutiliser", validators=[Length(max=TEXT_MAX)], render_kw={"rows": 3})
    indicators_reached = TextAreaField("Indicateurs atteints", validators=[Length(max=TEXT_MAX)], render_kw={"rows": 3})
    confirm_abandon = BooleanField("Je confirme l'abandon du projet",
                                   description="Pour « Abandonné » seulement : le projet est clos sans suite et ne "
                                               "pourra plus être modifié.")


