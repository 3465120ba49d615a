"""Institutions (collectivités, établissements) and their tree of directions and services."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow

ORG_UNIT_KINDS = ("direction", "service")

ORG_UNIT_KIND_LABELS = {"direction": "Direction", "service": "Service"}

# « Fait à …, le … » on printed documents: the town is read from the institution's name when
# it names one (« Ville de Belleville-sur-Loire », « CCAS de Belleville-sur-Loire »); any
# other name (a département, an intercommunalité) is used whole. No separate field: the
# names of the collectivités that sign these documents carry their town in most cases, and
# a field nobody fills would print « Fait à , le ».
_TOWN_PREFIXES = ("ville de ", "ville d'", "ville d’", "commune de ", "commune d'", "commune d’", "mairie de ",
                  "mairie d'", "mairie d’", "ccas de ", "ccas d'", "ccas d’", "cias de ", "cias d'", "cias d’",
                  "centre communal d'action sociale de ", "centre communal d’action sociale de ",
                  "centre communal d'action sociale d'", "centre communal d’action sociale d’")


class Institution(db.Model):
    """A collectivité or établissement; several may share one instance."""

    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(80), default="commune")
    accent_color: Mapped[str] = mapped_column(String(7), default="#1f5f8b")
    # An institution setting (/admin/parametres): an agent's N+1 may read the agent's
    # engagement record (engagement.policy); off unless the administration turns it on.
    managers_see_engagement: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Drawn anew by the database (triggers, migration 0022) at each change of the units:
    # the unit tree read under a token stays right until it changes (engagement/units.py).
    org_units_token: Mapped[str] = mapped_column(String(32), default="", server_default="")

    org_units: Mapped[list[OrgUnit]] = relationship(back_populates="institution")

    @property
    def signing_place(self) -> str:
        """Where its documents are signed: « Belleville-sur-Loire » for « Ville de
        Belleville-sur-Loire », the whole name otherwise."""
        lowered = self.name.lower()
        for prefix in _TOWN_PREFIXES:
            if lowered.startswith(prefix) and len(self.name) > len(prefix):
                return self.name[len(prefix):].strip()
        return self.name

    def __repr__(self) -> str:
        return f"<Institution {self.slug}>"


class OrgUnit(db.Model):
    """A direction or a service; a tree per institution."""

    __tablename__ = "org_units"
    __table_args__ = (
        UniqueConstraint("institution_id", "code"),
        CheckConstraint("kind IN ('direction', 'service')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="service")
    closed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    institution: Mapped[Institution] = relationship(back_populates="org_units")
    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[OrgUnit]] = relationship(back_populates="parent")

    @property
    def is_open(self) -> bool:
        return self.closed_on is None

    @property
    def kind_label(self) -> str:
        return ORG_UNIT_KIND_LABELS.get(self.kind, self.kind)

    def __repr__(self) -> str:
        return f"<OrgUnit {self.code}>"
