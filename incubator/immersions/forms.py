"""Forms of the immersions: applying, and the N+1's answer."""

from __future__ import annotations

from wtforms import DateField, TextAreaField
from wtforms.validators import Length, Optional

from ..forms import Form


class ApplicationForm(Form):
    motivation = TextAreaField("Votre motivation", validators=[Length(max=3000)], render_kw={"rows": 5},
                               description="Ce que vous souhaitez découvrir, et ce que vous pouvez apporter.")
    starts_on = DateField("Début souhaité", validators=[Optional()])
    ends_on = DateField("Fin souhaitée", validators=[Optional()])


class ConsentForm(Form):
    reason = TextAreaField("Motif (obligatoire en cas de refus)", validators=[Length(max=1000)], render_kw={"rows": 2})
