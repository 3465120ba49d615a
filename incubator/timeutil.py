"""Time is stored as naive UTC in the database and shown in Europe/Paris."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)

WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


def utcnow() -> datetime:
    """Naive UTC now: the form every `*_at` column stores on both backends."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_paris(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(PARIS)


def today_paris() -> date:
    return datetime.now(PARIS).date()


def format_date(value: date | datetime | None) -> str:
    """« 3 mars 2026 »."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_paris(value).date()
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS_FR[value.month - 1]} {value.year}"


def format_weekday(value: date) -> str:
    """« Lundi 2 mars » (a day of the week being shown)."""
    day = "1er" if value.day == 1 else str(value.day)
    return f"{WEEKDAYS_FR[value.weekday()].capitalize()} {day} {MONTHS_FR[value.month - 1]}"


def format_datetime(value: datetime | None) -> str:
    """« 3 mars 2026 à 14 h 05 », in Paris time."""
    if value is None:
        return ""
    local = to_paris(value)
    return f"{format_date(local.date())} à {local.hour} h {local.minute:02d}"


def format_short_date(value: date | datetime | None) -> str:
    """« 03/03/2026 »."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_paris(value).date()
    return value.strftime("%d/%m/%Y")


def paris_day_start(day: date) -> datetime:
    """Naive UTC instant at which `day` starts in Paris (for filters on `*_at` columns)."""
    return datetime.combine(day, datetime.min.time(), tzinfo=PARIS).astimezone(UTC).replace(tzinfo=None)


def parse_day(value: str | None) -> date | None:
    """A date from a query string (YYYY-MM-DD), or None when absent, invalid or absurd."""
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    return day if day is not None and 1900 <= day.year <= 2200 else None


def days_since(value: datetime | None, now: datetime | None = None) -> int:
    """Whole days elapsed, counted on Paris calendar days."""
    if value is None:
        return 0
    now = now or utcnow()
    return max(0, (to_paris(now).date() - to_paris(value).date()).days)


def days_label(days: int) -> str:
    if days == 0:
        return "aujourd'hui"
    return f"depuis {days} jour{'s' if days > 1 else ''}"
