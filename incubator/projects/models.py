from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple

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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..extensions import db
from ..immersions import lifecycle as immersion_lifecycle
from ..organisation.models import OrgUnit
from ..people.models import User
from ..proposals.models import Proposal
from ..statemachine import Worded
from ..text import normalise
from ..timeutil import utcnow
from . import lifecycle

KIND_LABELS = {"initiative": "Projet", "immersion": "Immersion"}


class TeamMember(NamedTuple):
    """A member's line of the team as the project page reads it (queries.load_project_for_page),
    with the attributes of ProjectMember that the page and the guards use."""
    user_id: int
    role: str
    hours_budget: int
    full_name: str


class ProjectWording(Worded):
    """How a project's state and kind read, for the model and for the portfolio's rows
    (projects.queries.PortfolioCard): one wording."""

    WORDED_STATES = lifecycle.STATES
    WORDED_KINDS = KIND_LABELS

    @property
    def is_closed(self) -> bool:
        return self.state_info.is_closed


class Project(ProjectWording, db.Model):
    __tablename__ = "projects"
    # The team as rows (list[TeamMember]) when the page loaded it so, members then left
    # unloaded; see `team`. Not annotated: a plain attribute, not a column.
    loaded_team = None
    __table_args__ = (
        CheckConstraint("kind IN ('initiative', 'immersion')", name="kind"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress"),
        # The portfolio, newest change first, with or without a state filter.
        Index("ix_projects_portfolio", "institution_id", "state_changed_at"),
        Index("ix_projects_portfolio_state", "institution_id", "state", "state_changed_at"),
        # The dashboard's projects and teams of a period, read from the index alone (0024).
        Index("ix_projects_dashboard", "institution_id", "state", "kind", "state_changed_at", "starts_on",
              "ends_on", "id"),
        # What the HR figures check of each project an agent takes part in (running in the
        # period, its kind), read by key from the index, not from the wide row (0025).
        Index("ix_projects_running", "id", "state", "kind", "starts_on", "ends_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    kind: Mapped[str] = mapped_column(String(20), default="initiative")
    state: Mapped[str] = mapped_column(String(20), default="framing")
    title: Mapped[str] = mapped_column(String(200))
    # The title lowercase and accent-free (text.normalise), set with it: the portfolio's
    # search compares words so, on both backends (« élodie » finds « Élodie »).
    search_text: Mapped[str] = mapped_column(String(200), default="", server_default="")
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"), index=True)
    sponsor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    host_org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    objectives: Mapped[str] = mapped_column(Text, default="")
    indicators: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    hold_reason: Mapped[str] = mapped_column(Text, default="")
    charter_validated_at: Mapped[datetime | None] = mapped_column(DateTime)
    charter_validated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    state_changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    proposal: Mapped[Proposal | None] = relationship()
    sponsor: Mapped[User | None] = relationship(foreign_keys=[sponsor_id])
    lead: Mapped[User | None] = relationship(foreign_keys=[lead_id])
    host_org_unit: Mapped[OrgUnit | None] = relationship()
    charter_validated_by: Mapped[User | None] = relationship(foreign_keys=[charter_validated_by_id])
    members: Mapped[list[ProjectMember]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProjectMember.id")
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="project", cascade="all, delete-orphan",
        order_by="(Milestone.due_on, Milestone.id)")

    @validates("title")
    def _title_searchable(self, _key: str, title: str) -> str:
        self.search_text = normalise(title)
        return title

    @property
    def is_on_hold(self) -> bool:
        return self.state == lifecycle.ON_HOLD

    @property
    def team(self) -> list[TeamMember] | list[ProjectMember]:
        """The members, each with user_id, role, hours_budget and full_name: the rows the
        page loaded, else the mapped members (whose names load with their agents)."""
        return self.loaded_team if self.loaded_team is not None else self.members

    def has_member(self, user_id: int) -> bool:
        return any(m.user_id == user_id for m in self.team)

    def capacities(self, user) -> set[str]:
        if user is None or not getattr(user, "is_authenticated", False) or user.institution_id != self.institution_id:
            return set()
        found = set()
        if user.id == self.lead_id:
            found.add(lifecycle.LEAD)
        if user.id == self.sponsor_id:
            found.add(lifecycle.SPONSOR)
        if self.has_member(user.id):
            found.add(lifecycle.MEMBER)
        if user.has_role("coordinator"):
            found.add(lifecycle.COORDINATOR)
        return found


HOURS_BUDGET_MAX = 2000  # a member's released hours in the charter


class ProjectMember(db.Model):
    __tablename__ = "project_members"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),
                      CheckConstraint(f"hours_budget BETWEEN 0 AND {HOURS_BUDGET_MAX}", name="hours_budget"),
                      # An agent's projects from the index alone (HR figures, 0025).
                      Index("ix_project_members_user_project", "user_id", "project_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(120), default="Membre de l'équipe")
    hours_budget: Mapped[int] = mapped_column(Integer, default=0)

    project: Mapped[Project] = relationship(back_populates="members")
    user: Mapped[User] = relationship()

    @property
    def full_name(self) -> str:
        return self.user.full_name


class MilestoneDates:
    """When a milestone is late, for the model and for the rows the pages list
    (projects.queries.MilestoneLine): one rule."""

    due_on: date
    done_on: date | None

    def is_overdue(self, today: date) -> bool:
        return self.done_on is None and self.due_on < today


class Milestone(MilestoneDates, db.Model):
    __tablename__ = "milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)
    overdue_notified_on: Mapped[date | None] = mapped_column(Date)

    project: Mapped[Project] = relationship(back_populates="milestones")


class ProgressUpdate(db.Model):
    __tablename__ = "progress_updates"
    __table_args__ = (CheckConstraint("progress BETWEEN 0 AND 100", name="progress"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    progress: Mapped[int] = mapped_column(Integer)
    indicator_values: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    author: Mapped[User] = relationship()


class Retrospective(db.Model):
    """Retour d'expérience: required to close a project, public."""

    __tablename__ = "retrospectives"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), unique=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    worked: Mapped[str] = mapped_column(Text)
    did_not_work: Mapped[str] = mapped_column(Text)
    reusable: Mapped[str] = mapped_column(Text)
    indicators_reached: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    author: Mapped[User] = relationship()


APPLICATION_STATUSES = immersion_lifecycle.APPLICATION_STATUSES


