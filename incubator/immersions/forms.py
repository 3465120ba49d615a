"""Forms of the immersions: applying, and the N+1's answer."""

from __future__ import annotations

from wtforms import DateField, TextAreaField
from wtforms.validators import Length, Optional

from ..forms import Form
from .services import MOTIVATION_MAX, REFUSAL_REASON_MAX


class ApplicationForm(Form):
    motivation = TextAreaField("Votre motivation", validators=[Length(max=MOTIVATION_MAX)], render_kw={"rows": 5},
                               description="Ce que vous souhaitez découvrir, et ce que vous pouvez apporter.")
    starts_on = DateField("Début souhaité", validators=[Optional()])
    ends_on = DateField("Fin souhaitée", validators=[Optional()])


class ConsentForm(Form):
    reason = TextAreaField("Motif (obligatoire en cas de refus)", validators=[Length(max=REFUSAL_REASON_MAX)], render_kw={"rows": 2})
