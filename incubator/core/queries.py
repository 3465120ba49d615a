"""What the home page shows: what needs me now, by role."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from ..collective.models import CollectiveMembership
from ..extensions import db
from ..organisation.models import OrgUnit
from ..people.models import User
from ..proposals.models import CoAuthor, Proposal
from ..timeutil import today_paris


@dataclass
class HomeSummary:
    reports_count: int = 0
    is_collective_member: bool = False
    collective_term_ends_on: object = None
    admin_counts: dict[str, int] = field(default_factory=dict)
    drafts: int = 0
    to_revise: int = 0
    invitations: int = 0


def home_summary(user: User) -> HomeSummary:
    today = today_paris()
    summary = HomeSummary()
    summary.reports_count = db.session.scalar(
        select(func.count()).select_from(User)
        .where(User.manager_id == user.id, User.is_active.is_(True))
    )
    membership = db.session.scalars(
        select(CollectiveMembership).where(
            CollectiveMembership.user_id == user.id,
            CollectiveMembership.held_on(today),
        ).limit(1)
    ).first()
    if membership is not None:
        summary.is_collective_member = True
        summary.collective_term_ends_on = membership.ends_on
    row = db.session.execute(select(
        select(func.count()).select_from(Proposal)
        .where(Proposal.author_id == user.id, Proposal.state == "draft").scalar_subquery(),
        select(func.count()).select_from(Proposal)
        .where(Proposal.author_id == user.id, Proposal.state == "changes_requested").scalar_subquery(),
        select(func.count()).select_from(CoAuthor)
        .where(CoAuthor.user_id == user.id, CoAuthor.status == "invited").scalar_subquery(),
    )).one()
    summary.drafts, summary.to_revise, summary.invitations = row
    if user.has_role("admin"):
        row = db.session.execute(
            select(
                select(func.count()).select_from(User)
                .where(User.institution_id == user.institution_id, User.is_active.is_(True))
                .scalar_subquery(),
                select(func.count()).select_from(User)
                .where(User.institution_id == user.institution_id, User.is_active.is_(True),
                       User.manager_id.is_(None)).scalar_subquery(),
                select(func.count()).select_from(OrgUnit)
                .where(OrgUnit.institution_id == user.institution_id,
                       OrgUnit.closed_on.is_(None)).scalar_subquery(),
            )
        ).one()
        summary.admin_counts = {"agents": row[0], "without_manager": row[1], "units": row[2]}
    return summary
