"""Read queries of the project and immersion pages, in a fixed number of SQL queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.orm import joinedload, raiseload, selectinload

from ..audit.queries import TimelineEvent, public_timeline
from ..dbutil import prebuilt
from ..extensions import db
from ..pagination import earlier_in_thread
from ..people.models import User
from ..proposals.models import Proposal
from ..text import contains_word, like_pattern, search_words, word_patterns
from . import lifecycle
from .models import (
    KIND_LABELS,
    Milestone,
    MilestoneDates,
    ProgressUpdate,
    Project,
    ProjectMember,
    ProjectWording,
    Retrospective,
    TeamMember,
)


@dataclass
class PortfolioFilters:
    q: str = ""
    state: str = ""
    kind: str = ""

    @classmethod
    def from_args(cls, args) -> PortfolioFilters:
        return cls(q=(args.get("q") or "").strip()[:100],
                   state=args.get("etat") if args.get("etat") in lifecycle.STATES else "",
                   kind=args.get("nature") if args.get("nature") in KIND_LABELS else "")


@prebuilt
def _portfolio_select(state: bool, kind: bool, words: int):
    stmt = (select(Project).where(Project.institution_id == bindparam("institution_id"))
            .order_by(Project.state_changed_at.desc(), Project.id.desc()))
    if state:
        stmt = stmt.where(Project.state == bindparam("state"))
    if kind:
        stmt = stmt.where(Project.kind == bindparam("kind"))
    for number in range(words):
        stmt = stmt.where(contains_word(Project.search_text, number) | Project.proposal_id.in_(
            select(Proposal.id).where(contains_word(Proposal.search_text, number))))
    return stmt


def portfolio_query(institution_id: int, filters: PortfolioFilters) -> tuple[Select, dict]:
    """The portfolio's projects, last changed first, and the values of its parameters (one
    select per combination of filters, built once)."""
    words = search_words(filters.q)
    return (_portfolio_select(bool(filters.state), bool(filters.kind), len(words)),
            {"institution_id": institution_id, "state": filters.state, "kind": filters.kind,
             **word_patterns(words)})


@dataclass(frozen=True)
class PortfolioCard(ProjectWording):
    """What a portfolio card shows: a row, and of the milestones only the late ones' number
    and the next one (twenty projects with their lead and every milestone as objects cost
    more than the rest of the page)."""

    id: int
    kind: str
    state: str
    title: str
    progress: int
    ends_on: date | None
    lead_name: str | None
    overdue_count: int
    next_milestone: tuple[str, date] | None


@prebuilt
def _portfolio_cards_queries():
    ids = bindparam("ids", expanding=True)
    return (select(Project.id, Project.kind, Project.state, Project.title, Project.progress, Project.ends_on,
                   User.full_name.label("lead_name"))
            .outerjoin(User, User.id == Project.lead_id).where(Project.id.in_(ids)),
            select(Milestone.project_id, Milestone.id, Milestone.title, Milestone.due_on, Milestone.done_on)
            .where(Milestone.project_id.in_(ids), Milestone.done_on.is_(None))
            .order_by(Milestone.due_on, Milestone.id))


def portfolio_cards(ids: list[int], *, today: date) -> list[PortfolioCard]:
    """The portfolio's cards, in the order of `ids`: milestones not done are late before
    `today`, the next is the first due from `today` on."""
    projects, milestones = _portfolio_cards_queries()
    overdue: dict[int, int] = {}
    upcoming: dict[int, tuple[str, date]] = {}
    for project_id, *columns in db.session.execute(milestones, {"ids": ids}):
        milestone = MilestoneLine(*columns)
        if milestone.is_overdue(today):
            overdue[project_id] = overdue.get(project_id, 0) + 1
        else:
            upcoming.setdefault(project_id, (milestone.title, milestone.due_on))
    found = {row.id: PortfolioCard(*row, overdue.get(row.id, 0), upcoming.get(row.id))
             for row in db.session.execute(projects, {"ids": ids})}
    return [found[i] for i in ids if i in found]


_PROJECT_PEOPLE = (joinedload(Project.lead), joinedload(Project.sponsor), joinedload(Project.charter_validated_by),
                   joinedload(Project.proposal), joinedload(Project.host_org_unit))


@prebuilt
def _project_query():
    # Many-to-one in the same query; the team (with each member's N+1, named by the
    # charter) and the milestones in one query each.
    return (select(Project).where(Project.id == bindparam("project_id"))
            .options(selectinload(Project.members).joinedload(ProjectMember.user).joinedload(User.manager),
                     selectinload(Project.milestones), *_PROJECT_PEOPLE))


def load_project(project_id: int) -> Project | None:
    """The project with its team as objects (to change it, or for the charter), its
    milestones and people."""
    return db.session.scalar(_project_query(), {"project_id": project_id})


@prebuilt
def _project_page_project_queries():
    given = bindparam("project_id")
    return (select(Project).where(Project.id == given)
            .options(raiseload(Project.members), raiseload(Project.milestones), *_PROJECT_PEOPLE),
            select(ProjectMember.user_id, ProjectMember.role, ProjectMember.hours_budget,
                   User.full_name.label("full_name"))
            .join(User, User.id == ProjectMember.user_id)
            .where(ProjectMember.project_id == given).order_by(ProjectMember.id))


def load_project_for_page(project_id: int) -> Project | None:
    """The project as its page reads it: its team as rows (`Project.team`), a team of sixty
    as objects having been a third of the page's time (bench, issue 21); `members` is not
    loaded, and reading it is an error, not sixty queries. Nor are its milestones: the
    page reads them as rows (ProjectPage.milestones)."""
    project_stmt, team_stmt = _project_page_project_queries()
    given = {"project_id": project_id}
    project = db.session.scalar(project_stmt, given)
    if project is not None:
        project.loaded_team = [TeamMember(m.user_id, m.role, m.hours_budget, m.full_name)
                               for m in db.session.execute(team_stmt, given)]
    return project


@dataclass(frozen=True)
class MilestoneLine(MilestoneDates):
    """A milestone as the pages list it (a row: loading the project's milestones as
    objects, by a query of their own, cost a millisecond of its page)."""

    id: int
    title: str
    due_on: date
    done_on: date | None


# Progress updates shown at a time: the newest, then the earlier ones a page at a time (a
# project followed for two years, a point a week, would otherwise render them all).
UPDATES_PER_PAGE = 10


class UpdatesPage(NamedTuple):
    updates: list[ProgressUpdate]  # newest first
    earlier_before: int | None  # where the earlier updates start (?avant=), when there are
    before: int | None  # the update this page stops before; None: the newest


@dataclass
class ProjectPage:
    updates: UpdatesPage
    retrospective: Retrospective | None
    timeline: list[TimelineEvent]
    milestones: list[MilestoneLine]


@prebuilt
def _updates_query(earlier: bool):
    stmt = (select(ProgressUpdate).where(ProgressUpdate.project_id == bindparam("project_id"))
            .options(joinedload(ProgressUpdate.author)))
    if earlier:
        stmt = stmt.where(earlier_in_thread(ProgressUpdate, bindparam("before")))
    return stmt.order_by(ProgressUpdate.created_at.desc(), ProgressUpdate.id.desc()).limit(UPDATES_PER_PAGE + 1)


def progress_updates(project: Project, before: int | None = None) -> UpdatesPage:
    """The newest UPDATES_PER_PAGE progress updates of the project, or those just before
    the update `before`, newest first."""
    found = list(db.session.scalars(_updates_query(before is not None), {"project_id": project.id, "before": before}))
    shown = found[:UPDATES_PER_PAGE]
    return UpdatesPage(shown, shown[-1].id if len(found) > UPDATES_PER_PAGE else None, before)


@prebuilt
def _project_page_queries():
    project_id = bindparam("project_id")
    return (
        select(Retrospective).where(Retrospective.project_id == project_id).options(joinedload(Retrospective.author)),
        # In the order of Project.milestones.
        select(Milestone.id, Milestone.title, Milestone.due_on, Milestone.done_on)
        .where(Milestone.project_id == project_id).order_by(Milestone.due_on, Milestone.id),
    )


def project_page(project: Project, *, updates_before: int | None = None) -> ProjectPage:
    retro, milestones = _project_page_queries()
    given = {"project_id": project.id}
    return ProjectPage(progress_updates(project, updates_before), db.session.scalar(retro, given),
                       public_timeline("Project", project.id),
                       [MilestoneLine(*row) for row in db.session.execute(milestones, given)])


def project_for_proposal(proposal: Proposal) -> tuple[Project | None, Retrospective | None]:
    project = db.session.scalar(select(Project).where(Project.proposal_id == proposal.id,
                                                      Project.kind == "initiative"))
    retro = None
    if project is not None:
        retro = db.session.scalar(select(Retrospective).where(Retrospective.project_id == project.id))
    return project, retro


def overdue_milestones(project: Project, today) -> list[Milestone]:
    return [m for m in project.milestones if m.is_overdue(today)]




# --------------------------------------------------------------------------- team picker

AGENT_SUGGESTIONS = 10  # agents suggested at once by the charter's team search
AGENT_QUERY_MIN, AGENT_QUERY_MAX = 2, 100


def agent_suggestions(institution_id: int, q: str) -> tuple[list[User], bool]:
    """The institution's active agents matching every word of `q` in their name, address
    or identifier: at most AGENT_SUGGESTIONS, and whether there are more. Two queries (the
    agents, their services), whatever the institution's size."""
    words = [w[:40] for w in (q or "").lower().split() if len(w) >= AGENT_QUERY_MIN][:4]
    if not words:
        return [], False
    stmt = select(User).where(User.institution_id == institution_id, User.is_active.is_(True))
    for word in words:
        pattern = like_pattern(word)
        stmt = stmt.where(or_(func.lower(User.last_name).like(pattern, escape="\\"),
                              func.lower(User.first_name).like(pattern, escape="\\"),
                              func.lower(User.email).like(pattern, escape="\\"),
                              func.lower(User.login_id).like(pattern, escape="\\")))
    found = list(db.session.scalars(stmt.options(selectinload(User.org_unit))
                                    .order_by(User.last_name, User.first_name, User.id)
                                    .limit(AGENT_SUGGESTIONS + 1)))
    return found[:AGENT_SUGGESTIONS], len(found) > AGENT_SUGGESTIONS


def team_agents(institution_id: int, user_ids) -> dict[int, User]:
    """The institution's active agents among `user_ids`, by id, with their service: two queries."""
    ids = list(user_ids)
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(
        select(User).where(User.id.in_(ids), User.institution_id == institution_id, User.is_active.is_(True))
        .options(selectinload(User.org_unit)))}
