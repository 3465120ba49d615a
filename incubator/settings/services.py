"""Reading and changing the institution's settings: one form, one transaction, one audit
event that lists each changed setting with its old and new value."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..audit.services import record
from ..errors import ValidationFailed, refuse
from ..extensions import db
from ..immersions.models import INTERNAL_DAYS_MAX, INTERNAL_DAYS_MIN, LIMITS_MODES
from ..immersions.services import immersion_settings
from ..organisation.models import Institution
from ..people.models import User
from ..release_time.models import CAP_PERCENT_MAX, CAP_PERCENT_MIN, DAY_MINUTES_MAX, DAY_MINUTES_MIN
from ..release_time.services import parse_hours
from ..release_time.services import settings_for as release_settings
from ..text import int_in_range
from .policy import settings_refusal

LABELS = {
    "monthly_cap_percent": "Plafond mensuel du temps de décharge",
    "daily_minutes_full_time": "Durée d'une journée à temps plein",
    "limits_mode": "Immersions hors des limites légales",
    "internal_min_days": "Durée minimale d'une immersion interne",
    "internal_max_days": "Durée maximale d'une immersion interne",
    "managers_see_engagement": "Les encadrants voient les chiffres d'engagement de leurs agents",
}
MODE_WORDS = {"refuse": "refuser", "warn": "avertir"}


@dataclass
class Settings:
    monthly_cap_percent: int
    daily_minutes_full_time: int
    limits_mode: str
    internal_min_days: int
    internal_max_days: int
    managers_see_engagement: bool


def current_settings(institution_id: int) -> Settings:
    """The institution's settings, defaults for those never saved."""
    release, immersion = release_settings(institution_id), immersion_settings(institution_id)
    return Settings(
        monthly_cap_percent=release.monthly_cap_percent, daily_minutes_full_time=release.daily_minutes_full_time,
        limits_mode=immersion.limits_mode, internal_min_days=immersion.internal_min_days,
        internal_max_days=immersion.internal_max_days,
        managers_see_engagement=bool(db.session.get(Institution, institution_id).managers_see_engagement))


def hours_text(minutes: int) -> str:
    """420 -> « 7:00 », the form's way of writing a duration (read back by parse_hours)."""
    return f"{minutes // 60}:{minutes % 60:02d}"


def shown(name: str, value: Any) -> str:
    """A setting's value as the journal says it."""
    if name == "monthly_cap_percent":
        return f"{value} %"
    if name == "daily_minutes_full_time":
        return f"{value // 60} h" + (f" {value % 60:02d}" if value % 60 else "")
    if name == "limits_mode":
        return MODE_WORDS[value]
    if name.startswith("internal_"):
        return f"{value} jour{'s' if value > 1 else ''} ouvré{'s' if value > 1 else ''}"
    return "oui" if value else "non"


def _day_minutes(raw: Any) -> int | None:
    try:
        minutes = parse_hours(str(raw) if raw is not None else "")
    except ValueError:
        return None
    return minutes if minutes is not None and DAY_MINUTES_MIN <= minutes <= DAY_MINUTES_MAX else None


def _validated(*, monthly_cap_percent: Any, day_length: Any, limits_mode: Any, internal_min_days: Any,
               internal_max_days: Any, managers_see_engagement: Any) -> Settings:
    errors: dict[str, str] = {}
    cap = int_in_range(monthly_cap_percent, CAP_PERCENT_MIN, CAP_PERCENT_MAX)
    if cap is None:
        errors["monthly_cap_percent"] = (f"Indiquez un pourcentage entier entre {CAP_PERCENT_MIN} et "
                                         f"{CAP_PERCENT_MAX} (20 % par défaut).")
    day = _day_minutes(day_length)
    if day is None:
        errors["day_length"] = (f"Indiquez une durée entre {DAY_MINUTES_MIN // 60} h et {DAY_MINUTES_MAX // 60} h, "
                                "au quart d'heure, par exemple 7:00 ou 7:30.")
    if limits_mode not in LIMITS_MODES:
        errors["limits_mode"] = "Choisissez : refuser ou avertir."
    bounds = f"un nombre entier de jours ouvrés entre {INTERNAL_DAYS_MIN} et {INTERNAL_DAYS_MAX}"
    low = int_in_range(internal_min_days, INTERNAL_DAYS_MIN, INTERNAL_DAYS_MAX)
    if low is None:
        errors["internal_min_days"] = f"Indiquez {bounds}."
    high = int_in_range(internal_max_days, INTERNAL_DAYS_MIN, INTERNAL_DAYS_MAX)
    if high is None:
        errors["internal_max_days"] = f"Indiquez {bounds}."
    elif low is not None and high < low:
        errors["internal_max_days"] = (f"La durée maximale ne peut pas être inférieure à la durée minimale "
                                       f"({low} jour{'s' if low > 1 else ''}).")
    if errors:
        raise ValidationFailed(errors)
    return Settings(cap, day, limits_mode, low, high, bool(managers_see_engagement))


def save_settings(actor: User, institution_id: int, **values: Any) -> list[dict[str, Any]]:
    """Change the settings of `institution_id` to `values` (the form's: monthly_cap_percent,
    day_length as « 7:30 », limits_mode, internal_min_days, internal_max_days,
    managers_see_engagement). Returns the changes, each {setting, label, from, to, text};
    none, and nothing written, when the values are those already in force."""
    refuse(settings_refusal(actor, institution_id))
    wanted = asdict(_validated(**values))
    before = asdict(current_settings(institution_id))
    changes = [{"setting": name, "label": LABELS[name], "from": before[name], "to": wanted[name],
                "text": f"{LABELS[name]} : de {shown(name, before[name])} à {shown(name, wanted[name])}"}
               for name in LABELS if before[name] != wanted[name]]
    if not changes:
        return []
    changed = {change["setting"] for change in changes}
    if changed & {"monthly_cap_percent", "daily_minutes_full_time"}:
        release = release_settings(institution_id)
        if release.id is None:
            db.session.add(release)
        release.monthly_cap_percent = wanted["monthly_cap_percent"]
        release.daily_minutes_full_time = wanted["daily_minutes_full_time"]
    if changed & {"limits_mode", "internal_min_days", "internal_max_days"}:
        immersion = immersion_settings(institution_id)
        if immersion.id is None:
            db.session.add(immersion)
        immersion.limits_mode = wanted["limits_mode"]
        immersion.internal_min_days = wanted["internal_min_days"]
        immersion.internal_max_days = wanted["internal_max_days"]
    institution = db.session.get(Institution, institution_id)
    institution.managers_see_engagement = wanted["managers_see_engagement"]
    db.session.flush()
    record("institution.settings_changed", actor=actor, institution_id=institution_id, target=institution,
           data={"changed_settings": changes})
    return changes
