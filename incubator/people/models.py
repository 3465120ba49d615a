"""Agents, their roles and their line managers (N+1)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..organisation.models import Institution, OrgUnit
from ..timeutil import utcnow

CATEGORIES = ("A", "B", "C")

CATEGORY_LABELS = {"A": "Catégorie A", "B": "Catégorie B", "C": "Catégorie C"}

ROLES = ("admin", "hr", "coordinator")

ROLE_LABELS = {
    "admin": "Administrateur·rice",
    "hr": "Gestionnaire RH",
    "coordinator": "Animateur·rice du collectif",
}


# The longest address a mailbox can have (RFC 5321), the login.
EMAIL_MAX = 254
# An identifier (matricule...) for agents without a professional address: sign-in name,
# unique on the instance, stored in lower case; never an "@", so that the sign-in field
# tells an address from an identifier.
LOGIN_ID_MAX = 64
LOGIN_ID_PATTERN = r"[a-z0-9][a-z0-9._-]{1,63}"

# Working-time ratio (quotité), in per cent: full time is QUOTITE_MAX, the default. The
# one range the column, the services, the import, the forms and the pages read.
QUOTITE_MIN, QUOTITE_MAX = 10, 100

# Lengths of what the directory sync stores (incubator/directory): the entry's stable key
# (entryUUID, or objectGUID written as a UUID) and the employee number (matricule).
DIRECTORY_KEY_MAX, EMPLOYEE_NUMBER_MAX = 255, 50


class User(db.Model):
    """An agent. 'Manager' is derived: whoever is someone's N+1."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("category IN ('A', 'B', 'C')", name="category"),
        CheckConstraint(f"quotite BETWEEN {QUOTITE_MIN} AND {QUOTITE_MAX}", name="quotite"),
        Index("ix_users_institution_name", "institution_id", "last_name", "first_name"),
        # An agent synced from the directory is found again by the entry's stable key.
        Index("ix_users_directory_key", "institution_id", "directory_key", unique=True),
        Index("uq_users_login_id", "login_id", unique=True),
    )
    # Facts other domains read on every page, computed by the query that resolves the
    # session (see accounts.sessions.register_session_fact); empty outside a request.
    session_facts: ClassVar[dict[str, Any]] = {}

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    # An agent has an address, an identifier (login_id), or both: see people.services.
    email: Mapped[str | None] = mapped_column(String(EMAIL_MAX), unique=True)
    login_id: Mapped[str | None] = mapped_column(String(LOGIN_ID_MAX))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    category: Mapped[str] = mapped_column(String(1))
    quotite: Mapped[int] = mapped_column(Integer, default=QUOTITE_MAX)
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_instance_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    deactivated_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Set by the directory sync only (None: created by hand or by CSV, never touched by it).
    directory_key: Mapped[str | None] = mapped_column(String(DIRECTORY_KEY_MAX))
    employee_number: Mapped[str | None] = mapped_column(String(EMPLOYEE_NUMBER_MAX))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    institution: Mapped[Institution] = relationship()
    org_unit: Mapped[OrgUnit | None] = relationship()
    manager: Mapped[User | None] = relationship(remote_side=[id], back_populates="reports")
    reports: Mapped[list[User]] = relationship(back_populates="manager")
    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    # Flask-Login protocol; the id is resolved through AuthSession, see accounts.sessions.
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)

    @hybrid_property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @full_name.inplace.expression
    @classmethod
    def _full_name_expression(cls):
        # The same name in SQL, for the lists that read rows rather than agents.
        return cls.first_name + " " + cls.last_name

    @property
    def login(self) -> str:
        """The name this agent signs in with (and is designated by in forms): the address,
        else the identifier."""
        return self.email or self.login_id or ""

    @property
    def is_part_time(self) -> bool:
        return self.quotite < QUOTITE_MAX

    @property
    def sort_name(self) -> str:
        return f"{self.last_name} {self.first_name}"

    @property
    def role_names(self) -> set[str]:
        return {r.role for r in self.roles if r.institution_id == self.institution_id}

    def has_role(self, role: str) -> bool:
        return role in self.role_names

    def __repr__(self) -> str:
        return f"<User {self.login}>"


class UserRole(db.Model):
    __tablename__ = "user_roles"
    __table_args__ = (
        UniqueConstraint("user_id", "institution_id", "role"),
        CheckConstraint("role IN ('admin', 'hr', 'coordinator')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))

    user: Mapped[User] = relationship(back_populates="roles")
    institution: Mapped[Institution] = relationship()


class ApprovalDelegation(db.Model):
    """A manager hands their approvals to another manager for a period (absence)."""

    __tablename__ = "approval_delegations"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    manager_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    delegate_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    manager: Mapped[User] = relationship(foreign_keys=[manager_id])
    delegate: Mapped[User] = relationship(foreign_keys=[delegate_id])
