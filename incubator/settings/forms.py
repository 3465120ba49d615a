"""The settings form: text inputs read by the service, which checks every value and says
what is wrong in French next to the field (the bounds are the domains' constants)."""

from __future__ import annotations

from wtforms import BooleanField, RadioField, StringField
from wtforms.validators import Length

from ..forms import Form
from ..immersions.models import INTERNAL_DAYS_MAX, INTERNAL_DAYS_MIN, LIMITS_MODES
from ..release_time.models import (
    ANNUAL_HOURS,
    CAP_PERCENT_DEFAULT,
    CAP_PERCENT_MAX,
    CAP_PERCENT_MIN,
)

ANNUAL_HOURS_TEXT = f"{ANNUAL_HOURS:,}".replace(",", "\u202f")  # 1 607
NUMBER = {"inputmode": "numeric", "autocomplete": "off", "class": "input-short"}


class SettingsForm(Form):
    monthly_cap_percent = StringField(
        "Plafond mensuel (en % du temps de travail)", validators=[Length(max=10)], render_kw=NUMBER,
        description=(f"Part du temps de travail mensuel d'un agent qui peut être déchargée : {ANNUAL_HOURS_TEXT} h "
                     f"par an × quotité ÷ 12 mois. {CAP_PERCENT_DEFAULT} % par défaut, de {CAP_PERCENT_MIN} à "
                     f"{CAP_PERCENT_MAX} % ; l'agent est alerté à 80 % du plafond et bloqué au-delà, sauf "
                     "dérogation de son N+1."))
    day_length = StringField(
        "Durée d'une journée à temps plein (heures:minutes)", validators=[Length(max=10)],
        render_kw={"inputmode": "decimal", "autocomplete": "off", "class": "input-short"},
        description=("Par exemple 7:00 pour 35 h sur 5 jours. Un agent ne déclare pas plus de décharge "
                     "dans une journée que cette durée × sa quotité. Entre 5 h et 10 h, au quart d'heure."))
    limits_mode = RadioField(
        "Hors des limites légales (décret n° 2022-1043)", choices=list(LIMITS_MODES.items()), validate_choice=False,
        description=("Entre deux employeurs : 2 à 10 jours ouvrés par immersion, 20 jours sur 3 ans, demande "
                     "au moins 3 mois avant le début. Pour une immersion interne : les durées ci-dessous."))
    internal_min_days = StringField(
        "Durée minimale d'une immersion interne (jours ouvrés)", validators=[Length(max=10)], render_kw=NUMBER,
        description=f"Dans la collectivité, entre deux de ses services. De {INTERNAL_DAYS_MIN} à {INTERNAL_DAYS_MAX} jours.")
    internal_max_days = StringField(
        "Durée maximale d'une immersion interne (jours ouvrés)", validators=[Length(max=10)], render_kw=NUMBER,
        description=f"Au moins la durée minimale, {INTERNAL_DAYS_MAX} jours au plus.")
    managers_see_engagement = BooleanField(
        "Les encadrants voient les chiffres d'engagement de leurs agents",
        description=("Le N+1 d'un agent peut alors lire son relevé d'engagement (heures de décharge validées, "
                     "rôles, propositions, immersions, collectif), tel que l'agent le voit, sans classement ; "
                     "chaque lecture est inscrite au journal d'audit. Désactivé par défaut."))
