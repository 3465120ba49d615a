"""Who does what in the arbitration: one rule per action, asked by the services (which raise
with its reason), by the views and by the templates (which show a button exactly when its
rule lets the person act).

Who takes the coordinator's actions on a proposal:
Authors, co-authors (invited or accepted) and members who declared a conflict of interest
are recused on a proposal. A recused coordinator takes no coordinator action on it:
eligibility, scheduling, attendance while it waits for its vote, opening and closing its
vote, publication, correction, appointing its project's sponsor. Another coordinator does;
or the substitute an administrator designated for that proposal, who acts on it only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from types import EllipsisType

from sqlalchemy import bindparam, exists, func, or_, select, union

from ..collective.services import is_member
from ..dbutil import prebuilt, request_cached
from ..errors import Refusal, not_now
from ..extensions import db
from ..people.models import User, UserRole
from ..projects.models import Project
from ..proposals.lifecycle import ASSESSED_STATES, COORDINATOR, SCHEDULED
from ..proposals.lifecycle import MACHINE as PROPOSALS
from ..proposals.models import CoAuthor, Proposal
from ..timeutil import today_paris
from .lifecycle import ITEMS
from .models import AgendaItem, Attendance, Conflict, Decision, ProposalSubstitute, ReviewSession

MEMBER_PAGES_ONLY = "Cette page est réservée aux membres du collectif pilote."
COORDINATION_PAGES_ONLY = "Cette page est réservée à l'animation du collectif pilote."


def member_pages_refusal(user: User) -> str | None:
    """The members' pages (proposals to assess, waiting times): a member of the collective
    in office today, or a coordinator. None when allowed, else why not."""
    if user.has_role("coordinator") or is_member(user):
        return None
    return MEMBER_PAGES_ONLY


def coordination_pages_refusal(user: User) -> str | None:
    """The coordination's pages (eligibility, settings and criteria, new sessions)."""
    return None if user.has_role("coordinator") else COORDINATION_PAGES_ONLY

OTHER_INSTITUTION = "Cette proposition appartient à une autre collectivité."
NOT_COORDINATOR = "Cette action revient à l'animation du collectif pilote."
INSTEAD = ("Une autre personne de l'animation du collectif agit à votre place ou, s'il n'y en a pas, "
           "un·e suppléant·e désigné·e par l'administration.")
RECUSED = "Vous êtes récusé·e sur cette proposition : vous ne prenez aucune décision de l'animation à son sujet. "
# The decisions a correction may reopen: the outcome of a vote, or a not-eligible decision.
CORRECTABLE = ("accepted", "rejected", "changes_requested", "not_eligible")
# A proposal waiting for no coordinator action needs no substitute.
NO_SUBSTITUTE_STATES = ("draft", "withdrawn")


# --------------------------------------------------------------------------- recusal


@prebuilt
def _recused_query():
    return union(
        select(CoAuthor.user_id).where(CoAuthor.proposal_id == bindparam("proposal_id"), CoAuthor.status != "declined"),
        select(Conflict.user_id).where(Conflict.proposal_id == bindparam("proposal_id")))


@request_cached("proposal_coauthors", "conflicts", "proposals")
def recused_ids(proposal: Proposal) -> frozenset[int]:
    """Authors, co-authors (invited or accepted) and declared conflicts (one query)."""
    return frozenset({proposal.author_id} | set(db.session.scalars(_recused_query(), {"proposal_id": proposal.id})))


def recused_clause(user_id: int):
    """SQL on Proposal: `user_id` is among its `recused_ids` (author, co-author invited or
    accepted, declared conflict), for counting many proposals in one query."""
    return or_(Proposal.author_id == user_id,
               exists().where(CoAuthor.proposal_id == Proposal.id, CoAuthor.user_id == user_id,
                              CoAuthor.status != "declined"),
               exists().where(Conflict.proposal_id == Proposal.id, Conflict.user_id == user_id))


def recusal_reason(user: User, proposal: Proposal) -> str | None:
    if user.id not in recused_ids(proposal):
        return None
    if user.id == proposal.author_id:
        return "Vous êtes l'auteur ou l'autrice de cette proposition."
    if db.session.scalar(select(CoAuthor.id).where(CoAuthor.proposal_id == proposal.id,
                                                   CoAuthor.user_id == user.id,
                                                   CoAuthor.status != "declined")):
        return "Vous êtes co-auteur ou invité·e à co-signer cette proposition."
    conflict = db.session.scalar(select(Conflict).where(Conflict.proposal_id == proposal.id,
                                                        Conflict.user_id == user.id))
    if conflict is not None:
        return f"Vous avez déclaré un conflit d'intérêts : « {conflict.reason} »."
    return None


@prebuilt
def _substitute_query():
    return (select(User).join(ProposalSubstitute, ProposalSubstitute.user_id == User.id)
            .where(ProposalSubstitute.proposal_id == bindparam("proposal_id")))


@request_cached("proposal_substitutes", "users")
def substitute_for(proposal: Proposal) -> User | None:
    """The substitute an administrator designated for this proposal, if any."""
    return db.session.scalar(_substitute_query(), {"proposal_id": proposal.id})


# --------------------------------------------------------------------------- the members


@prebuilt
def _present_query():
    return select(Attendance.user_id).where(Attendance.session_id == bindparam("session_id"))


@request_cached("attendances")
def present_ids(session: ReviewSession) -> frozenset[int]:
    return frozenset(db.session.scalars(_present_query(), {"session_id": session.id}))


NOT_MEMBER = "Seuls les membres du collectif pilote en mandat peuvent évaluer et voter."


def member_refusal(actor: User, proposal: Proposal, on: date | None = None) -> str | None:
    """None if `actor` assesses and votes on `proposal` (on day `on`, default today): a
    member of the collective in office, not recused on it."""
    if actor.institution_id != proposal.institution_id:
        return OTHER_INSTITUTION
    if not is_member(actor, on):
        return NOT_MEMBER
    reason = recusal_reason(actor, proposal)
    if reason:
        return "Vous êtes récusé·e sur cette proposition. " + reason
    return None


def can_assess(actor: User, proposal: Proposal) -> str | None:
    """A member not recused, while the proposal is assessed (in review or scheduled)."""
    refusal = member_refusal(actor, proposal)
    if refusal is None and proposal.state not in ASSESSED_STATES:
        return not_now("Cette proposition n'est plus en cours d'évaluation.")
    return refusal


def can_vote(actor: User, item: AgendaItem) -> str | None:
    """A member of the collective on the session's day, not recused, noted present, while
    the item's vote is open."""
    proposal = item.proposal
    refusal = member_refusal(actor, proposal, item.session.day)
    if refusal:
        return refusal
    if not item.is_voting or proposal.state != SCHEDULED:
        return not_now("Le vote n'est pas ouvert sur ce point.")
    if actor.id not in present_ids(item.session):
        return "Seuls les membres présents à la séance votent."
    return None


def can_declare_conflict(actor: User, proposal: Proposal) -> str | None:
    """The members of the collective, the coordinators and the proposal's substitute
    declare a conflict of interest, which recuses them: not who is recused on it already."""
    substitute = substitute_for(proposal)
    if actor.institution_id != proposal.institution_id or not (
            is_member(actor) or actor.has_role("coordinator") or (substitute is not None and substitute.id == actor.id)):
        return "Seuls les membres du collectif pilote et l'animation déclarent un conflit d'intérêts."
    reason = recusal_reason(actor, proposal)
    if reason:
        return not_now(f"Vous êtes déjà récusé·e sur cette proposition. {reason}")
    return None


# --------------------------------------------------------------------------- the coordinator's rule


def _refusal(actor: User, proposal: Proposal, *, recused: bool, substitute: bool) -> str | None:
    """The rule itself, on what the callers have read (one proposal, or many at once)."""
    if actor.institution_id != proposal.institution_id:
        return OTHER_INSTITUTION
    if not (actor.has_role("coordinator") or (substitute and actor.is_active)):
        return NOT_COORDINATOR
    if recused:
        return RECUSED + INSTEAD
    return None


def can_act_as_coordinator(actor: User, proposal: Proposal) -> str | None:
    """None if `actor` may take the coordinator's actions on `proposal`, else why not."""
    substitute = substitute_for(proposal)
    recused = actor.id in recused_ids(proposal)
    refusal = _refusal(actor, proposal, recused=recused,
                       substitute=substitute is not None and substitute.id == actor.id)
    if refusal and recused and refusal.startswith(RECUSED):
        refusal = f"{RECUSED}{recusal_reason(actor, proposal)} {INSTEAD}"
    return refusal


def _links(actor: User, proposal_ids: list[int]) -> tuple[set[int], set[int]]:
    """Of these proposals: those `actor` co-signs or declared a conflict on, and those
    `actor` is the designated substitute of (two queries)."""
    if not proposal_ids:
        return set(), set()
    recused = set(db.session.scalars(union(
        select(CoAuthor.proposal_id).where(CoAuthor.user_id == actor.id, CoAuthor.status != "declined",
                                           CoAuthor.proposal_id.in_(proposal_ids)),
        select(Conflict.proposal_id).where(Conflict.user_id == actor.id, Conflict.proposal_id.in_(proposal_ids)))))
    substitute = set(db.session.scalars(select(ProposalSubstitute.proposal_id).where(
        ProposalSubstitute.user_id == actor.id, ProposalSubstitute.proposal_id.in_(proposal_ids))))
    return recused, substitute


def coordinator_refusals(actor: User, proposals: Iterable[Proposal]) -> dict[int, str | None]:
    """`can_act_as_coordinator` for many proposals in a fixed number of queries (a session's
    agenda, the proposals one may schedule)."""
    proposals = list(proposals)
    recused, substitute = _links(actor, [p.id for p in proposals])
    return {p.id: _refusal(actor, p, recused=p.author_id == actor.id or p.id in recused,
                           substitute=p.id in substitute) for p in proposals}


def may_coordinate_something(actor: User) -> bool:
    """A coordinator, or the substitute of at least one proposal of their institution: who
    reaches the coordinator's forms at all (each action then asks the rule above)."""
    if actor.has_role("coordinator"):
        return True
    return db.session.scalar(select(ProposalSubstitute.id).join(Proposal, Proposal.id == ProposalSubstitute.proposal_id)
                             .where(ProposalSubstitute.user_id == actor.id,
                                    Proposal.institution_id == actor.institution_id).limit(1)) is not None


OTHER_SESSION = "Cette séance appartient à une autre collectivité."


def can_record_attendance(actor: User, session: ReviewSession) -> str | None:
    """Attendance makes the quorum of every item still to be voted: whoever is recused on
    one of them does not record it; a substitute may, for the items they act on. Not
    while a vote is open (its quorum is counted from it)."""
    if actor.institution_id != session.institution_id:
        return OTHER_SESSION
    waiting = list(db.session.scalars(select(Proposal).join(AgendaItem, AgendaItem.proposal_id == Proposal.id)
                                      .where(AgendaItem.session_id == session.id, AgendaItem.status.in_(ITEMS.sources("open_vote")))
                                      .order_by(AgendaItem.position)))
    recused, substitute = _links(actor, [p.id for p in waiting])
    for proposal in waiting:
        if proposal.author_id == actor.id or proposal.id in recused:
            return (f"Vous êtes récusé·e sur « {proposal.title} », à l'ordre du jour de cette séance et pas encore "
                    "votée : les présences, qui font son quorum, sont enregistrées par une autre personne de "
                    "l'animation du collectif ou par le ou la suppléant·e désigné·e pour cette proposition.")
    if not (actor.has_role("coordinator") or (substitute and actor.is_active)):
        return NOT_COORDINATOR
    if db.session.scalar(select(func.count()).select_from(AgendaItem).where(
            AgendaItem.session_id == session.id, AgendaItem.status.in_(ITEMS.sources("vote")))):
        return not_now("Un vote est en cours : clôturez-le avant de modifier les présences.")
    return None


def can_schedule_in(actor: User, session: ReviewSession) -> str | None:
    """Who fills a session's agenda: whoever takes the coordinator's actions on some
    proposal (each proposal then asks can_act_as_coordinator), while the session is to come."""
    if actor.institution_id != session.institution_id:
        return OTHER_SESSION
    if not may_coordinate_something(actor):
        return NOT_COORDINATOR
    if session.day < today_paris():
        return not_now("Cette séance est passée : inscrivez la proposition à une séance à venir.")
    return None


# The coordinator's buttons on an agenda item, and what each says when the item's state
# refuses it (the table's InvalidTransition).
ITEM_ACTIONS = {
    "open_vote": "Le vote de ce point est déjà ouvert ou clos.",
    "postpone": "Ce point n'est plus en attente de vote.",
    "close": "Le vote de ce point est déjà clos.",
    "publish": "La décision de ce point est déjà publiée, ou son vote n'est pas clos.",
}


def item_refusal(item: AgendaItem, action: str) -> Refusal | None:
    """What an agenda item, its proposal and its session say of the coordinator's `action`
    (one of ITEM_ACTIONS) now, whoever asks: None, or why not."""
    proposal = item.proposal
    if action == "open_vote":
        if proposal.state != SCHEDULED:
            return not_now("La proposition n'est plus inscrite en séance (retirée ou déjà décidée).")
        if not present_ids(item.session):
            return not_now("Enregistrez d'abord les présences de la séance.")
    refusal = ITEMS.refusal(item.status, action, {COORDINATOR}, impossible=ITEM_ACTIONS[action])
    if refusal is None and action == "postpone":
        # The proposal goes back to review with it.
        refusal = PROPOSALS.refusal(proposal.state, "postpone", {COORDINATOR})
    return refusal


def can_act_on_item(actor: User, item: AgendaItem, action: str, *,
                    coordination: str | None | EllipsisType = ...) -> str | None:
    """None if `actor` may take the coordinator's `action` on an agenda item now, else why
    not: the coordinator's rule on its proposal, then the item's state. `coordination` is
    that rule's answer when the caller read it for many proposals at once
    (coordinator_refusals)."""
    if coordination is ...:
        coordination = can_act_as_coordinator(actor, item.proposal)
    return coordination or item_refusal(item, action)


# --------------------------------------------------------------------------- corrections


def latest_decision_id(proposal: Proposal) -> int | None:
    return db.session.scalar(select(Decision.id).where(Decision.proposal_id == proposal.id)
                             .order_by(Decision.published_at.desc(), Decision.id.desc()).limit(1))


def correction_refusal(decision: Decision) -> str | None:
    """None if `decision` may be corrected now (whoever asks), else why not. A correction
    reopens the proposal; it never sets an outcome."""
    proposal = decision.proposal
    if decision.outcome not in CORRECTABLE:
        return "Seules l'issue d'un vote et une décision de non-recevabilité peuvent être corrigées."
    if latest_decision_id(proposal) != decision.id:
        return "Seule la dernière décision d'une proposition peut être corrigée."
    if proposal.state != decision.outcome:
        return "La proposition a avancé depuis cette décision : elle ne peut plus être corrigée."
    if db.session.scalar(select(Project.id).where(Project.proposal_id == proposal.id).limit(1)):
        return ("Un projet est déjà ouvert pour cette proposition : la décision qui l'a fait naître ne peut plus "
                "être corrigée.")
    return None


# --------------------------------------------------------------------------- substitutes


def can_designate_substitute(actor: User, proposal: Proposal) -> str | None:
    """An administrator of the institution, not recused on the proposal themself."""
    if actor.institution_id != proposal.institution_id:
        return OTHER_INSTITUTION
    if not actor.has_role("admin"):
        return "La désignation d'un·e suppléant·e revient à l'administration de la collectivité."
    reason = recusal_reason(actor, proposal)
    if reason:
        return (f"Vous êtes récusé·e sur cette proposition. {reason} Une autre personne de l'administration "
                "désigne le ou la suppléant·e.")
    return None


@dataclass
class Coordination:
    """Who takes the coordinator's actions on a proposal, for its page."""

    recused: list[User]  # coordinators recused on it
    acting: list[User]  # coordinators who are not
    substitute: User | None  # designated by an administrator, and able to act

    @property
    def sentence(self) -> str | None:
        """What the page says when a coordinator is recused."""
        if not self.recused:
            return None
        start = "Le coordinateur ou la coordinatrice est récusé·e sur cette proposition : "
        names = [u.full_name for u in self.acting]
        if self.substitute is not None:
            names.append(f"{self.substitute.full_name} (suppléant·e désigné·e par l'administration)")
        if not names:
            return start + "un·e administrateur·rice doit désigner un·e suppléant·e."
        verb = "agit" if len(names) == 1 else "agissent"
        return f"{start}{', '.join(names)} {verb} à sa place."


@prebuilt
def _coordinators_query():
    institution_id = bindparam("institution_id")
    return (select(User).join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.institution_id == institution_id, UserRole.role == "coordinator",
                   User.institution_id == institution_id, User.is_active.is_(True))
            .order_by(User.last_name, User.first_name, User.id))


def coordinators_of(institution_id: int) -> list[User]:
    """The institution's active coordinators."""
    return list(db.session.scalars(_coordinators_query(), {"institution_id": institution_id}))


def coordination_of(proposal: Proposal) -> Coordination:
    coordinators = coordinators_of(proposal.institution_id)
    recused = recused_ids(proposal)
    substitute = substitute_for(proposal)
    if substitute is not None and (not substitute.is_active or substitute.id in recused
                                   or substitute in coordinators):
        substitute = None  # cannot act, or already listed among the coordinators
    return Coordination(recused=[u for u in coordinators if u.id in recused],
                        acting=[u for u in coordinators if u.id not in recused], substitute=substitute)
