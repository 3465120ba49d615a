"""Read queries of the arbitration pages, in a fixed number of SQL queries each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from sqlalchemy import Select, bindparam, func, select, union
from sqlalchemy.orm import aliased, joinedload, selectinload

from ..collective.models import CollectiveMembership
from ..collective.services import with_current_terms
from ..dbutil import prebuilt
from ..extensions import db
from ..organisation.models import OrgUnit
from ..people.models import User
from ..proposals import lifecycle
from ..proposals.models import CoAuthor, Proposal
from ..text import contains_word, search_words, word_patterns
from ..timeutil import paris_day_start, to_paris, today_paris, utcnow
from .lifecycle import ITEMS
from .models import (
    AgendaItem,
    Assessment,
    AssessmentScore,
    Conflict,
    Criterion,
    Decision,
    DecisionWording,
    ReviewSession,
    Vote,
)
from .policy import recused_ids
from .settings import active_criteria, settings_for
from .voting import present_ids


class MemberInOffice(NamedTuple):
    """A member of the collective on a day, as the pages list them: a row, not the
    membership with its agent and the agent's unit as objects."""

    user_id: int
    full_name: str
    category: str
    org_unit_name: str | None
    ends_on: date | None


@prebuilt
def _members_with_terms_query():
    return (with_current_terms(select(User.id, User.full_name.label("full_name"),
                                      User.category, OrgUnit.name, CollectiveMembership.ends_on))
            .outerjoin(OrgUnit, OrgUnit.id == User.org_unit_id)
            .order_by(User.last_name, User.first_name, User.id))


def members_with_terms(institution_id: int, on: date) -> list[MemberInOffice]:
    """The members in office on `on`, by name."""
    return [MemberInOffice(*row) for row in
            db.session.execute(_members_with_terms_query(), {"institution_id": institution_id, "on": on})]


def _start_of_today() -> datetime:
    return datetime.combine(today_paris(), time.min) - timedelta(hours=2)


@prebuilt
def _upcoming_sessions_query():
    return (select(ReviewSession).where(ReviewSession.institution_id == bindparam("institution_id"),
                                        ReviewSession.starts_at >= bindparam("since"))
            .order_by(ReviewSession.starts_at))


def upcoming_sessions(institution_id: int) -> list[ReviewSession]:
    """Sessions from today on, soonest first (a handful)."""
    return list(db.session.scalars(_upcoming_sessions_query(),
                                   {"institution_id": institution_id, "since": _start_of_today()}))


def past_sessions_query(institution_id: int):
    """Past sessions, latest first: years of weekly sessions, so paginated."""
    return (select(ReviewSession).where(ReviewSession.institution_id == institution_id,
                                        ReviewSession.starts_at < _start_of_today())
            .order_by(ReviewSession.starts_at.desc(), ReviewSession.id.desc()))


def past_sessions_count(institution_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(past_sessions_query(institution_id).subquery())) or 0


def item_counts(sessions: list[ReviewSession]) -> dict[int, int]:
    """Number of agenda items of each session, in one query."""
    if not sessions:
        return {}
    return dict(db.session.execute(
        select(AgendaItem.session_id, func.count()).where(AgendaItem.session_id.in_([s.id for s in sessions]))
        .group_by(AgendaItem.session_id)).all())


@dataclass
class QueueEntry:
    proposal: Proposal
    assessed_at: datetime | None


def assessment_queue(user: User) -> tuple[list[QueueEntry], list[QueueEntry], list[Proposal]]:
    """For a collective member: to assess, assessed, and recused (with the reason shown)."""
    proposals = db.session.scalars(
        select(Proposal).where(Proposal.institution_id == user.institution_id,
                               Proposal.state.in_(("in_review", "scheduled")))
        .options(selectinload(Proposal.author), selectinload(Proposal.theme))
        .order_by(Proposal.state_changed_at)
    ).all()
    ids = [p.id for p in proposals]
    assessed = dict(db.session.execute(
        select(Assessment.proposal_id, Assessment.updated_at)
        .where(Assessment.user_id == user.id, Assessment.proposal_id.in_(ids))).all())
    coauthored = set(db.session.scalars(select(CoAuthor.proposal_id).where(
        CoAuthor.user_id == user.id, CoAuthor.status != "declined", CoAuthor.proposal_id.in_(ids))))
    conflicts = set(db.session.scalars(select(Conflict.proposal_id).where(
        Conflict.user_id == user.id, Conflict.proposal_id.in_(ids))))
    to_assess, done, recused = [], [], []
    for proposal in proposals:
        if proposal.author_id == user.id or proposal.id in coauthored or proposal.id in conflicts:
            recused.append(proposal)
        elif proposal.id in assessed:
            done.append(QueueEntry(proposal, assessed[proposal.id]))
        else:
            to_assess.append(QueueEntry(proposal, None))
    return to_assess, done, recused


@dataclass
class CriterionResult:
    criterion: Criterion
    average: float | None


@dataclass
class PublishedScores:
    count: int
    per_criterion: list[CriterionResult]
    weighted: float | None


def published_scores(proposal: Proposal) -> PublishedScores | None:
    """Averages per criterion and the weighted average, once the proposal is decided."""
    if proposal.state not in ("accepted", "rejected", "changes_requested"):
        return None
    count = db.session.scalar(select(func.count()).select_from(Assessment)
                              .where(Assessment.proposal_id == proposal.id))
    rows = db.session.execute(
        select(Criterion, func.avg(AssessmentScore.score))
        .join(AssessmentScore, AssessmentScore.criterion_id == Criterion.id)
        .join(Assessment, Assessment.id == AssessmentScore.assessment_id)
        .where(Assessment.proposal_id == proposal.id)
        .group_by(Criterion.id)
        .order_by(Criterion.position, Criterion.id)
    ).all()
    results = [CriterionResult(c, float(avg) if avg is not None else None) for c, avg in rows]
    weights = sum(r.criterion.weight for r in results if r.average is not None)
    weighted = (sum(r.average * r.criterion.weight for r in results if r.average is not None) / weights
                if weights else None)
    return PublishedScores(count=count, per_criterion=results, weighted=weighted)


@prebuilt
def _decisions_query():
    return (select(Decision).where(Decision.proposal_id == bindparam("proposal_id"))
            # Many-to-one, in the same query: a proposal has a few decisions, each a query less.
            .options(joinedload(Decision.session), joinedload(Decision.decided_by),
                     joinedload(Decision.duplicate_of))
            .order_by(Decision.published_at, Decision.id))


def decisions_for(proposal: Proposal) -> list[Decision]:
    return list(db.session.scalars(_decisions_query(), {"proposal_id": proposal.id}))


@dataclass
class JournalFilters:
    q: str = ""
    outcome: str = ""
    kind: str = ""
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class JournalEntry(DecisionWording):
    """A decision as the journal shows and exports it: a row, not a Decision with its
    proposal, session, duplicate and corrected decision loaded as objects."""

    id: int
    proposal_id: int
    kind: str
    outcome: str
    reason: str
    rationale: str
    tally: dict
    published_at: datetime
    proposal_title: str
    session_starts_at: datetime | None
    duplicate_of_id: int | None
    duplicate_of_title: str | None
    corrected_published_at: datetime | None


def _with_entry_columns(decisions: Select) -> Select:
    """`decisions` (a select of Decision) as JournalEntry rows, the same order."""
    duplicate_of, corrected = aliased(Proposal), aliased(Decision)
    return (decisions.with_only_columns(
        Decision.id, Decision.proposal_id, Decision.kind, Decision.outcome, Decision.reason, Decision.rationale,
        Decision.tally, Decision.published_at, Proposal.title.label("proposal_title"),
        ReviewSession.starts_at.label("session_starts_at"), duplicate_of.id.label("duplicate_of_id"),
        duplicate_of.title.label("duplicate_of_title"), corrected.published_at.label("corrected_published_at"),
        maintain_column_froms=True)
        .join(Proposal, Proposal.id == Decision.proposal_id)
        .outerjoin(ReviewSession, ReviewSession.id == Decision.session_id)
        .outerjoin(duplicate_of, duplicate_of.id == Decision.duplicate_of_id)
        .outerjoin(corrected, corrected.id == Decision.corrects_id))


@prebuilt
def _journal_select(outcome: bool, kind: bool, since: bool, until: bool, words: int, rows: bool = False):
    if rows:
        return _with_entry_columns(_journal_select(outcome, kind, since, until, words))
    institution_id = bindparam("institution_id")
    # Decisions alone: the page counts them, and pages by their keys (the joins are the
    # page's rows', journal_entries); the CSV reads them with their columns (`rows`).
    stmt = (select(Decision).where(Decision.institution_id == institution_id)
            .order_by(Decision.published_at.desc(), Decision.id.desc()))
    if outcome:
        stmt = stmt.where(Decision.outcome == bindparam("outcome"))
    if kind:
        stmt = stmt.where(Decision.kind == bindparam("kind"))
    if since:
        stmt = stmt.where(Decision.published_at >= bindparam("since"))
    if until:
        stmt = stmt.where(Decision.published_at < bindparam("until"))
    if words:
        # Not correlated with the rows' own join on proposals: a list of matching ids.
        matching = select(Proposal.id).where(Proposal.institution_id == institution_id).correlate(None)
        for number in range(words):
            matching = matching.where(contains_word(Proposal.search_text, number))
        stmt = stmt.where(Decision.proposal_id.in_(matching))
    return stmt


@prebuilt
def _journal_entries_query():
    return _with_entry_columns(select(Decision).where(Decision.id.in_(bindparam("ids", expanding=True))))


def journal_entries(ids: list[int]) -> list[JournalEntry]:
    """The journal's rows of these decisions, in the order of `ids`."""
    found = {row.id: JournalEntry(*row) for row in db.session.execute(_journal_entries_query(), {"ids": list(ids)})}
    return [found[i] for i in ids if i in found]


def journal_query(institution_id: int, filters: JournalFilters, *, rows: bool = False) -> tuple[Select, dict]:
    """The journal's decisions, newest first (as JournalEntry rows with `rows`), and the
    values of its parameters: one select per combination of filters, built once
    (dbutil.prebuilt)."""
    words = search_words(filters.q)
    stmt = _journal_select(bool(filters.outcome), bool(filters.kind), filters.since is not None,
                           filters.until is not None, len(words), rows)
    params = {"institution_id": institution_id, "outcome": filters.outcome, "kind": filters.kind,
              "since": paris_day_start(filters.since) if filters.since else None,
              "until": paris_day_start(filters.until + timedelta(days=1)) if filters.until else None,
              **word_patterns(words)}
    return stmt, params


@dataclass
class WaitingRow:
    proposal: Proposal
    days_in_step: int
    days_since_submission: int
    over_target: bool


def waiting_times(institution_id: int) -> tuple[dict[str, list[WaitingRow]], int]:
    target = settings_for(institution_id).target_days
    now = utcnow()
    rows = db.session.scalars(
        select(Proposal).where(Proposal.institution_id == institution_id,
                               Proposal.state.in_(lifecycle.OPEN_STATES))
        .options(selectinload(Proposal.author))
        .order_by(Proposal.submitted_at)
    ).all()
    by_state: dict[str, list[WaitingRow]] = {s: [] for s in lifecycle.OPEN_STATES}
    for proposal in rows:
        since_submission = (now - proposal.submitted_at).days
        by_state[proposal.state].append(WaitingRow(
            proposal, (now - proposal.state_changed_at).days, since_submission,
            since_submission > target))
    return by_state, target


@dataclass
class ItemView:
    item: AgendaItem
    recused_ids: set[int]
    my_vote: Vote | None
    votes: list[Vote]
    decision: Decision | None


def session_page(session: ReviewSession, viewer: User, *, item_id: int | None = None, with_members: bool = True):
    """Views of the session's items (or of one item, for its live block), the members and
    who is present."""
    items_stmt = (select(AgendaItem).where(AgendaItem.session_id == session.id)
                  .options(joinedload(AgendaItem.proposal).joinedload(Proposal.author))
                  .order_by(AgendaItem.position))
    if item_id is not None:
        items_stmt = items_stmt.where(AgendaItem.id == item_id)
    items = db.session.scalars(items_stmt).all()
    item_ids = [i.id for i in items]
    proposal_ids = [i.proposal_id for i in items]
    votes = db.session.scalars(select(Vote).where(Vote.item_id.in_(item_ids))
                               .options(joinedload(Vote.user))).all()
    decided = [i.id for i in items if i.status == ITEMS.target("publish")]
    decisions = {d.item_id: d for d in db.session.scalars(
        select(Decision).where(Decision.item_id.in_(decided)))} if decided else {}
    recused: dict[int, set[int]] = {pid: set() for pid in proposal_ids}
    if item_id is not None:
        # One item (its live block): the same read as the vote's guard, cached.
        for item in items:
            recused[item.proposal_id] = set(recused_ids(item.proposal))
    else:
        for item in items:
            recused[item.proposal_id].add(item.proposal.author_id)
        for pid, uid in db.session.execute(union(
                select(CoAuthor.proposal_id, CoAuthor.user_id).where(
                    CoAuthor.proposal_id.in_(proposal_ids), CoAuthor.status != "declined"),
                select(Conflict.proposal_id, Conflict.user_id).where(Conflict.proposal_id.in_(proposal_ids)))):
            recused[pid].add(uid)
    views = []
    for item in items:
        item_votes = [v for v in votes if v.item_id == item.id]
        views.append(ItemView(item=item, recused_ids=recused[item.proposal_id],
                              my_vote=next((v for v in item_votes if v.user_id == viewer.id), None),
                              votes=item_votes, decision=decisions.get(item.id)))
    members = members_with_terms(session.institution_id, to_paris(session.starts_at).date()) if with_members else []
    return views, members, present_ids(session)


def schedulable(institution_id: int) -> list[Proposal]:
    return list(db.session.scalars(
        select(Proposal).where(Proposal.institution_id == institution_id, Proposal.state == "in_review")
        .order_by(Proposal.state_changed_at)))


def eligibility_queue(institution_id: int) -> list[Proposal]:
    return list(db.session.scalars(
        select(Proposal).where(Proposal.institution_id == institution_id, Proposal.state == "submitted")
        .options(selectinload(Proposal.author), selectinload(Proposal.theme))
        .order_by(Proposal.submitted_at)))


def conflicts_for(proposal: Proposal) -> list[Conflict]:
    return list(db.session.scalars(select(Conflict).where(Conflict.proposal_id == proposal.id)
                                   .options(selectinload(Conflict.user))))


def how_we_decide(institution_id: int):
    today = today_paris()
    return {
        "settings": settings_for(institution_id),
        "members": members_with_terms(institution_id, today),
        "criteria": active_criteria(institution_id),
        "upcoming": (upcoming := upcoming_sessions(institution_id)),
        "item_counts": item_counts(upcoming),
        "past_count": past_sessions_count(institution_id),
    }


