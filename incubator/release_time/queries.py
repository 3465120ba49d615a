"""Read queries of « Mon temps » and the approval queue, in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, bindparam, exists, or_, select
from sqlalchemy.orm import joinedload

from ..dbutil import prebuilt
from ..extensions import db
from ..pagination import paginate_capped
from ..people.hierarchy import decidable_agents_clause, decidable_agents_params
from ..people.models import ApprovalDelegation, User
from ..projects.models import Project
from ..timeutil import today_paris
from .lifecycle import AGENT, ENTRIES
from .models import TimeEntry
from .services import budgets, cap_status, current_entries, monday_of, near_cap, week_projects


@dataclass
class WeekView:
    monday: date
    days: list[date]
    projects: list
    cells: dict
    day_totals: dict
    cap_counted: int
    cap: int
    cap_override: bool
    near_cap: bool  # WARN_SHARE of the cap reached: the page warns as the submission does
    budgets: list
    has_drafts: bool  # something to submit
    has_submitted: bool  # something to recall
    readonly: set  # (project id, day) cells the agent can neither edit nor correct


def week_view(user: User, monday: date) -> WeekView:
    monday = monday_of(monday)
    days = [monday + timedelta(days=n) for n in range(5)]
    projects = week_projects(user, monday)
    cells = current_entries(user, monday, monday + timedelta(days=7))
    # Projects with entries this week stay visible even if they ended since.
    known = {p.id for p in projects}
    projects += [e.project for (pid, _d), e in cells.items() if pid not in known and not known.add(pid)]
    totals = {d: sum(e.minutes for (_p, day), e in cells.items() if day == d and e.status != "refused") for d in days}
    counted, cap, override = cap_status(user, monday)
    return WeekView(
        monday=monday, days=days, projects=projects, cells=cells, day_totals=totals,
        cap_counted=counted, cap=cap, cap_override=override, near_cap=near_cap(counted, cap),
        budgets=budgets([p.id for p in projects], user_ids=[user.id]) if projects else [],
        has_drafts=any(ENTRIES.allowed(e.status, "submit", {AGENT}) for e in cells.values()),
        has_submitted=any(ENTRIES.allowed(e.status, "recall", {AGENT}) for e in cells.values()),
        readonly={key for key, e in cells.items() if not (ENTRIES.allowed(e.status, "edit", {AGENT})
                                                          or ENTRIES.allowed(e.status, "correct", {AGENT}))},
    )


@dataclass(frozen=True, slots=True)
class QueueLine:
    """A line of the approval queue: what the page shows of a time entry."""
    id: int
    day: date
    minutes: int
    note: str
    corrects_id: int | None
    project_title: str

    @property
    def hours(self) -> float:
        return self.minutes / 60


@dataclass
class AgentQueue:
    agent: User
    weeks: dict = field(default_factory=dict)  # monday -> list of QueueLine


AGENTS_PER_PAGE = 10


def awaiting_approval():
    """SQL on TimeEntry and its agent (User): hours waiting for the decision of the actor
    of `decidable_agents_params(actor)` (its values, given at execution), as the agent's
    N+1 or delegate; never the actor's own (people.hierarchy.decidable_agents_clause)."""
    return and_(TimeEntry.user_id == User.id, decidable_agents_clause(), TimeEntry.status.in_(ENTRIES.sources("approve")))


@prebuilt
def _queue_queries():
    # The agents (`decidable_agents_params` gives the values), ten a page.
    waiting = (select(User).where(decidable_agents_clause(), exists().where(awaiting_approval()))
               .order_by(User.last_name, User.first_name, User.id))
    # Rows, not objects: the page only shows the lines (some fifty), and loading them and
    # their projects as objects was most of its time.
    lines = (select(TimeEntry.id, TimeEntry.user_id, TimeEntry.day, TimeEntry.minutes, TimeEntry.note,
                    TimeEntry.corrects_id, Project.title)
             .join(Project, Project.id == TimeEntry.project_id)
             .where(TimeEntry.user_id.in_(bindparam("user_ids", expanding=True)),
                    TimeEntry.status.in_(ENTRIES.sources("approve")))
             .order_by(TimeEntry.day, TimeEntry.id))
    # The delegations given and received, current or to come, in one query.
    user_id = bindparam("user_id")
    delegations = (select(ApprovalDelegation)
                   .where(or_(ApprovalDelegation.manager_id == user_id, ApprovalDelegation.delegate_id == user_id),
                          ApprovalDelegation.ends_on >= bindparam("today"))
                   .options(joinedload(ApprovalDelegation.delegate), joinedload(ApprovalDelegation.manager))
                   .order_by(ApprovalDelegation.starts_on, ApprovalDelegation.id))
    return waiting, lines, delegations


def approval_queue(user: User, page: int = 1):
    """Agents with hours waiting for `user` (their N+1 or delegate, never `user` themself),
    ten per page, with their lines by week; and the delegations given and received."""
    waiting, lines, delegations_query = _queue_queries()
    agents = paginate_capped(waiting, params=decidable_agents_params(user), page=page, per_page=AGENTS_PER_PAGE,
                             exact=True)
    queues = {agent.id: AgentQueue(agent) for agent in agents.items}
    if queues:
        for row in db.session.execute(lines, {"user_ids": list(queues)}):
            line = QueueLine(row.id, row.day, row.minutes, row.note, row.corrects_id, row.title)
            queues[row.user_id].weeks.setdefault(monday_of(row.day), []).append(line)
    delegations = db.session.scalars(delegations_query, {"user_id": user.id, "today": today_paris()}).all()
    given = [d for d in delegations if d.manager_id == user.id]
    received = [d for d in delegations if d.delegate_id == user.id]
    return agents, list(queues.values()), given, received


def reports_budgets(agent_ids: list[int]):
    """Budgets of these agents (the approval page's) on their projects."""
    return budgets(None, user_ids=agent_ids) if agent_ids else []


