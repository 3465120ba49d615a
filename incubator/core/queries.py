"""What the home page shows besides the inbox (incubator/inbox): the administration's figures."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from ..extensions import db
from ..organisation.models import OrgUnit
from ..people.models import User


@dataclass
class HomeSummary:
    admin_counts: dict[str, int] = field(default_factory=dict)


def home_summary(user: User) -> HomeSummary:
    summary = HomeSummary()
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
