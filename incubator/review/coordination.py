"""Who coordinates what: the coordinator's guard on one proposal (recusal binds coordinators
too; a substitute stands in), and moves along the proposal lifecycle."""

from __future__ import annotations

from sqlalchemy import select, update

from ..audit.services import record
from ..dbutil import insert_ignoring_duplicates, lock_row
from ..errors import InvalidTransition, NotAllowed, ValidationFailed
from ..extensions import db
from ..notifications.services import notify
from ..people.models import User
from ..people.services import agent_by_email
from ..proposals.lifecycle import COORDINATOR, Transition
from ..proposals.models import Proposal
from ..proposals.services import proposal_link, require_transition
from ..timeutil import utcnow
from .models import (
    ProposalSubstitute,
)
from .policy import (
    NO_SUBSTITUTE_STATES,
    can_act_as_coordinator,
    can_designate_substitute,
    recused_ids,
    substitute_for,
)


def require_coordinator(actor: User, institution_id: int) -> None:
    if actor.institution_id != institution_id or not actor.has_role("coordinator"):
        raise NotAllowed("Cette action revient à l'animation du collectif pilote.")


def require_coordinator_on(actor: User, proposal: Proposal) -> None:
    """The coordinator's actions on one proposal: a coordinator not recused on it, or its
    designated substitute (review.policy)."""
    refusal = can_act_as_coordinator(actor, proposal)
    if refusal:
        raise NotAllowed(refusal)


def proposal_transition(proposal: Proposal, action: str, actor: User) -> Transition:
    """The lifecycle table's verdict for a coordinator action, once require_coordinator_on
    has let `actor` act on `proposal`."""
    return require_transition(proposal, action, actor, capacities={COORDINATOR})


def coordinator_transition(actor: User, proposal: Proposal, action: str) -> Transition:
    require_coordinator_on(actor, proposal)
    return proposal_transition(proposal, action, actor)



def designate_substitute(actor: User, proposal: Proposal, *, email: str) -> ProposalSubstitute:
    """An administrator designates, for one proposal, the agent who takes the coordinator's
    actions on it (its coordinators being recused). Recorded in its public timeline."""
    refusal = can_designate_substitute(actor, proposal)
    if refusal:
        raise NotAllowed(refusal)
    if proposal.state in NO_SUBSTITUTE_STATES:
        raise InvalidTransition("Cette proposition n'attend aucune décision de l'animation : "
                                "il n'y a pas de suppléant·e à désigner.")
    lock_row(proposal)  # two administrators at once: one designation after the other
    user = agent_by_email(proposal.institution_id, email)
    previous = substitute_for(proposal)
    if not (email or "").strip():
        message = "Indiquez l'adresse électronique de l'agent désigné."
    elif user is None:
        message = "Aucun agent actif de la collectivité n'a cette adresse."
    elif user.id == actor.id:
        message = "On ne se désigne pas soi-même : désignez un autre agent de la collectivité."
    elif user.id in recused_ids(proposal):
        message = ("Cet agent est récusé sur cette proposition (auteur, co-auteur ou conflit d'intérêts "
                   "déclaré) : désignez une autre personne.")
    elif previous is not None and previous.id == user.id:
        message = "Cet agent est déjà le ou la suppléant·e désigné·e pour cette proposition."
    else:
        message = None
    if message:
        raise ValidationFailed({"email": message})
    now = utcnow()
    if not insert_ignoring_duplicates(ProposalSubstitute, proposal_id=proposal.id, user_id=user.id,
                                      designated_by_id=actor.id, designated_at=now):
        db.session.execute(update(ProposalSubstitute).where(ProposalSubstitute.proposal_id == proposal.id)
                           .values(user_id=user.id, designated_by_id=actor.id, designated_at=now))
    record("review.substitute_designated", actor=actor, institution_id=proposal.institution_id,
           target=proposal, data={"substitute_id": user.id, "previous_id": previous.id if previous else None},
           public=True)
    notify([user], "collective", "Vous êtes désigné·e suppléant·e de l'animation",
           f"L'administration vous désigne pour prendre les décisions de l'animation du collectif sur "
           f"« {proposal.title} » (recevabilité, séance, vote, publication, correction, commanditaire), "
           "ses coordinateurs ou coordinatrices étant récusé·es.", proposal_link(proposal))
    return db.session.scalar(select(ProposalSubstitute).where(ProposalSubstitute.proposal_id == proposal.id)
                             .execution_options(populate_existing=True))
