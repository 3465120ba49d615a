from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
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
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..organisation.models import Institution, OrgUnit
from ..people.models import User
from ..statemachine import Worded
from ..timeutil import utcnow
from . import lifecycle

KINDS = ("initiative", "mobility")
KIND_LABELS = {"initiative": "Initiative", "mobility": "Offre d'immersion"}
OPEN_TO_LABELS = {
    "institution": "Agents de la collectivité",
    "partners": "Agents de la collectivité et des collectivités partenaires de l'instance",
}

# The text of a proposal, copied into each version.
INITIATIVE_FIELDS = ("problem", "change", "beneficiaries", "gain", "needs")
MOBILITY_FIELDS = ("mission", "learning", "contribution", "duration_days", "window_starts_on",
                   "window_ends_on", "places", "open_to", "host_org_unit_id", "contact_id")
CONTENT_FIELDS = ("title", "theme_id") + INITIATIVE_FIELDS + MOBILITY_FIELDS


class Theme(db.Model):
    """Institution-configurable list of themes."""

    __tablename__ = "themes"
    __table_args__ = (UniqueConstraint("institution_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    institution: Mapped[Institution] = relationship()


class _Content:
    """Columns shared by a proposal and each of its versions."""

    title: Mapped[str] = mapped_column(String(200))
    problem: Mapped[str] = mapped_column(Text, default="")
    change: Mapped[str] = mapped_column(Text, default="")
    beneficiaries: Mapped[str] = mapped_column(Text, default="")
    gain: Mapped[str] = mapped_column(Text, default="")
    needs: Mapped[str] = mapped_column(Text, default="")
    mission: Mapped[str] = mapped_column(Text, default="")
    learning: Mapped[str] = mapped_column(Text, default="")
    contribution: Mapped[str] = mapped_column(Text, default="")
    duration_days: Mapped[int | None] = mapped_column(Integer)
    window_starts_on: Mapped[date | None] = mapped_column(Date)
    window_ends_on: Mapped[date | None] = mapped_column(Date)
    places: Mapped[int | None] = mapped_column(Integer)
    open_to: Mapped[str | None] = mapped_column(String(20))


class ProposalWording(Worded):
    """How a proposal's step and kind read, for the model and for the rows the lists show
    (proposals.queries.ProposalCard): one wording."""

    WORDED_STATES = lifecycle.STATES
    WORDED_KINDS = KIND_LABELS


class Proposal(ProposalWording, _Content, db.Model):
    __tablename__ = "proposals"
    __table_args__ = (
        CheckConstraint("kind IN ('initiative', 'mobility')", name="kind"),
        Index("ix_proposals_board", "institution_id", "submitted_at"),
        # The author too: the dashboard's backlog counts the open proposals' authors from it.
        Index("ix_proposals_institution_state", "institution_id", "state", "state_changed_at", "author_id"),
        Index("ix_proposals_institution_support", "institution_id", "support_count"),
        # The board's filters (step, theme) counted from the index alone.
        Index("ix_proposals_board_state_theme", "institution_id", "state", "theme_id", "submitted_at"),
        Index("ix_proposals_board_theme", "institution_id", "theme_id", "submitted_at"),
        Index("ix_proposals_board_kind", "institution_id", "kind", "submitted_at"),
        # The board's filters checked on each match of a search, without reading the wide row
        # (search.newest_matching_all).
        Index("ix_proposals_search_rows", "id", "institution_id", "submitted_at", "kind", "state", "theme_id",
              "org_unit_id"),
        # The dashboard's figures on a period's proposals, time to answer included, read
        # from the index alone (migration 0024).
        Index("ix_proposals_dashboard", "institution_id", "submitted_at", "state", "author_id", "theme_id",
              "org_unit_id", "first_answered_at", "id"),
        # An agent's proposals: by author, and those of a period with their outcome read
        # from the index alone (the HR figures, engagement.queries; migration 0021).
        Index("ix_proposals_author_submitted", "author_id", "submitted_at", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(30), default="draft")
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The author's org unit when the proposal was created (the host unit for an offer),
    # so that the board's filter does not move when the author changes service.
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id"), index=True)
    host_org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version_number: Mapped[int] = mapped_column(Integer, default=0)
    support_count: Mapped[int] = mapped_column(Integer, default=0)
    comment_count: Mapped[int] = mapped_column(Integer, default=0)
    # Lowercase, accent-free title + text + authors, for the same search on both backends.
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    # When its first answer was published (a session's decision, or not eligible), kept by
    # review.decisions.record: the dashboard's time to answer without reading the decisions.
    first_answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    state_changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    institution: Mapped[Institution] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    contact: Mapped[User | None] = relationship(foreign_keys=[contact_id])
    org_unit: Mapped[OrgUnit | None] = relationship(foreign_keys=[org_unit_id])
    host_org_unit: Mapped[OrgUnit | None] = relationship(foreign_keys=[host_org_unit_id])
    theme: Mapped[Theme | None] = relationship()
    coauthors: Mapped[list[CoAuthor]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="CoAuthor.id"
    )

    @property
    def is_mobility(self) -> bool:
        return self.kind == "mobility"

    @property
    def accepted_coauthors(self) -> list[User]:
        return [c.user for c in self.coauthors if c.status == "accepted"]

    def capacities(self, user) -> set[str]:
        """What `user` is to this proposal, in the lifecycle table's terms: author or
        co-author. The coordinator's capacity depends on recusal and substitutes: it is
        granted by review.policy, never from the role alone."""
        if user is None or not getattr(user, "is_authenticated", False):
            return set()
        if user.institution_id != self.institution_id:
            return set()
        found: set[str] = set()
        if user.id == self.author_id:
            found.add(lifecycle.AUTHOR)
        if any(c.user_id == user.id and c.status == "accepted" for c in self.coauthors):
            found.add(lifecycle.COAUTHOR)
        return found

    def is_author_side(self, user) -> bool:
        """Author or accepted co-author: may not back their own proposal."""
        return bool(self.capacities(user) & {lifecycle.AUTHOR, lifecycle.COAUTHOR})


class ProposalVersion(_Content, db.Model):
    """The text as submitted: version 1 at submission, one more at each resubmission."""

    __tablename__ = "proposal_versions"
    __table_args__ = (UniqueConstraint("proposal_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id"))
    host_org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    submitted_by: Mapped[User] = relationship(foreign_keys=[submitted_by_id])
    theme: Mapped[Theme | None] = relationship()
    host_org_unit: Mapped[OrgUnit | None] = relationship()
    contact: Mapped[User | None] = relationship(foreign_keys=[contact_id])


class CoAuthor(db.Model):
    """An invitation to co-author; shown as co-author only once accepted."""

    __tablename__ = "proposal_coauthors"
    __table_args__ = (
        UniqueConstraint("proposal_id", "user_id"),
        CheckConstraint("status IN ('invited', 'accepted', 'declined')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="invited")
    invited_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    responded_at: Mapped[datetime | None] = mapped_column(DateTime)

    proposal: Mapped[Proposal] = relationship(back_populates="coauthors")
    user: Mapped[User] = relationship()


class Support(db.Model):
    __tablename__ = "supports"
    __table_args__ = (UniqueConstraint("proposal_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Comment(db.Model):
    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_proposal_at", "proposal_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    hidden_at: Mapped[datetime | None] = mapped_column(DateTime)
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hidden_reason: Mapped[str | None] = mapped_column(Text)

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    hidden_by: Mapped[User | None] = relationship(foreign_keys=[hidden_by_id])
