"""Immersions: agents' applications to published mobility offers, and each institution's
immersion limits."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..people.models import User
from ..projects.models import Project
from ..proposals.models import Proposal
from ..statemachine import State
from ..timeutil import utcnow
from .lifecycle import APPLICATIONS


class Application(db.Model):
    """An agent's application to a published mobility offer."""

    __tablename__ = "applications"
    __table_args__ = (UniqueConstraint("offer_id", "applicant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    motivation: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    working_days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    manager_reason: Mapped[str] = mapped_column(Text, default="")
    warnings: Mapped[str] = mapped_column(Text, default="")
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)

    offer: Mapped[Proposal] = relationship()
    applicant: Mapped[User] = relationship(foreign_keys=[applicant_id])
    manager: Mapped[User | None] = relationship(foreign_keys=[manager_id])
    project: Mapped[Project | None] = relationship()

    @property
    def status_info(self) -> State:
        return APPLICATIONS.info(self.status)

    @property
    def manager_refusal(self) -> str:
        """The N+1's reason, once they refused (their reason for consenting is not shown)."""
        return self.manager_reason if self.status == APPLICATIONS.target("refuse") else ""

    @property
    def is_internal(self) -> bool:
        """An immersion inside one employer: no agreement between two employers, only an
        internal sheet (the décret n° 2022-1043 frames immersions between employers)."""
        return self.applicant.institution_id == self.offer.institution_id


# How the legal limits of the période d'immersion professionnelle are enforced.
LIMITS_MODES = {
    "refuse": "Refuser la candidature hors des limites",
    "warn": "Avertir seulement : la candidature est enregistrée avec l'écart signalé au N+1 et au service d'accueil",
}
# An internal immersion (inside one institution), in working days: the institution's bounds.
INTERNAL_DAYS_MIN, INTERNAL_DAYS_MAX = 1, 60


class ImmersionSettings(db.Model):
    """Per institution: how the période d'immersion professionnelle limits are enforced."""

    __tablename__ = "immersion_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), unique=True)
    limits_mode: Mapped[str] = mapped_column(String(10), default="refuse")  # or "warn"
    internal_min_days: Mapped[int] = mapped_column(Integer, default=1)
    internal_max_days: Mapped[int] = mapped_column(Integer, default=10)
    daily_hours: Mapped[int] = mapped_column(Integer, default=7)
