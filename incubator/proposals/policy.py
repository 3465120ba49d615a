"""Who may do what with a proposal besides its lifecycle table (lifecycle.py): one rule per
action, asked by the services (which raise with its reason), the views and the templates
(which show a button exactly when its rule lets the person act)."""

from __future__ import annotations

from ..errors import not_now
from ..people.models import User
from . import lifecycle
from .models import CoAuthor, Proposal


def can_answer_invitation(actor: User, proposal: Proposal) -> str | None:
    """The invited agent accepts or declines, once, while the proposal awaits its answer."""
    return invitation_refusal(next((c for c in proposal.coauthors if c.user_id == actor.id), None), proposal)


def invitation_refusal(invitation: CoAuthor | None, proposal: Proposal) -> str | None:
    """`can_answer_invitation` for the invitation already read (a list of them)."""
    if invitation is None:
        return "Vous n'êtes pas invité·e à co-signer cette proposition."
    if invitation.status != "invited":
        return not_now("Vous avez déjà répondu à cette invitation.")
    if not proposal.state_info.is_open:
        return not_now("Cette proposition n'attend plus de co-auteurs.")
    return None


def can_manage_coauthors(actor: User, proposal: Proposal | None) -> bool:
    """The main author invites the co-authors (the creator of a new proposal will be it);
    a co-author editing the text leaves them as they are."""
    return proposal is None or lifecycle.AUTHOR in proposal.capacities(actor)


def can_hide_comment(actor: User, proposal: Proposal) -> str | None:
    """The coordinators of the proposal's institution moderate its comments."""
    if actor.institution_id != proposal.institution_id or not actor.has_role("coordinator"):
        return "Seule l'animation du collectif peut masquer un commentaire."
    return None
