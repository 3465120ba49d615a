"""The arbitration's blueprint and what its pages share: the guards of the member and
coordination pages, the proposal loader, and the navigation's context."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user

from ..collective import services as collective_services
from ..errors import NotAllowed
from ..proposals.models import Proposal
from ..proposals.queries import load_proposal
from . import policy

bp = Blueprint("review", __name__, url_prefix="/arbitrage")


def require_coordinator_page() -> None:
    if refusal := policy.coordination_pages_refusal(current_user):
        raise NotAllowed(refusal)


def require_member_page() -> None:
    if refusal := policy.member_pages_refusal(current_user):
        raise NotAllowed(refusal)


def proposal_or_404(proposal_id: int) -> Proposal:
    proposal = load_proposal(proposal_id)
    if proposal is None or proposal.institution_id != current_user.institution_id or proposal.submitted_at is None:
        abort(404)
    return proposal


def common_context() -> dict:
    """What every arbitration page's navigation asks: the same predicates as the pages' guards."""
    return {"is_member": collective_services.is_member(current_user),  # in office today: wording only
            "opens_member_pages": policy.member_pages_refusal(current_user) is None,
            "opens_coordination_pages": policy.coordination_pages_refusal(current_user) is None}
