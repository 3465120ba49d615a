"""Read queries of the administration pages, each in a fixed number of SQL queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..accounts.queries import activation_clause
from ..audit.models import AuditEvent
from ..collective.models import CollectiveMembership
from ..extensions import db
from ..organisation.models import Institution, OrgUnit
from ..people.models import User, UserRole
from ..people.search import agent_search_clause
from ..text import like_pattern
from ..timeutil import paris_day_start


@dataclass
class UnitNode:
    unit: OrgUnit
    depth: int
    agents: int


def org_unit_tree(institution_id: int) -> list[UnitNode]:
    """Every unit in tree order (depth first, by name), with its active agents count."""
    counts = dict(db.session.execute(
        select(User.org_unit_id, func.count()).where(
            User.institution_id == institution_id, User.is_active.is_(True)
        ).group_by(User.org_unit_id)
    ).all())
    units = db.session.scalars(
        select(OrgUnit).where(OrgUnit.institution_id == institution_id).order_by(OrgUnit.name)
    ).all()
    children: dict[int | None, list[OrgUnit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    ordered: list[UnitNode] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for unit in children.get(parent_id, []):
            ordered.append(UnitNode(unit, depth, counts.get(unit.id, 0)))
            walk(unit.id, depth + 1)

    walk(None, 0)
    return ordered


def unit_choices(institution_id: int, *, empty: str | None, exclude_subtree_of: int | None = None,
                 open_only: bool = True) -> list[tuple[str, str]]:
    """(value, label) for a select of units, indented by depth, in tree order. One light
    query (columns, not objects): a large institution has close to a thousand units."""
    rows = db.session.execute(
        select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.name, OrgUnit.code, OrgUnit.closed_on)
        .where(OrgUnit.institution_id == institution_id).order_by(OrgUnit.name)).all()
    children: dict[int | None, list] = {}
    for unit_id, parent_id, name, code, closed_on in rows:
        children.setdefault(parent_id, []).append((unit_id, f"{name} ({code})", closed_on is not None))
    choices = [("", empty)] if empty is not None else []

    def walk(parent_id: int | None, indent: str) -> None:
        for unit_id, label, closed in children.get(parent_id, ()):
            if unit_id == exclude_subtree_of:
                continue  # the unit itself and everything under it
            if not (open_only and closed):
                choices.append((str(unit_id), indent + label))
            if unit_id in children:
                walk(unit_id, indent + "\u2003")

    walk(None, "")
    return choices


@dataclass
class AgentFilters:
    q: str = ""
    org_unit_id: int | None = None
    category: str = ""
    role: str = ""
    status: str = "active"
    activation: str = ""  # a code of accounts.queries.ACTIVATION_FILTERS, or all


def agents_query(institution_id: int, filters: AgentFilters):
    stmt = (
        select(User)
        .where(User.institution_id == institution_id)
        .options(selectinload(User.roles), selectinload(User.org_unit),
                 selectinload(User.manager))
        .order_by(User.last_name, User.first_name, User.id)
    )
    if filters.q:
        stmt = stmt.where(agent_search_clause(filters.q))
    if filters.org_unit_id:
        stmt = stmt.where(User.org_unit_id == filters.org_unit_id)
    if filters.category:
        stmt = stmt.where(User.category == filters.category)
    if filters.role:
        stmt = stmt.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == filters.role)))
    if filters.status == "active":
        stmt = stmt.where(User.is_active.is_(True))
    elif filters.status == "inactive":
        stmt = stmt.where(User.is_active.is_(False))
    if filters.activation:
        stmt = stmt.where(activation_clause(filters.activation))
    return stmt


def memberships(institution_id: int, today: date) -> tuple[list, list]:
    rows = db.session.scalars(
        select(CollectiveMembership)
        .where(CollectiveMembership.institution_id == institution_id)
        .options(selectinload(CollectiveMembership.user).selectinload(User.org_unit))
        .order_by(CollectiveMembership.starts_on.desc())
    ).all()
    current = [m for m in rows if m.is_current(today) or m.starts_on > today]
    past = [m for m in rows if m not in current]
    current.sort(key=lambda m: (m.user.last_name, m.user.first_name))
    return current, past


@dataclass
class AuditFilters:
    action: str = ""
    actor: str = ""
    since: date | None = None
    until: date | None = None


def audit_query(institution_id: int, filters: AuditFilters):
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.institution_id == institution_id)
        .options(selectinload(AuditEvent.actor))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )
    if filters.action:
        stmt = stmt.where(AuditEvent.action == filters.action)
    if filters.actor:
        stmt = stmt.where(AuditEvent.actor_id.in_(
            select(User.id).where(func.lower(User.email).like(like_pattern(filters.actor.lower()), escape="\\"))
        ))
    if filters.since:
        stmt = stmt.where(AuditEvent.created_at >= paris_day_start(filters.since))
    if filters.until:
        stmt = stmt.where(AuditEvent.created_at < paris_day_start(filters.until + timedelta(days=1)))
    return stmt


def institutions_with_counts() -> list[tuple[Institution, int]]:
    counts = (
        select(User.institution_id, func.count().label("n"))
        .where(User.is_active.is_(True)).group_by(User.institution_id).subquery()
    )
    return db.session.execute(
        select(Institution, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.institution_id == Institution.id)
        .order_by(Institution.name)
    ).all()
