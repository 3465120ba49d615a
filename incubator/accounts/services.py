"""Authentication: password login with its throttling, and the change of one's own password.

Sessions live in accounts.sessions; the agents' accounts as the administration keeps them in
people; institutions and units in organisation; collective terms in collective. Every function
records its audit event and leaves the commit to the caller.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..audit.services import record
from ..dbutil import serialise_on
from ..errors import WHOLE_FORM, ValidationFailed
from ..extensions import db
from ..people.models import User
from ..people.services import find_account, normalise_email
from ..timeutil import utcnow
from .models import LoginAttempt, SignInSettings
from .passwords import hash_password, password_errors, password_holder
from .sessions import open_session, revoke_sessions
from .tokens import revoke_tokens

# A hash of a random password: checked against when the account is unknown, so that the
# answer takes the same time whether the address exists or not.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))

# --------------------------------------------------------------------------- login

WRONG_CREDENTIALS = "Adresse électronique, identifiant ou mot de passe incorrect."


class LoginRefused(ValidationFailed):
    """Login refused: the message is shown above the form (422, 429 when throttled). The
    attempt recorded before is kept, not rolled back: throttling counts it."""

    keeps_writes = True

    def __init__(self, message: str, *, throttled: bool = False):
        super().__init__({WHOLE_FORM: message}, message)
        self.throttled = throttled
        if throttled:
            self.status_code = 429


@dataclass
class LoginResult:
    user: User
    session_token: str


def _failures(*conditions) -> int:
    return db.session.scalar(
        select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.succeeded.is_(False), *conditions)
    )


def _throttled(email: str, ip_address: str) -> bool:
    """Whether logins to this account are refused: too many failures on the account, from
    anywhere, or on the account from this address. Both counts restart at its last success.
    Failures from the address on other accounts never refuse (see _address_is_noisy)."""
    config = current_app.config
    since = utcnow() - config["LOGIN_THROTTLE_WINDOW"]
    last_success = db.session.scalar(
        select(func.max(LoginAttempt.attempted_at)).where(
            LoginAttempt.email == email, LoginAttempt.succeeded.is_(True),
            LoginAttempt.attempted_at >= since,
        )
    )
    account_since = max(since, last_success) if last_success else since
    on_account = (LoginAttempt.email == email, LoginAttempt.attempted_at > account_since)
    if _failures(*on_account) >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]:
        return True
    pair_failures = _failures(*on_account, LoginAttempt.ip_address == ip_address)
    return pair_failures >= config["LOGIN_MAX_FAILURES_PER_ADDRESS_AND_ACCOUNT"]


def _address_is_noisy(ip_address: str) -> bool:
    """Many failures from one address, whatever the accounts: its logins are slowed down,
    not refused, since a whole institution may share that address."""
    config = current_app.config
    since = utcnow() - config["LOGIN_THROTTLE_WINDOW"]
    failures = _failures(LoginAttempt.ip_address == ip_address, LoginAttempt.attempted_at >= since)
    return failures >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]


def slow_down(seconds: float) -> None:
    """The delay imposed on a noisy address (tests replace it: they never sleep)."""
    if seconds > 0:
        time.sleep(seconds)


def _refuse_if_throttled(email: str, ip_address: str) -> None:
    if _throttled(email, ip_address):
        minutes = int(current_app.config["LOGIN_THROTTLE_WINDOW"].total_seconds() // 60)
        raise LoginRefused(
            "Trop de tentatives de connexion. Par sécurité, réessayez dans "
            f"{minutes} minutes ou adressez-vous à l'administration.",
            throttled=True,
        )


def log_in(email: str, password: str, ip_address: str) -> LoginResult:
    """The single entry point for password login (single sign-on will sit beside it).

    On refusal, the failed attempt is left in the session for the caller to commit,
    so that throttling counts it, and LoginRefused is raised.
    """
    email = normalise_email(email)
    _refuse_if_throttled(email, ip_address)
    if _address_is_noisy(ip_address):
        # Before the password is checked, whatever the account (known or not): a guesser
        # behind the address waits, the agents sharing it still get in. The reads so far
        # end first (nothing is written yet): on SQLite a login holds the write lock from
        # its first statement, and a waiting login must not hold up every other writer.
        db.session.rollback()
        slow_down(current_app.config["LOGIN_ADDRESS_DELAY_SECONDS"])
    user = find_account(email)  # the address, or the identifier of an agent without one
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password or "")
        ok = False
    else:
        ok = check_password_hash(user.password_hash, password or "")
    # Attempts on one account, and from one address, are counted one at a time across
    # workers and servers: a burst of parallel guesses cannot slip under the limits. The
    # check is made again under the locks; the slow password hash (and the delay) stay
    # outside them.
    serialise_on(f"login-account:{email}", f"login-address:{ip_address}")
    _refuse_if_throttled(email, ip_address)
    db.session.add(LoginAttempt(email=email, ip_address=ip_address, succeeded=ok))
    if not ok:
        raise LoginRefused(WRONG_CREDENTIALS)
    if user.is_active and not passwords_allowed(user):
        record("auth.login_refused", actor=user, institution_id=user.institution_id,
               target=user, data={"reason": "password_disabled"})
        raise LoginRefused(PASSWORDS_DISABLED)
    return sign_in(user, ip_address, method="password")


def sign_in(user: User, ip_address: str, *, method: str) -> LoginResult:
    """The session of a person whose identity is proven (password, or single sign-on:
    accounts.sso): refused for a deactivated account, whatever the path."""
    if not user.is_active:
        record("auth.login_refused", actor=user, institution_id=user.institution_id,
               target=user, data={"reason": "inactive", "method": method})
        raise LoginRefused(
            "Ce compte est désactivé. Adressez-vous à l'administration de votre collectivité."
        )
    return LoginResult(user=user, session_token=open_session(user, ip_address, method=method))


PASSWORDS_DISABLED = ("Votre collectivité a fermé la connexion par mot de passe : utilisez le "
                      "bouton de connexion unique au-dessus du formulaire.")


def passwords_allowed(user: User) -> bool:
    """Whether this agent may sign in with a password: yes unless the institution closed
    password sign-in for its agents; administrators keep theirs as a fallback."""
    settings = SignInSettings.of(user.institution_id)
    return settings is None or settings.agents_use_passwords or user.has_role("admin") \
        or user.is_instance_admin


def change_own_password(
    user: User, *, current: str, new: str, confirm: str, keep_token: str | None
) -> None:
    errors: dict[str, str] = {}
    if not user.password_hash or not check_password_hash(user.password_hash, current or ""):
        errors["current_password"] = "Le mot de passe actuel est incorrect."
    errors.update(password_errors(new, "new_password", own=True, **password_holder(user)))
    if new != confirm:
        errors["confirm_password"] = "Les deux saisies du nouveau mot de passe diffèrent."
    if not errors and new == current:
        errors["new_password"] = "Le nouveau mot de passe doit différer de l'actuel."
    if errors:
        raise ValidationFailed(errors)
    user.password_hash = hash_password(new)
    revoke_sessions(user, keep_token=keep_token)
    revoke_tokens(user)
    record("auth.password_changed", actor=user, institution_id=user.institution_id, target=user)


# --------------------------------------------------------------------------- permissions


# --------------------------------------------------------------------------- institutions


# --------------------------------------------------------------------------- org units


# --------------------------------------------------------------------------- users


# --------------------------------------------------------------------------- collective


def forget_login_attempts(before: datetime) -> int:
    """Login attempts (address, email typed) older than `before` are deleted: throttling
    only reads the last LOGIN_THROTTLE_WINDOW."""
    return db.session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < before)).rowcount or 0
