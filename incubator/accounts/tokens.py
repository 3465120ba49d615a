"""Single-use account tokens: the link of a password reset, the link of an invitation, the
code of a printed activation sheet.

A link token is 32 random bytes from `secrets` (43 characters in the address). A sheet
code is typed by hand by someone who may not be at ease with a keyboard: 16 characters
from an alphabet without look-alikes (about 78 bits), used only with the agent's identifier and
behind its own throttling (see accounts.recovery).

Only a keyed hash is stored (HMAC-SHA256 with SECRET_KEY): a copy of the database gives
neither the tokens nor a way to forge them. A token is found by its hash, then the hashes
are compared again in constant time. Nothing here logs a token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update

from ..extensions import db
from ..people.models import User
from ..timeutil import utcnow
from .models import AccountRequest, AccountToken

LINK_TOKEN_BYTES = 32
# Digits, and the letters that no digit resembles (no O, I, L, S, Z, B): 30 symbols. A
# look-alike letter typed instead of its digit is read as the digit (LOOK_ALIKES).
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY0123456789"
LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1", "S": "5", "Z": "2", "B": "8"})
CODE_LENGTH = 16
CODE_GROUP = 4

LIFETIME_SETTINGS = {
    "reset": "PASSWORD_RESET_LIFETIME",
    "invitation": "INVITATION_LIFETIME",
    "sheet": "ACTIVATION_CODE_LIFETIME",
}


def lifetimes() -> dict[str, int]:
    """How long each token lives, as the pages and messages say it."""
    config = current_app.config
    return {"reset_minutes": int(config["PASSWORD_RESET_LIFETIME"].total_seconds() // 60),
            "invitation_days": config["INVITATION_LIFETIME"].days,
            "sheet_days": config["ACTIVATION_CODE_LIFETIME"].days}


def token_hash(secret: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def new_link_token() -> str:
    return secrets.token_urlsafe(LINK_TOKEN_BYTES)


def new_code() -> str:
    """« KM4C-7XQA-… »: groups of four, upper case (typed in any case, with or without dashes)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + CODE_GROUP] for i in range(0, CODE_LENGTH, CODE_GROUP))


def normalise_code(code: str | None) -> str:
    cleaned = "".join(c for c in (code or "").upper().translate(LOOK_ALIKES) if c.isascii() and c.isalnum())
    return "-".join(cleaned[i:i + CODE_GROUP] for i in range(0, len(cleaned), CODE_GROUP))


def issue(user: User, purpose: str, secret: str, *, by: User | None = None,
          revoked: bool = False) -> AccountToken:
    """Store the hash of a new token for `user`, revoking the live ones of the same purpose
    (a new link or code invalidates the previous one) unless the caller has (`revoked`)."""
    if not revoked:
        revoke_tokens(user, purpose)
    now = utcnow()
    token = AccountToken(user_id=user.id, purpose=purpose, token_hash=token_hash(secret), created_at=now,
                         expires_at=now + current_app.config[LIFETIME_SETTINGS[purpose]],
                         created_by_id=by.id if by is not None else None)
    db.session.add(token)
    return token


def revoke_tokens(user: User | None, *purposes: str) -> None:
    """End the live tokens of `user` (of these purposes, or all): called whenever the
    password changes, so that an older link or code never sets it again. With None, the
    same statement on no row (see accounts.recovery.request_password_reset)."""
    user_id = user.id if user is not None else None
    stmt = update(AccountToken).where(AccountToken.user_id == user_id, AccountToken.used_at.is_(None),
                                      AccountToken.revoked_at.is_(None))
    if purposes:
        stmt = stmt.where(AccountToken.purpose.in_(purposes))
    db.session.execute(stmt.values(revoked_at=utcnow()), execution_options={"synchronize_session": False})


def find_live(secret: str | None, purposes: tuple[str, ...], *, user: User | None = None) -> AccountToken | None:
    """The live token (unused, not revoked, not expired) whose secret this is, or None."""
    if not secret or len(secret) > 200 or not secret.isprintable():
        return None
    wanted = token_hash(secret)
    stmt = select(AccountToken).where(AccountToken.token_hash == wanted, AccountToken.purpose.in_(purposes))
    if user is not None:
        stmt = stmt.where(AccountToken.user_id == user.id)
    token = db.session.scalar(stmt)
    if token is None or not hmac.compare_digest(token.token_hash, wanted):
        return None
    if token.used_at is not None or token.revoked_at is not None or token.expires_at <= utcnow():
        return None
    return token


def purge(now: datetime | None = None) -> int:
    """Delete tokens ended (used, revoked or expired) more than ACCOUNT_TOKEN_RETENTION ago,
    and the throttling records past their window: `flask retention apply`."""
    now = now or utcnow()
    config = current_app.config
    before = now - config["ACCOUNT_TOKEN_RETENTION"]
    tokens = db.session.execute(delete(AccountToken).where(or_(
        AccountToken.expires_at < before, AccountToken.used_at < before, AccountToken.revoked_at < before))
    ).rowcount
    window = max(config["PASSWORD_RESET_THROTTLE_WINDOW"], config["LOGIN_THROTTLE_WINDOW"], timedelta(days=1))
    db.session.execute(delete(AccountRequest).where(AccountRequest.requested_at < now - window))
    return tokens
