"""Who edits the institution's settings: its administration only."""

from __future__ import annotations

from ..people.models import User

ADMIN_ONLY = "Les paramètres de la collectivité sont réservés à son administration."


def settings_refusal(actor: User, institution_id: int) -> str | None:
    """Why `actor` may not change the settings of institution `institution_id`, or None:
    an administrator of that institution only (an administrator of another one, the
    instance administrator included, changes their own institution's)."""
    if actor.institution_id != institution_id or not actor.has_role("admin"):
        return ADMIN_ONLY
    return None
