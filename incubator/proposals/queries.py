"""Read queries of the proposal pages, each in a fixed number of SQL queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Row, Select, and_, bindparam, case, func, literal, or_, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from ..audit.queries import TimelineEvent, public_timeline
from ..audit.services import action_label
from ..dbutil import MAX_ID, prebuilt
from ..extensions import db
from ..organisation.models import OrgUnit
from ..pagination import CappedPagination, earlier_in_thread, paginate_capped
from ..people.models import User
from ..text import int_in_range, like_pattern, normalise, search_words
from ..timeutil import utcnow
from . import lifecycle
from .models import (
    KINDS,
    CoAuthor,
    Comment,
    Proposal,
    ProposalVersion,
    ProposalWording,
    Support,
    Theme,
)
from .search import (
    SearchTerms,
    matching_all_terms,
    matching_any,
    newest_first_from_index,
    newest_matching_all_terms,
    search_terms,
)

# The board lists submitted proposals: its step filter offers every state but the draft.
BOARD_STATES = {code: state for code, state in lifecycle.STATES.items() if code != lifecycle.MACHINE.initial}
SORTS = {
    "recent": "Les plus récentes",
    "supported": "Les plus soutenues",
    "waiting": "En attente depuis le plus longtemps",
}


@dataclass
class BoardFilters:
    q: str = ""
    kind: str = ""
    state: str = ""
    theme_id: int | None = None
    org_unit_id: int | None = None
    sort: str = "recent"

    @classmethod
    def from_args(cls, args) -> BoardFilters:
        def as_int(name: str) -> int | None:
            return int_in_range(args.get(name), 1, MAX_ID)

        state = args.get("etape") or ""
        return cls(
            q=(args.get("q") or "").strip()[:100],
            kind=args.get("nature") if args.get("nature") in KINDS else "",
            state=state if state in BOARD_STATES else "",
            theme_id=as_int("theme"),
            org_unit_id=as_int("service"),
            sort=args.get("tri") if args.get("tri") in SORTS else "recent",
        )

    @property
    def is_filtered(self) -> bool:
        return bool(self.q or self.kind or self.state or self.theme_id or self.org_unit_id)


@prebuilt
def _board_select(search: tuple[bool, int] | None, sort: str, kind: bool, state: bool, theme: bool, unit: bool,
                  recent: bool = False):
    stmt = select(Proposal).where(Proposal.institution_id == bindparam("institution_id"),
                                  Proposal.submitted_at.is_not(None))
    if recent:
        stmt = stmt.where(Proposal.submitted_at >= bindparam("recent_since"))
    # The default order of a search comes from the index, which stops at the page (search.py).
    newest = newest_matching_all_terms(stmt, search) if search and sort == "recent" else None
    if newest is not None:
        stmt = newest
    elif search:
        stmt = stmt.where(*matching_all_terms(search))
    if kind:
        stmt = stmt.where(Proposal.kind == bindparam("kind"))
    if state:
        stmt = stmt.where(Proposal.state == bindparam("state"))
    if theme:
        stmt = stmt.where(Proposal.theme_id == bindparam("theme_id"))
    if unit:
        # The unit and its sub-units (two levels: direction > service).
        unit_id = bindparam("org_unit_id")
        stmt = stmt.where(or_(Proposal.org_unit_id == unit_id,
                              Proposal.org_unit_id.in_(select(OrgUnit.id).where(OrgUnit.parent_id == unit_id))))
    if sort == "supported":
        stmt = stmt.order_by(Proposal.support_count.desc(), Proposal.submitted_at.desc(), Proposal.id.desc())
    elif sort == "waiting":
        is_open = case((Proposal.state.in_(lifecycle.OPEN_STATES), 0), else_=1)
        stmt = stmt.order_by(is_open, Proposal.state_changed_at.asc(), Proposal.id)
    elif newest is None:
        stmt = stmt.order_by(Proposal.submitted_at.desc(), Proposal.id.desc())
    return stmt


def _board_terms(filters: BoardFilters) -> SearchTerms | None:
    words = search_words(filters.q)
    return search_terms(words) if words else None


def board_query(institution_id: int, filters: BoardFilters, *,
                recent_since: datetime | None = None) -> tuple[Select, dict]:
    """Every submitted proposal of the institution (drafts never), filtered and sorted; and
    the values of its parameters (one select per combination of filters, built once).
    `recent_since`: only those submitted since then (board_page)."""
    terms = _board_terms(filters)
    stmt = _board_select(terms.shape if terms else None, filters.sort, bool(filters.kind), bool(filters.state),
                         filters.theme_id is not None, filters.org_unit_id is not None, recent_since is not None)
    return stmt, {"institution_id": institution_id, "kind": filters.kind, "state": filters.state,
                  "theme_id": filters.theme_id, "org_unit_id": filters.org_unit_id, "recent_since": recent_since,
                  **(terms.params if terms else {})}


# A search in the board's own order (newest first) where no index gives its matches in
# that order (PostgreSQL's trigram index, or words too short for SQLite's): the database
# found every match, then sorted them by date, and the cost grew with their number (the
# 3,900 matches of « carnet bâtiments » at 100,000 proposals, each row read: 18 to 30 ms of
# SQL on PostgreSQL). The board first looks among the proposals of the last
# RECENT_SEARCH_DAYS days: when they hold more matches than the page and its capped count
# need, those are the answer, the same as the whole search's; otherwise the whole search
# runs (a rarer word, whose few matches are cheap to sort). PostgreSQL then crosses the
# trigram index with the dates' (BitmapAnd) and reads 349 rows: 13 ms
# (docs/plans/board-search.txt).
RECENT_SEARCH_DAYS = 90


def board_page(institution_id: int, filters: BoardFilters, *, page: int, per_page: int,
               cap: int | None) -> CappedPagination:
    """The board's page of cards, with its count up to `cap` (a search's)."""

    def listed(recent_since: datetime | None = None, load=board_cards) -> CappedPagination:
        stmt, params = board_query(institution_id, filters, recent_since=recent_since)
        return paginate_capped(stmt, params=params, page=page, per_page=per_page, key=Proposal.id, load=load,
                               cap=cap)

    terms = _board_terms(filters)
    if cap is not None and terms is not None and filters.sort == "recent" and not newest_first_from_index(terms.shape):
        recent = listed(utcnow() - timedelta(days=RECENT_SEARCH_DAYS), load=list)
        if recent.more:  # more matches than the count shows: the newest ones are all here
            recent.items = board_cards(recent.items)
            return recent
    return listed()


@dataclass(frozen=True)
class ProposalCard(ProposalWording):
    """What a board card shows: a row, not a Proposal with its author, unit and theme
    loaded as objects (twenty of those cost more than the rest of the page)."""

    id: int
    kind: str
    state: str
    title: str
    submitted_at: datetime | None
    state_changed_at: datetime
    support_count: int
    comment_count: int
    author_name: str
    org_unit_name: str | None
    theme_name: str | None


@prebuilt
def _board_cards_query():
    return (select(Proposal.id, Proposal.kind, Proposal.state, Proposal.title, Proposal.submitted_at,
                   Proposal.state_changed_at, Proposal.support_count, Proposal.comment_count,
                   User.full_name.label("author_name"),
                   OrgUnit.name.label("org_unit_name"), Theme.name.label("theme_name"))
            .join(User, User.id == Proposal.author_id)
            .outerjoin(OrgUnit, OrgUnit.id == Proposal.org_unit_id)
            .outerjoin(Theme, Theme.id == Proposal.theme_id)
            .where(Proposal.id.in_(bindparam("ids", expanding=True))))


def board_cards(ids: list[int]) -> list[ProposalCard]:
    """The board's cards, in the order of `ids`."""
    found = {row.id: ProposalCard(*row) for row in db.session.execute(_board_cards_query(), {"ids": list(ids)})}
    return [found[i] for i in ids if i in found]


@prebuilt
def _board_choices_queries():
    institution_id = bindparam("institution_id")
    return (select(Theme.id, Theme.name).where(Theme.institution_id == institution_id).order_by(Theme.name, Theme.id),
            select(OrgUnit.id, OrgUnit.name)
            .where(OrgUnit.institution_id == institution_id, OrgUnit.kind == "direction")
            .order_by(OrgUnit.name, OrgUnit.id))


def board_choices(institution_id: int) -> tuple[list[Row], list[Row]]:
    """The board's filters: every theme and direction, (id, name) rows by name."""
    themes, units = _board_choices_queries()
    given = {"institution_id": institution_id}
    return db.session.execute(themes, given).all(), db.session.execute(units, given).all()


@prebuilt
def _themes_query():
    return select(Theme).where(Theme.institution_id == bindparam("institution_id")).order_by(Theme.name, Theme.id)


def institution_themes(institution_id: int) -> list[Theme]:
    """The institution's themes, active or not, by name."""
    return list(db.session.scalars(_themes_query(), {"institution_id": institution_id}))


def similar_proposals(institution_id: int, text: str, *, exclude_id: int | None = None,
                      limit: int = 5) -> list[Proposal]:
    """Submitted proposals sharing the most significant words with `text`."""
    words = [w for w in search_words(text, min_length=4) if w not in STOP_WORDS][:6]
    if not words:
        return []
    score = sum(
        (case((Proposal.search_text.like(like_pattern(w), escape="\\"), 1), else_=0) for w in words),
        literal(0),
    )
    stmt = (
        select(Proposal)
        .where(Proposal.institution_id == institution_id, Proposal.submitted_at.is_not(None),
               Proposal.state != "withdrawn", matching_any(words))
        .order_by(score.desc(), Proposal.support_count.desc(), Proposal.id.desc())
        .limit(limit)
    )
    if exclude_id:
        stmt = stmt.where(Proposal.id != exclude_id)
    return list(db.session.scalars(stmt))


STOP_WORDS = {normalise(w) for w in (
    "pour", "avec", "dans", "des", "les", "une", "sur", "par", "plus", "entre", "chez",
    "aux", "leur", "leurs", "notre", "nos", "votre", "vos", "cette", "ces", "tout", "tous",
    "mise", "place", "faire", "mettre", "service", "services", "projet", "proposition",
)}


@dataclass
class ProposalPage:
    proposal: Proposal
    coauthors_accepted: list[User]
    invitation: CoAuthor | None
    comments: CommentsPage
    timeline: list[TimelineEvent]
    has_supported: bool
    version_count: int


# Comments shown at a time: the newest, then the earlier ones a page at a time (a proposal
# that many discuss would otherwise render, and read, all its comments at each display and
# after each new comment).
COMMENTS_PER_PAGE = 20


@prebuilt
def _comments_query(earlier: bool):
    hidden_by = aliased(User)
    stmt = (select(Comment.id, Comment.body, Comment.created_at, Comment.hidden_at, Comment.hidden_reason,
                   User.full_name.label("author_name"),
                   hidden_by.full_name.label("hidden_by_name"))
            .join(User, User.id == Comment.author_id)
            .outerjoin(hidden_by, hidden_by.id == Comment.hidden_by_id)
            .where(Comment.proposal_id == bindparam("proposal_id")))
    if earlier:
        stmt = stmt.where(earlier_in_thread(Comment, bindparam("before")))
    return stmt.order_by(Comment.created_at.desc(), Comment.id.desc()).limit(COMMENTS_PER_PAGE + 1)


@prebuilt
def _supported_query():
    return select(Support.id).where(Support.proposal_id == bindparam("proposal_id"),
                                    Support.user_id == bindparam("user_id"))


class CommentLine(NamedTuple):
    """A comment as the thread shows it: a row, with its author's name and, when it was
    hidden, its moderator's (twenty comments and their people as objects cost more)."""

    id: int
    body: str
    created_at: datetime
    hidden_at: datetime | None
    hidden_reason: str | None
    author_name: str
    hidden_by_name: str | None


class CommentsPage(NamedTuple):
    comments: list[CommentLine]  # oldest first
    earlier_before: int | None  # where the earlier comments start (?avant=), when there are
    before: int | None  # the comment this page stops before; None: the newest


def comments(proposal: Proposal, before: int | None = None) -> CommentsPage:
    """The newest COMMENTS_PER_PAGE comments of the proposal, or those just before the
    comment `before`, in the thread's order."""
    found = [CommentLine(*row) for row in db.session.execute(_comments_query(before is not None),
                                                             {"proposal_id": proposal.id, "before": before})]
    shown = found[:COMMENTS_PER_PAGE][::-1]
    return CommentsPage(shown, shown[0].id if len(found) > COMMENTS_PER_PAGE else None, before)


def proposal_page(proposal: Proposal, viewer: User, *, comments_before: int | None = None) -> ProposalPage:
    supported = db.session.scalar(_supported_query(),
                                  {"proposal_id": proposal.id, "user_id": viewer.id}) is not None
    invitation = next((c for c in proposal.coauthors if c.user_id == viewer.id), None)
    return ProposalPage(
        proposal=proposal,
        coauthors_accepted=proposal.accepted_coauthors,
        invitation=invitation,
        comments=comments(proposal, comments_before),
        timeline=public_timeline("Proposal", proposal.id),
        has_supported=supported,
        version_count=proposal.version_number,
    )


@prebuilt
def _proposal_query():
    return (
        select(Proposal).where(Proposal.id == bindparam("proposal_id"))
        # All in one query, the few co-authors too: their own query (selectinload) cost
        # more than the rows it saves (0.7 ms of a proposal's page).
        .options(joinedload(Proposal.author).joinedload(User.org_unit),
                 joinedload(Proposal.coauthors).joinedload(CoAuthor.user),
                 joinedload(Proposal.theme), joinedload(Proposal.host_org_unit),
                 joinedload(Proposal.contact))
    )


def load_proposal(proposal_id: int) -> Proposal | None:
    return db.session.execute(_proposal_query(), {"proposal_id": proposal_id}).unique().scalar_one_or_none()


@prebuilt
def _proposal_and_coauthors_query():
    return (select(Proposal).where(Proposal.id == bindparam("proposal_id"))
            .options(joinedload(Proposal.coauthors)))


def load_proposal_and_coauthors(proposal_id: int) -> Proposal | None:
    """The proposal and who signs it, nothing else: what a support reads inside its write
    transaction (on SQLite, the write gate every other writer waits for); the page's people,
    theme and units, read by load_proposal, were most of that time."""
    return (db.session.execute(_proposal_and_coauthors_query(), {"proposal_id": proposal_id})
            .unique().scalar_one_or_none())


def load_proposal_alone(proposal_id: int) -> Proposal | None:
    """The proposal, nothing with it (a draft's co-signers are read if its visibility
    needs them): what a comment reads inside its write transaction, whose answer shows
    the comments alone."""
    return db.session.get(Proposal, proposal_id)


def versions(proposal: Proposal) -> list[ProposalVersion]:
    return list(db.session.scalars(
        select(ProposalVersion).where(ProposalVersion.proposal_id == proposal.id)
        .options(selectinload(ProposalVersion.submitted_by), selectinload(ProposalVersion.theme))
        .order_by(ProposalVersion.number.desc())
    ))


def my_proposals(user: User) -> tuple[list[Proposal], list[tuple[CoAuthor, Proposal]]]:
    """The user's proposals (authored or co-authored, drafts included) and pending invitations."""
    coauthored = select(CoAuthor.proposal_id).where(CoAuthor.user_id == user.id,
                                                     CoAuthor.status == "accepted")
    proposals = db.session.scalars(
        select(Proposal)
        .where(or_(Proposal.author_id == user.id, Proposal.id.in_(coauthored)))
        .options(selectinload(Proposal.theme), selectinload(Proposal.author))
        .order_by(Proposal.updated_at.desc(), Proposal.id.desc())
    ).all()
    invitations = db.session.execute(
        select(CoAuthor, Proposal).join(Proposal, Proposal.id == CoAuthor.proposal_id)
        .where(and_(CoAuthor.user_id == user.id, CoAuthor.status == "invited"))
        .options(selectinload(Proposal.author))
        .order_by(CoAuthor.invited_at.desc())
    ).all()
    return list(proposals), [(c, p) for c, p in invitations]


def pending_invitations_count(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(CoAuthor).where(
        CoAuthor.user_id == user.id, CoAuthor.status == "invited")) or 0


# Sentences of the public timeline; other domains (review, projects) add theirs.
TIMELINE_SENTENCES = {
    "proposal.submitted": "Déposée par {actor} (version {version}).",
    "proposal.resubmitted": "Version révisée n° {version} déposée par {actor}.",
    "proposal.withdrawn": "Retirée par {actor}.",
    "proposal.coauthor_accepted": "{actor} a rejoint les co-auteurs.",
    "comment.hidden": "Un commentaire a été masqué par {actor} : « {reason} ».",
    "review.opened": "Déclarée recevable : instruction ouverte par {actor}.",
    "review.not_eligible": "Déclarée non recevable ({reason}).",
    "review.scheduled": "Inscrite à une séance d'arbitrage.",
    "review.postponed": "Point reporté : la proposition retourne en instruction.",
    "review.decided": "Décision publiée par {actor}.",
    "review.corrected": "Décision corrigée par {actor} : la proposition retourne en instruction.",
    "project.created": "Retenue : un projet est ouvert pour la mettre en œuvre.",
    "review.substitute_designated": ("L'animation du collectif étant récusée, {actor} (administration) a désigné "
                                     "un·e suppléant·e pour agir à sa place sur cette proposition."),
}


def timeline_sentence(event: TimelineEvent) -> str:
    template = TIMELINE_SENTENCES.get(event.action)
    values = {"actor": event.actor_name or "l'application",
              **{k: v for k, v in (event.data or {}).items() if isinstance(v, str | int)}}
    if template is None:
        return action_label(event.action) + "."
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return template.split("{")[0].strip() or event.action
