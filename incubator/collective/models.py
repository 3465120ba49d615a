"""Terms of office in the collectif pilote."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    ForeignKey,
    and_,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..organisation.models import Institution
from ..people.models import User
from ..timeutil import utcnow


class CollectiveMembership(db.Model):
    """Membership of the collectif pilote for a term."""

    __tablename__ = "collective_memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship()
    institution: Mapped[Institution] = relationship()

    def is_current(self, on: date) -> bool:
        return self.starts_on <= on and (self.ends_on is None or self.ends_on >= on)

    @classmethod
    def overlapping(cls, start: date, end: date | None) -> ColumnElement[bool]:
        """SQL: the term meets the period `start`..`end` (`end` None: open, into the future)."""
        return and_(or_(cls.ends_on.is_(None), cls.ends_on >= start),
                    *([cls.starts_on <= end] if end is not None else []))

    @classmethod
    def held_on(cls, day: date) -> ColumnElement[bool]:
        """SQL: the term covers `day`. The one definition of "member of the collective on a day"."""
        return cls.overlapping(day, day)
