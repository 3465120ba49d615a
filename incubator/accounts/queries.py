"""What the administration shows of each account's access: activated, invited (when, and
whether the link or code still holds), or never invited. One query for a page of agents."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, select

from ..extensions import db
from ..people.models import User
from ..timeutil import format_short_date, utcnow
from .models import AccountToken

INVITING = ("invitation", "sheet")
# The administration's filter of the agent list, by access state: code -> label.
ACTIVATION_FILTERS = {"activated": "Compte activé", "invited": "Invité, pas encore activé",
                      "never": "Jamais invité"}


@dataclass(frozen=True)
class AccessState:
    label: str
    tone: str  # a badge tone


def _invited(user_id_column):
    return exists().where(AccountToken.user_id == user_id_column, AccountToken.purpose.in_(INVITING))


def activation_clause(code: str):
    """SQL filter on User for ACTIVATION_FILTERS[code]. An account is activated once it has
    a password (chosen through an invitation, a sheet, or set by the administration)."""
    if code == "activated":
        return User.password_hash.is_not(None)
    if code == "invited":
        return and_(User.password_hash.is_(None), _invited(User.id))
    return and_(User.password_hash.is_(None), ~_invited(User.id))


def access_states(users: list[User]) -> dict[int, AccessState]:
    """The access state of each of `users`, from their last invitation or sheet."""
    pending = [u.id for u in users if not u.password_hash]
    last: dict[int, AccountToken] = {}
    if pending:
        for token in db.session.scalars(select(AccountToken).where(
                AccountToken.user_id.in_(pending), AccountToken.purpose.in_(INVITING))
                .order_by(AccountToken.created_at, AccountToken.id)):
            last[token.user_id] = token
    now = utcnow()
    states = {}
    for user in users:
        token = last.get(user.id)
        if user.password_hash:
            states[user.id] = AccessState("Compte activé", "success")
        elif token is None:
            states[user.id] = AccessState("Jamais invité", "neutral")
        else:
            what = "Invitation envoyée" if token.purpose == "invitation" else "Fiche d'activation remise"
            label = f"{what} le {format_short_date(token.created_at)}"
            if token.revoked_at is None and token.used_at is None and token.expires_at <= now:
                states[user.id] = AccessState(f"{label} (expirée)", "warning")
            else:
                states[user.id] = AccessState(label, "info")
    return states

