from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..people.models import User
from ..projects.models import Project
from ..statemachine import State
from ..timeutil import utcnow
from . import lifecycle

ANNUAL_HOURS = 1607  # reference working time of a full-time agent (hours a year)
# The monthly cap: a share (in %) of the agent's monthly working time, 1,607 h a year x
# quotité / 12; 20 % unless the institution sets another share, 40 % at most (DESIGN §4.3).
CAP_PERCENT_MIN, CAP_PERCENT_DEFAULT, CAP_PERCENT_MAX = 1, 20, 40
# A full-time working day (minutes): it bounds a day's release time (x quotité). From 5 h
# to 10 h (the legal daily maximum), in quarter hours like the week's grid.
DAY_MINUTES_MIN, DAY_MINUTES_DEFAULT, DAY_MINUTES_MAX = 300, 420, 600

STATUSES = lifecycle.STATUSES


class ReleaseSettings(db.Model):
    __tablename__ = "release_settings"
    __table_args__ = (CheckConstraint(f"monthly_cap_percent BETWEEN {CAP_PERCENT_MIN} AND {CAP_PERCENT_MAX}",
                                      name="cap"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), unique=True)
    monthly_cap_percent: Mapped[int] = mapped_column(Integer, default=CAP_PERCENT_DEFAULT)
    daily_minutes_full_time: Mapped[int] = mapped_column(Integer, default=DAY_MINUTES_DEFAULT)  # 7 h


class TimeEntry(db.Model):
    """Minutes released on one project, one day. Approved entries are frozen: a correction
    is a new entry that refers to the one it corrects, and goes through approval again."""

    __tablename__ = "time_entries"
    __table_args__ = (
        CheckConstraint("minutes >= 0 AND minutes <= 1440 AND minutes % 15 = 0", name="minutes"),
        CheckConstraint("status IN ('planned', 'draft', 'submitted', 'approved', 'refused')", name="status"),
        Index("ix_time_entries_user_day", "user_id", "day"),
        Index("ix_time_entries_status_user", "status", "user_id"),
        # Approved hours of a set of agents over a period, summed by project from the index
        # alone (HR report and export, engagement pages: engagement.queries).
        # The id too: PostgreSQL's indexes do not hold it (SQLite's do), and "not replaced by
        # a correction" reads it; without it PostgreSQL scans the table.
        Index("ix_time_entries_user_approved", "user_id", "status", "day", "project_id", "minutes", "id"),
        # The same for a whole institution (dashboard: hours by direction and by month).
        Index("ix_time_entries_institution_approved", "institution_id", "status", "day", "user_id", "minutes",
              "id"),
        # Partial: almost no entry is a correction, and with a full index the planner's
        # statistics (ANALYZE) make "is this entry corrected?" look like a table scan.
        Index("ix_time_entries_corrections", "corrects_id",
              sqlite_where=text("corrects_id IS NOT NULL"), postgresql_where=text("corrects_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(12), default="draft")
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("time_entries.id"))
    refusal_reason: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    project: Mapped[Project] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def hours(self) -> float:
        return self.minutes / 60

    @property
    def status_info(self) -> State:
        return lifecycle.ENTRIES.info(self.status)

    @property
    def is_refused(self) -> bool:
        """Refused by the N+1: shown with the reason until the agent corrects it."""
        return self.status == lifecycle.REFUSED


class ApprovedMonth(db.Model):
    """Approved minutes of one agent in one month (« 2026-03 »), for one institution: the
    approved entries not replaced by an approved correction, summed. Kept in step by
    release_time.totals in the transaction that approves entries, so the dashboard sums
    thousands of these instead of hundreds of thousands of entries (issue 21)."""

    __tablename__ = "approved_months"
    __table_args__ = (
        # The dashboard: an institution's months of a period, summed by month (in the index's
        # order) and by agent, from the index alone. An index by agent first would read every
        # month of the institution to keep a year's.
        Index("ix_approved_months_institution_month", "institution_id", "month", "user_id", "minutes"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), primary_key=True)
    minutes: Mapped[int] = mapped_column(Integer)


class CapOverride(db.Model):
    """The N+1 lets an agent exceed the monthly cap for one month (recorded)."""

    __tablename__ = "cap_overrides"
    __table_args__ = (UniqueConstraint("user_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    month: Mapped[date] = mapped_column(Date)  # first day of the month
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


