"""Who takes the coordinator's actions on a proposal: one rule, asked by the services (which
raise NotAllowed with its reason), by the views and by the templates.

Authors, co-authors (invited or accepted) and members who declared a conflict of interest
are recused on a proposal. A recused coordinator takes no coordinator action on it:
eligibility, scheduling, attendance while it waits for its vote, opening and closing its
vote, publication, correction, appointing its project's sponsor. Another coordinator does;
or the substitute an administrator designated for that proposal, who acts on it only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, union

from ..dbutil import request_cached
from ..extensions import db
from ..people.models import User, UserRole
from ..projects.models import Project
from ..proposals.models import CoAuthor, Proposal
from .lifecycle import ITEMS
from .models import AgendaItem, Conflict, Decision, ProposalSubstitute, ReviewSession

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


@request_cached("proposal_coauthors", "conflicts", "proposals")
def recused_ids(proposal: Proposal) -> frozenset[int]:
    """Authors, co-authors (invited or accepted) and declared conflicts (one query)."""
    return frozenset({proposal.author_id} | set(db.session.scalars(union(
        select(CoAuthor.user_id).where(CoAuthor.proposal_id == proposal.id, CoAuthor.status != "declined"),
        select(Conflict.user_id).where(Conflict.proposal_id == proposal.id)))))


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


@request_cached("proposal_substitutes", "users")
def substitute_for(proposal: Proposal) -> User | None:
    """The substitute an administrator designated for this proposal, if any."""
    return db.session.scalar(select(User).join(ProposalSubstitute, ProposalSubstitute.user_id == User.id)
                             .where(ProposalSubstitute.proposal_id == proposal.id))


# --------------------------------------------------------------------------- the rule


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


def can_record_attendance(actor: User, session: ReviewSession) -> str | None:
    """Attendance makes the quorum of every item still to be voted: whoever is recused on
    one of them does not record it; a substitute may, for the items they act on."""
    if actor.institution_id != session.institution_id:
        return "Cette séance appartient à une autre collectivité."
    waiting = list(db.session.scalars(select(Proposal).join(AgendaItem, AgendaItem.proposal_id == Proposal.id)
                                      .where(AgendaItem.session_id == session.id, AgendaItem.status.in_(ITEMS.sources("open_vote")))
                                      .order_by(AgendaItem.position)))
    recused, substitute = _links(actor, [p.id for p in waiting])
    for proposal in waiting:
        if proposal.author_id == actor.id or proposal.id in recused:
            return (f"Vous êtes récusé·e sur « {proposal.title} », à l'ordre du jour de cette séance et pas encore "
                    "votée : les présences, qui font son quorum, sont enregistrées par une autre personne de "
                    "l'animation du collectif ou par le ou la suppléant·e désigné·e pour cette proposition.")
    if actor.has_role("coordinator") or (substitute and actor.is_active):
        return None
    return NOT_COORDINATOR


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


def coordination_of(proposal: Proposal) -> Coordination:
    coordinators = db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.institution_id == proposal.institution_id, UserRole.role == "coordinator",
               User.institution_id == proposal.institution_id, User.is_active.is_(True))
        .order_by(User.last_name, User.first_name, User.id)).all()
    recused = recused_ids(proposal)
    substitute = substitute_for(proposal)
    if substitute is not None and (not substitute.is_active or substitute.id in recused
                                   or substitute in coordinators):
        substitute = None  # cannot act, or already listed among the coordinators
    return Coordination(recused=[u for u in coordinators if u.id in recused],
                        acting=[u for u in coordinators if u.id not in recused], substitute=substitute)
