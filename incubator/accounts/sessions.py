"""Server-side sessions: opened at login, resolved on every request, ended at logout,
deactivation and password change."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from ..audit.services import record
from ..dbutil import prebuilt
from ..extensions import db
from ..people.models import User
from ..timeutil import utcnow
from ..web import after_request_transaction
from .models import AuthSession

# How often a session's last activity is written: each request would serialise SQLite.
SESSION_REFRESH_INTERVAL = timedelta(minutes=5)


def open_session(user: User, ip_address: str | None, *, method: str = "password") -> str:
    """A new server-side session; the audit entry says how the person signed in
    ("password", or "oidc:<provider>")."""
    token = secrets.token_urlsafe(32)
    db.session.add(AuthSession(token=token, user_id=user.id, ip_address=ip_address))
    # The client's address (the real one behind TRUSTED_PROXIES), until `flask retention
    # apply` takes it out after SIGN_IN_ADDRESSES_KEPT_DAYS.
    record("auth.login", actor=user, institution_id=user.institution_id, target=user,
           data={"method": method, "address": ip_address})
    return token


# Facts about the user that other domains read on every page (the navigation asks whether
# they approve anyone's time): each domain registers a SQL expression on the user's id at
# import, and the session's own query answers them all, instead of one query each. The
# domains depend on accounts, never the other way round.
_SESSION_FACTS: dict[str, Callable[[Any], Any]] = {}


def register_session_fact(name: str, clause: Callable[[Any], Any]) -> None:
    """`clause(user_id_column)` is a SQL expression; its value for the logged-in user is
    `user.session_facts[name]` during the request."""
    _SESSION_FACTS[name] = clause


@dataclass(frozen=True)
class SessionClock:
    """When the session ends: idle (SESSION_IDLE_TIMEOUT after the last activity, moved on
    by each request of the person) and in any case (PERMANENT_SESSION_LIFETIME after sign-in)."""

    idle_ends_at: datetime
    ends_at: datetime

    def seconds_left(self) -> dict[str, int]:
        """{"idle": …, "end": …}: what the page's warning counts down (app.js), in seconds,
        so that a client's clock set wrong changes nothing."""
        now = utcnow()
        return {"idle": max(0, round((self.idle_ends_at - now).total_seconds())),
                "end": max(0, round((self.ends_at - now).total_seconds()))}


@prebuilt
def _session_query(facts: tuple[tuple[str, Callable[[Any], Any]], ...]):
    """Every request runs it; building the facts' expressions cost more than running them."""
    return (
        select(AuthSession, User, *(clause(User.id).label(name) for name, clause in facts))
        .join(User, User.id == AuthSession.user_id)
        # Every page shows the institution and checks roles: loaded with the session.
        .options(joinedload(User.roles), joinedload(User.institution))
        .where(AuthSession.token == bindparam("token"), AuthSession.revoked_at.is_(None))
    )


def resolve_session(token: str, user_id: str, *, touch: bool = True) -> User | None:
    """The user of a live session, or None (revoked, idle, or account deactivated). With
    `touch` false (a request the page makes by itself, such as a poll), the idle clock
    is left as it is: the person has done nothing."""
    facts = list(_SESSION_FACTS.items())
    row = db.session.execute(_session_query(tuple(facts)), {"token": token}).unique().first()
    if row is None:
        return None
    auth_session, user, *values = row
    user.session_facts = {name: value for (name, _clause), value in zip(facts, values, strict=True)}
    now = utcnow()
    if str(user.id) != str(user_id) or not user.is_active:
        return None
    config = current_app.config
    if now - auth_session.last_seen_at > config["SESSION_IDLE_TIMEOUT"]:
        return None
    if now - auth_session.created_at > config["PERMANENT_SESSION_LIFETIME"]:
        return None
    last_seen_at = auth_session.last_seen_at
    # Refresh rarely (a write per request would serialise SQLite): in the request's own
    # transaction when it writes, right after it when it only reads.
    if touch and now - last_seen_at > SESSION_REFRESH_INTERVAL:
        session_id = auth_session.id
        after_request_transaction(lambda: db.session.execute(
            update(AuthSession).where(AuthSession.id == session_id).values(last_seen_at=now)))
        last_seen_at = now
    user.session_clock = SessionClock(last_seen_at + config["SESSION_IDLE_TIMEOUT"],
                                      auth_session.created_at + config["PERMANENT_SESSION_LIFETIME"])
    return user


def extend_session(user: User, token: str) -> SessionClock:
    """« Rester connecté »: the idle clock starts again now (not the total one, which no
    one can extend: a new sign-in it takes)."""
    now = utcnow()
    db.session.execute(update(AuthSession).where(AuthSession.token == token, AuthSession.revoked_at.is_(None))
                       .values(last_seen_at=now))
    user.session_clock = SessionClock(now + current_app.config["SESSION_IDLE_TIMEOUT"], user.session_clock.ends_at)
    return user.session_clock


def log_out(token: str | None, user: User | None) -> None:
    if token:
        db.session.execute(
            update(AuthSession)
            .where(AuthSession.token == token, AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    if user is not None:
        record("auth.logout", actor=user, institution_id=user.institution_id, target=user)


def revoke_sessions(user: User, *, keep_token: str | None = None) -> None:
    stmt = update(AuthSession).where(
        AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None)
    )
    if keep_token:
        stmt = stmt.where(AuthSession.token != keep_token)
    db.session.execute(stmt.values(revoked_at=utcnow()))
