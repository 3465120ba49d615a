from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import Length, Optional

from ..forms import Form
from ..people.models import EMAIL_MAX
from .assessments import CONFLICT_REASON_MAX
from .decisions import RATIONALE_MAX
from .models import DECISION_RULES
from .settings import CRITERION_NAME_MAX, CRITERION_TEXT_MAX
from .voting import PLACE_MAX, VIDEO_LINK_MAX, VOTE_REASON_MAX

RATIONALE_HINT = ("Publiée telle quelle au journal des arbitrages et sur la proposition : dites ce qui "
                  "a emporté la décision, au regard des critères, en quelques phrases.")


class SettingsForm(Form):
    decision_rule = RadioField("Règle de décision", choices=list(DECISION_RULES.items()))
    quorum_percent = IntegerField("Quorum (% des membres en mandat, hors membres récusés)",
                                  validators=[Optional()])
    votes_public = BooleanField("Publier le vote de chaque membre (sinon, seul le décompte est public)")
    target_days = IntegerField("Délai cible de réponse (jours depuis le dépôt)", validators=[Optional()])
    ineligibility_reasons = TextAreaField("Motifs de non-recevabilité publiés (un par ligne)",
                                          render_kw={"rows": 6})


class CriterionForm(Form):
    name = StringField("Nom du critère", validators=[Length(max=CRITERION_NAME_MAX)])
    description = TextAreaField("Ce que l'on évalue", description="Publié sur « Comment nous décidons ».",
                                validators=[Length(max=CRITERION_TEXT_MAX)], render_kw={"rows": 3})
    weight = IntegerField("Poids (1 à 10)", validators=[Optional()], default=1)
    is_active = BooleanField("Critère utilisé pour les nouvelles évaluations", default=True)


class OpenReviewForm(Form):
    rationale = TextAreaField("Message publié (facultatif)", validators=[Length(max=RATIONALE_MAX)],
                              description="Par défaut : « La proposition est recevable : elle entre en instruction… »",
                              render_kw={"rows": 3})


class IneligibleForm(Form):
    reason = SelectField("Motif", validate_choice=False)
    duplicate_of_id = IntegerField("Numéro de la proposition existante (pour un doublon)",
                                   validators=[Optional()])
    rationale = TextAreaField("Explication publiée", description=RATIONALE_HINT,
                              validators=[Length(max=RATIONALE_MAX)], render_kw={"rows": 5})


class ConflictForm(Form):
    reason = StringField("Nature du conflit d'intérêts (visible du collectif)", validators=[Length(max=CONFLICT_REASON_MAX)])


class SessionForm(Form):
    starts_on = DateField("Date", validators=[Optional()])
    starts_time = TimeField("Heure de début", validators=[Optional()])
    place = StringField("Lieu", validators=[Length(max=PLACE_MAX)], description="Par exemple : Hôtel de ville, salle du conseil.")
    video_link = StringField("Lien de visioconférence (facultatif)", validators=[Length(max=VIDEO_LINK_MAX)])


class ScheduleForm(Form):
    proposal_id = SelectField("Proposition en instruction à inscrire", validate_choice=False)


class VoteForm(Form):
    choice = RadioField("Votre vote", validate_choice=False)
    reason = TextAreaField("Motif (obligatoire pour une objection)", validators=[Length(max=VOTE_REASON_MAX)],
                           render_kw={"rows": 2})


class PublishForm(Form):
    outcome = RadioField("Décision", validate_choice=False)
    rationale = TextAreaField("Motivation publiée", description=RATIONALE_HINT,
                              validators=[Length(max=RATIONALE_MAX)], render_kw={"rows": 6})


class CorrectionForm(Form):
    """A correction sets no outcome: it reopens the proposal (see review.decisions)."""

    rationale = TextAreaField("Motivation de la correction",
                              description=("Publiée au journal des arbitrages : dites pourquoi la décision est "
                                           "corrigée (erreur de procédure, élément nouveau…), en quelques phrases."),
                              validators=[Length(max=RATIONALE_MAX)], render_kw={"rows": 6})


class SubstituteForm(Form):
    email = EmailField("Adresse électronique de l'agent désigné·e", validators=[Length(max=EMAIL_MAX)],
                       description=("Un agent actif de la collectivité, qui n'est ni auteur, ni co-auteur de la "
                                    "proposition, et n'a pas déclaré de conflit d'intérêts à son sujet."))
