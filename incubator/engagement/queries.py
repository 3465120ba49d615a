"""Engagement figures, computed with aggregate SQL for a set of agents at once: the page of
an HR list, a batch of an export, or one agent. No per-agent loops over the database.
PostgreSQL plans for a batch of 500 agents: docs/plans/hr-figures.txt (bench/plans.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import (
    ARRAY,
    JSON,
    Integer,
    Select,
    String,
    and_,
    any_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import selectinload

from ..collective.models import CollectiveMembership
from ..dbutil import prebuilt
from ..extensions import db
from ..immersions.models import Application
from ..organisation.models import OrgUnit
from ..people.models import User
from ..people.search import agent_search_condition
from ..projects.models import Project, ProjectMember
from ..proposals.models import CoAuthor, Proposal
from ..release_time.models import TimeEntry
from ..release_time.totals import counted
from ..review.models import Assessment, Attendance, ReviewSession
from ..text import like_pattern
from ..timeutil import paris_day_start
from .policy import managers_option_refusal
from .units import UnitTree

OUTCOME_KEYS = ("accepted", "rejected", "changes_requested", "not_eligible", "withdrawn", "pending")


@dataclass
class Period:
    start: date
    end: date  # included

    @property
    def start_at(self) -> datetime:
        return paris_day_start(self.start)

    @property
    def end_at(self) -> datetime:
        return paris_day_start(self.end + timedelta(days=1))

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))


@dataclass
class Figures:
    hours_total: float = 0.0
    hours_by_project: list[tuple[int, str, float]] = field(default_factory=list)
    roles: dict[str, int] = field(default_factory=lambda: {"sponsor": 0, "lead": 0, "member": 0})
    proposals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOME_KEYS, 0))
    immersions_made: int = 0
    immersions_hosted: int = 0
    collective_months: int = 0
    sessions_attended: int = 0
    assessments: int = 0

    @property
    def proposals_total(self) -> int:
        return sum(self.proposals.values())


# The statements below are built once per process, with every value a bound parameter:
# the HR list rebuilds them for each page of fifty agents and each export batch, and
# building (not running) them was the largest cost of the page.
# The batch's agents are one parameter, whatever their number: on PostgreSQL an array
# (`= ANY(%(uids)s)`), on SQLite a JSON list read by json_each (`IN (SELECT value FROM
# json_each(?))`). A list of 500 rendered as 500 placeholders, in each of the counts' seven
# branches, was re-rendered by SQLAlchemy at each batch and, on PostgreSQL, re-parsed by
# psycopg (its cache of parsed queries stops at 4 kB) and by the server: 0.6 s of the
# 20,000 agents' export on PostgreSQL; on SQLite, 1 ms of each statement of each batch,
# four times what SQLite spent on the smaller counts. Both servers read each agent's index
# as they did for the list.
_UIDS_ARRAY = bindparam("uids", type_=ARRAY(Integer))
_UIDS_JSON = bindparam("uids", type_=JSON)
_START, _END = bindparam("start"), bindparam("end")
_START_AT, _END_AT = bindparam("start_at"), bindparam("end_at")


def _among(column, array: bool):
    """`column` is one of the batch's agents (see _UIDS_ARRAY)."""
    if array:
        return column == any_(_UIDS_ARRAY)
    return column.in_(select(func.json_each(_UIDS_JSON).table_valued("value").c.value))


def _parameters(user_ids: list[int], period: Period) -> dict:
    return {"uids": user_ids, "start": period.start, "end": period.end,
            "start_at": period.start_at, "end_at": period.end_at}


def _approved_between(start, end) -> tuple:
    """Entries the report counts (the monthly totals' rule, release_time.totals.counted),
    between these days (included)."""
    return (*counted(), TimeEntry.day >= start, TimeEntry.day <= end)


@prebuilt
def _approved_minutes_statement(array: bool):
    # Summed per agent and project first, then each title read by the project's key (joined,
    # first or after the sums, PostgreSQL hashed the whole projects table: 10,000 rows for
    # the few dozen a page shows; docs/plans/hr-page.txt).
    minutes = (select(TimeEntry.user_id, TimeEntry.project_id, func.sum(TimeEntry.minutes).label("minutes"))
               .where(_among(TimeEntry.user_id, array), *_approved_between(_START, _END))
               .group_by(TimeEntry.user_id, TimeEntry.project_id)).subquery()
    title = select(Project.title).where(Project.id == minutes.c.project_id).scalar_subquery().label("title")
    return (select(minutes.c.user_id, minutes.c.project_id, title, minutes.c.minutes)
            .order_by(title, minutes.c.project_id))


@prebuilt
def _counts_statement(array: bool):
    """One row per (agent, figure) for the counted figures, in a single query."""
    running = and_(Project.state != "framing",
                   or_(Project.starts_on.is_(None), Project.starts_on <= _END),
                   or_(Project.ends_on.is_(None), Project.ends_on >= _START))

    session_start = select(ReviewSession.starts_at).where(ReviewSession.id == Attendance.session_id).scalar_subquery()

    def counted(key: str, uid_column, count, *where, join=None):
        stmt = select(uid_column.label("uid"), literal(key, String).label("key"), count.label("n"))
        if join is not None:
            stmt = stmt.join(*join)
        return stmt.where(_among(uid_column, array), *where).group_by(uid_column)

    return union_all(
        # Roles held in projects running during the period (not left in framing).
        counted("sponsor", Project.sponsor_id, func.count(), running),
        counted("lead", Project.lead_id, func.count(), running),
        counted("member", ProjectMember.user_id, func.count(func.distinct(ProjectMember.project_id)),
                running, Project.kind == "initiative", join=(Project, Project.id == ProjectMember.project_id)),
        # Immersions made (selected, starting in the period) and hosted (as tutor of an immersion project).
        counted("immersions_made", Application.applicant_id, func.count(), Application.status == "selected",
                Application.starts_on >= _START, Application.starts_on <= _END),
        counted("immersions_hosted", Project.lead_id, func.count(), Project.kind == "immersion",
                Project.starts_on >= _START, Project.starts_on <= _END),
        # Each attendance's session date read by its key, not joined: joined, PostgreSQL's
        # generic plan (prepared statement, later batches) read the period's sessions first,
        # then tested each of their attendances against the whole array: 3.5 ms a batch,
        # 0.2 ms this way.
        counted("sessions_attended", Attendance.user_id, func.count(), session_start >= _START_AT,
                session_start < _END_AT),
        counted("assessments", Assessment.user_id, func.count(), Assessment.created_at >= _START_AT,
                Assessment.created_at < _END_AT),
    )


@prebuilt
def _proposals_statement(array: bool):
    """Proposals authored or co-authored (accepted), submitted in the period, by outcome.
    The period is applied in each branch, so that the authored ones are a range of the
    (author, submitted_at, state, id) index for each agent, read from the index alone
    (docs/plans/hr-figures.txt), not every proposal of the batch's authors, each then
    looked up for its date. The union (not UNION ALL) counts a proposal once per agent."""
    in_period = (Proposal.submitted_at >= _START_AT, Proposal.submitted_at < _END_AT)
    authorship = (
        select(Proposal.author_id.label("uid"), Proposal.id.label("pid"), Proposal.state.label("state"))
        .where(_among(Proposal.author_id, array), *in_period)
        .union(select(CoAuthor.user_id, CoAuthor.proposal_id, Proposal.state)
               .join(Proposal, Proposal.id == CoAuthor.proposal_id)
               .where(_among(CoAuthor.user_id, array), CoAuthor.status == "accepted", *in_period))
    ).subquery()
    outcome = case(*[(authorship.c.state == k, k) for k in OUTCOME_KEYS if k != "pending"], else_="pending")
    return select(authorship.c.uid, outcome, func.count()).group_by(authorship.c.uid, outcome)


@prebuilt
def _memberships_statement(array: bool):
    return (select(CollectiveMembership.user_id, CollectiveMembership.starts_on, CollectiveMembership.ends_on)
            .where(_among(CollectiveMembership.user_id, array), CollectiveMembership.overlapping(_START, _END)))


def figures_for(user_ids: list[int], period: Period) -> dict[int, Figures]:
    """All figures for these agents, in a fixed number of queries (four)."""
    result = {uid: Figures() for uid in user_ids}
    if not user_ids:
        return result
    parameters = _parameters(user_ids, period)
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if postgres:
        # For this transaction only, in one statement. These grouped counts read a few
        # hundred rows through indexes; PostgreSQL would otherwise start parallel workers,
        # which cost more to start (10 ms) than the query, and compile the hours' statement
        # (its estimate counts a title lookup for each of the 12,000 rows it expects, 500
        # read): 7 ms of JIT for a 6 ms query, each batch.
        # Generic plans: planned for any array of agents, on each agent's index. Planned
        # for the values (custom plans), 500 agents looked costlier by index than a scan:
        # the counts scanned the projects table four times and the project members once,
        # and estimating the array against each column's statistics took 5 ms more, each
        # batch (export of 20,000 agents: 1.15 s, 0.9 s this way; the page of 25 as fast).
        # Left to choose, the server kept custom plans for the first five batches or more.
        db.session.execute(text("SELECT set_config('max_parallel_workers_per_gather', '0', true),"
                                " set_config('jit', 'off', true), set_config('plan_cache_mode', 'force_generic_plan', true)"))
    # Each result read whole (fetchall), not row by row: 20,000 rows in an export.
    for uid, project_id, title, minutes in db.session.execute(_approved_minutes_statement(postgres), parameters).all():
        hours = round((minutes or 0) / 60, 2)
        result[uid].hours_by_project.append((project_id, title, hours))
        result[uid].hours_total = round(result[uid].hours_total + hours, 2)

    for uid, key, count in db.session.execute(_counts_statement(postgres), parameters).all():
        if key in ("sponsor", "lead", "member"):
            result[uid].roles[key] = count
        else:
            setattr(result[uid], key, count)

    for uid, key, count in db.session.execute(_proposals_statement(postgres), parameters).all():
        result[uid].proposals[key] = count

    # Collective: months of term within the period (counted in Python from the few terms).
    for uid, starts_on, ends_on in db.session.execute(_memberships_statement(postgres), parameters).all():
        first, last = max(starts_on, period.start), min(ends_on or period.end, period.end)
        result[uid].collective_months += max(0, (last.year - first.year) * 12 + last.month - first.month + 1)
    return result


# Agents per page of the HR report: a page to read, not the campaign's list (the export
# is). Each row costs its figures and its rendering: at fifty, they were a quarter of
# the page's time at 20,000 agents (bench, issue 21).
HR_PAGE_SIZE = 25


@dataclass
class HrFilters:
    q: str = ""  # a name or a matricule (people.search)
    org_unit_id: int | None = None
    category: str = ""
    min_hours: float = 0.0
    sort: str = "name"

    @property
    def counts_from_indexes(self) -> bool:
        """Whether the agents they keep are counted from indexes alone (institution, unit):
        then the list says how many exactly, whatever their number. A search, a category
        or a minimum of hours reads each agent's row, or sums its hours (20,000 agents:
        from 4 ms to 140 ms): those count up to LIST_COUNT_CAP, as the other long lists do."""
        return not (self.q or self.category or self.min_hours)


@prebuilt
def _hr_agents_select(search: bool, unit: bool, category: bool, min_hours: bool, by_unit: bool):
    stmt = select(User).where(User.institution_id == bindparam("institution_id"))
    if search:
        stmt = stmt.where(agent_search_condition(bindparam("agent_pattern")))
    if unit:
        stmt = stmt.where(User.org_unit_id.in_(bindparam("unit_ids", expanding=True)))
    if category:
        stmt = stmt.where(User.category == bindparam("category"))
    if min_hours:
        hours = (select(func.coalesce(func.sum(TimeEntry.minutes), 0))
                 .where(TimeEntry.user_id == User.id,
                        *_approved_between(bindparam("period_start"), bindparam("period_end")))
                 .scalar_subquery())
        stmt = stmt.where(hours >= bindparam("min_minutes", type_=Integer))
    if by_unit:
        return (stmt.outerjoin(OrgUnit, OrgUnit.id == User.org_unit_id)
                .order_by(OrgUnit.name, User.last_name, User.first_name, User.id))
    # No join by name: the page is read from the (institution, name) index, and the
    # agents are counted from the institution's index alone (SQLite does not drop an
    # unused outer join: counting through it cost a unit lookup per agent, 4 ms).
    return stmt.order_by(User.last_name, User.first_name, User.id)


def hr_agents_query(institution_id: int, filters: HrFilters, period: Period,
                    units: UnitTree | None = None) -> tuple[Select, dict]:
    """Agents of the institution (sorted by name or unit, never by figures), and the values
    of the select's parameters: one select per combination of filters, built once. `units`:
    the institution's, when the caller has them already."""
    params = {"institution_id": institution_id, "agent_pattern": like_pattern(filters.q.lower()) if filters.q else None,
              "category": filters.category, "period_start": period.start, "period_end": period.end,
              "min_minutes": int(filters.min_hours * 60), "unit_ids": []}
    if filters.org_unit_id:
        params["unit_ids"] = list((units or UnitTree.load(institution_id)).subtree(filters.org_unit_id))
    stmt = _hr_agents_select(bool(filters.q), bool(filters.org_unit_id), bool(filters.category),
                             filters.min_hours > 0, filters.sort == "unit")
    return stmt, params


def unit_places(units: UnitTree) -> dict[int, tuple[str, str]]:
    """For each unit of the institution, (direction, service) as HR files them (UnitTree.place)."""
    return {uid: units.place(uid) for uid in units.units}


def hours_by_agent_and_project(agents, params: dict, period: Period):
    """One row per agent of `agents` (hr_agents_query, with its `params`) and project with
    approved hours in the period: (user id, matricule, last name, first name, unit id, project
    title, minutes), in the report's order then by project. One query, read in chunks."""
    ids = agents.with_only_columns(User.id, maintain_column_froms=True).order_by(None)
    minutes = (select(TimeEntry.user_id, TimeEntry.project_id, func.sum(TimeEntry.minutes).label("minutes"))
               .where(TimeEntry.user_id.in_(ids), *_approved_between(period.start, period.end))
               .group_by(TimeEntry.user_id, TimeEntry.project_id)).subquery()
    stmt = (agents.join(minutes, minutes.c.user_id == User.id).join(Project, Project.id == minutes.c.project_id)
            .with_only_columns(User.id, User.employee_number, User.last_name, User.first_name, User.org_unit_id,
                               Project.title, minutes.c.minutes, maintain_column_froms=True)
            .order_by(Project.title, Project.id))
    return db.session.execute(stmt.execution_options(yield_per=2000), params)


def readable_reports(actor: User) -> list[User]:
    """The direct reports whose record `actor` reads as their N+1 (engagement.policy), by
    name: none while the institution keeps the option off."""
    if managers_option_refusal(actor):
        return []
    return list(db.session.scalars(select(User).where(
        User.manager_id == actor.id, User.institution_id == actor.institution_id, User.id != actor.id)
        .options(selectinload(User.org_unit)).order_by(User.last_name, User.first_name, User.id)))
