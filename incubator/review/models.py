from __future__ import annotations

from datetime import date, datetime
from typing import Any

from markupsafe import Markup
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..people.models import User
from ..proposals.models import Proposal
from ..statemachine import State
from ..text import badge
from ..timeutil import to_paris, utcnow
from . import lifecycle

DECISION_RULES = {
    "majority": "Majorité des suffrages exprimés",
    "consent": "Consentement (adoptée sauf objection motivée)",
}
DEFAULT_INELIGIBILITY_REASONS = [
    "Relève d'une décision budgétaire de l'assemblée délibérante",
    "Relève d'une délégation de service public ou d'un contrat en cours",
    "Réforme décidée par ailleurs (nationale ou par l'exécutif)",
    "Doublon d'une proposition existante",
    "Hors du champ de compétence de la collectivité",
]
DUPLICATE_REASON = "Doublon d'une proposition existante"
SCORE_LABELS = {
    1: "très insuffisant",
    2: "insuffisant",
    3: "correct",
    4: "bon",
    5: "excellent",
}
OBJECTION = "objection"  # the choice that must give its reason, and is recorded with it
CHOICES = {
    "majority": {"for": "Pour", "against": "Contre", "abstain": "Abstention"},
    "consent": {"consent": "Je consens", OBJECTION: "Objection (motivée)"},
}
OUTCOME_LABELS = {
    "eligible": "Recevable : instruction ouverte",
    "not_eligible": "Non recevable",
    "accepted": "Retenue",
    "rejected": "Non retenue",
    "changes_requested": "Modifications demandées",
    # A correction of a vote's outcome: the proposal goes back to review for a new vote.
    "reopened": "Corrigée : nouveau vote à venir",
}
OUTCOME_TONES = {"eligible": "info", "not_eligible": "danger", "accepted": "success",
                 "rejected": "danger", "changes_requested": "warning", "reopened": "warning"}


class ReviewSettings(db.Model):
    """The collective's published rules, one row per institution."""

    __tablename__ = "review_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), unique=True)
    decision_rule: Mapped[str] = mapped_column(String(20), default="majority")
    quorum_percent: Mapped[int] = mapped_column(Integer, default=50)
    votes_public: Mapped[bool] = mapped_column(Boolean, default=False)
    target_days: Mapped[int] = mapped_column(Integer, default=60)
    ineligibility_reasons: Mapped[list[str]] = mapped_column(
        JSON, default=lambda: list(DEFAULT_INELIGIBILITY_REASONS))

    @property
    def rule_label(self) -> str:
        return DECISION_RULES[self.decision_rule]

    @property
    def takes_objections(self) -> bool:
        """The rule offers the reasoned objection (the vote form then asks its reason)."""
        return OBJECTION in CHOICES[self.decision_rule]


class Criterion(db.Model):
    __tablename__ = "criteria"
    __table_args__ = (CheckConstraint("weight BETWEEN 1 AND 10", name="weight"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    weight: Mapped[int] = mapped_column(Integer, default=1)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Conflict(db.Model):
    """A member's declared conflict of interest on a proposal (visible to the collective)."""

    __tablename__ = "conflicts"
    __table_args__ = (UniqueConstraint("proposal_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship()


class Assessment(db.Model):
    __tablename__ = "assessments"
    __table_args__ = (
        UniqueConstraint("proposal_id", "user_id"),
        # An agent's assessments of a period (HR report, engagement.queries): read from
        # the index alone, not one row per assessment the member ever wrote. It replaces
        # the index on user_id alone (0019), which PostgreSQL kept choosing, then
        # filtering the rows by date.
        Index("ix_assessments_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))  # ix_assessments_user_created
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship()
    scores: Mapped[list[AssessmentScore]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan")


class AssessmentScore(db.Model):
    __tablename__ = "assessment_scores"
    __table_args__ = (
        UniqueConstraint("assessment_id", "criterion_id"),
        CheckConstraint("score BETWEEN 1 AND 5", name="score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id"))
    score: Mapped[int] = mapped_column(Integer)

    assessment: Mapped[Assessment] = relationship(back_populates="scores")


class ReviewSession(db.Model):
    __tablename__ = "review_sessions"
    __table_args__ = (Index("ix_review_sessions_institution_at", "institution_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    place: Mapped[str] = mapped_column(String(200), default="")
    video_link: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    items: Mapped[list[AgendaItem]] = relationship(
        back_populates="session", order_by="AgendaItem.position")

    @property
    def day(self) -> date:
        """The session's day in Paris: whose members vote, and whether it is past."""
        return to_paris(self.starts_at).date()


ITEM_STATUSES = lifecycle.ITEM_STATUSES


class AgendaItem(db.Model):
    __tablename__ = "agenda_items"
    __table_args__ = (UniqueConstraint("session_id", "proposal_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("review_sessions.id"), index=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    result: Mapped[str | None] = mapped_column(String(20))  # adopted, not_adopted, no_quorum
    tally: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    vote_opened_at: Mapped[datetime | None] = mapped_column(DateTime)
    vote_closed_at: Mapped[datetime | None] = mapped_column(DateTime)

    session: Mapped[ReviewSession] = relationship(back_populates="items")
    proposal: Mapped[Proposal] = relationship()

    @property
    def status_info(self) -> State:
        return lifecycle.ITEMS.info(self.status)

    @property
    def is_voting(self) -> bool:
        """Its vote is open: the table lets members vote from its state."""
        return lifecycle.ITEMS.transition(self.status, "vote") is not None

    @property
    def has_result(self) -> bool:
        """Its vote was closed and counted (the tally and result are stored; cleared when it
        is scheduled again)."""
        return self.result is not None and bool(self.tally)


class Attendance(db.Model):
    __tablename__ = "attendances"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("review_sessions.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)

    user: Mapped[User] = relationship()


class Vote(db.Model):
    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("item_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    choice: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship()

    @property
    def is_objection(self) -> bool:
        return self.choice == OBJECTION


class DecisionWording:
    """How a decision's outcome reads (label, badge tone), for the model and for the
    journal's rows (review.queries.JournalEntry): one wording."""

    outcome: str

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS[self.outcome]

    @property
    def outcome_tone(self) -> str:
        return OUTCOME_TONES[self.outcome]

    @property
    def outcome_badge(self) -> Markup:
        return badge(self.outcome_label, self.outcome_tone)


class Decision(DecisionWording, db.Model):
    """A published answer. Never edited: a correction is a new decision linked to it."""

    __tablename__ = "decisions"
    __table_args__ = (
        UniqueConstraint("item_id"),
        Index("ix_decisions_institution_at", "institution_id", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_items.id"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("review_sessions.id"))
    kind: Mapped[str] = mapped_column(String(20))  # eligibility, session, correction
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(200), default="")  # ineligibility reason
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"))
    rationale: Mapped[str] = mapped_column(Text)
    tally: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    proposal: Mapped[Proposal] = relationship(foreign_keys=[proposal_id])
    duplicate_of: Mapped[Proposal | None] = relationship(foreign_keys=[duplicate_of_id])
    session: Mapped[ReviewSession | None] = relationship()
    decided_by: Mapped[User] = relationship()
    corrects: Mapped[Decision | None] = relationship(remote_side=[id])

    @hybrid_property
    def answers(self) -> bool:
        """An answer to the proposal: a session's outcome, or not eligible (an eligible
        proposal and a correction are still waiting for theirs). The same rule in SQL."""
        return self.kind == "session" or self.outcome == "not_eligible"

    @answers.inplace.expression
    @classmethod
    def _answers_expression(cls):
        return (cls.kind == "session") | (cls.outcome == "not_eligible")


class ProposalSubstitute(db.Model):
    """The agent an administrator designated to take the coordinator's actions on one
    proposal (its coordinators being recused on it). One per proposal: a new designation
    replaces the previous one, and each is in the proposal's public timeline."""

    __tablename__ = "proposal_substitutes"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    designated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    designated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    designated_by: Mapped[User] = relationship(foreign_keys=[designated_by_id])
