"""Logins: server-side sessions and login attempts (for throttling)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..organisation.models import Institution
from ..people.models import EMAIL_MAX, User
from ..timeutil import utcnow


class AuthSession(db.Model):
    """Server-side record of a login, so that logout, deactivation and password
    changes end sessions at once in every worker."""

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    ip_address: Mapped[str | None] = mapped_column(String(45))

    user: Mapped[User] = relationship()


class LoginAttempt(db.Model):
    """Failed and successful logins, for throttling across workers."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "attempted_at"),
        Index("ix_login_attempts_ip_at", "ip_address", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    ip_address: Mapped[str] = mapped_column(String(45))
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    attempted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ExternalIdentity(db.Model):
    """An agent's account at an OpenID Connect provider: (issuer, subject) finds the agent
    at every sign-in after the first (ProConnect's subject differs per service, and is not
    the email). Nothing else from the provider is stored."""

    __tablename__ = "external_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()


# A SIRET: 14 digits (SIREN of the institution, then the establishment's number).
SIRET_LENGTH = 14
EMAIL_DOMAINS_MAX = 500


class SignInSettings(db.Model):
    """How an institution's agents sign in (page /admin/parametres/connexion). Without a
    row, the defaults: no SIRET or domain (single sign-on finds nobody by email), no
    account created, passwords accepted."""

    __tablename__ = "sign_in_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), unique=True)
    # The institution's SIRET (ProConnect's `siret` claim) and its agents' email domains
    # (space separated): how a first sign-in finds the institution.
    siret: Mapped[str | None] = mapped_column(String(SIRET_LENGTH), unique=True)
    email_domains: Mapped[str] = mapped_column(String(EMAIL_DOMAINS_MAX), default="")
    # An agent unknown here who signs in through the provider gets an account (no unit).
    provisions_agents: Mapped[bool] = mapped_column(Boolean, default=False)
    # Agents (administrators aside) may sign in with a password.
    agents_use_passwords: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    institution: Mapped[Institution] = relationship()

    @classmethod
    def of(cls, institution_id: int) -> SignInSettings | None:
        return db.session.scalar(select(cls).where(cls.institution_id == institution_id))

    @property
    def domains(self) -> list[str]:
        return (self.email_domains or "").split()


# What a single-use account token is for: the link of a password reset (« mot de passe
# oublié »), the link of an invitation, the code of a printed activation sheet.
TOKEN_PURPOSES = ("reset", "invitation", "sheet")


class AccountToken(db.Model):
    """A single-use secret sent or handed to an agent: only its keyed hash is stored (see
    accounts.tokens). Live while unused, not revoked and not expired; revoked by a newer
    token of the same purpose and by any change of the password."""

    __tablename__ = "account_tokens"
    __table_args__ = (
        CheckConstraint("purpose IN ('reset', 'invitation', 'sheet')", name="purpose"),
        Index("ix_account_tokens_user_purpose", "user_id", "purpose", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    purpose: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class AccountRequest(db.Model):
    """Requests that throttling counts: a reset asked for an address ("reset"), a wrong
    activation code typed for an identifier ("code"). `key` is what was typed, normalised,
    whether or not an account has it."""

    __tablename__ = "account_requests"
    __table_args__ = (
        Index("ix_account_requests_key_at", "kind", "key", "requested_at"),
        Index("ix_account_requests_ip_at", "kind", "ip_address", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(EMAIL_MAX))
    ip_address: Mapped[str] = mapped_column(String(45))
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
