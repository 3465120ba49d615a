"""Eligibility: a submitted proposal is opened for review, or declared not eligible with a
published reason."""

from __future__ import annotations

from typing import Any

from ..dbutil import MAX_ID
from ..errors import ValidationFailed
from ..extensions import db
from ..notifications.links import link
from ..notifications.services import notify
from ..people.models import User
from ..proposals.models import Proposal
from ..proposals.services import authors_of, move, proposal_link, register_submission_hook
from ..text import clean, int_in_range
from .assessments import notify_members_to_assess
from .coordination import coordinator_transition
from .decisions import RATIONALE_MAX, check_rationale, record
from .models import (
    DUPLICATE_REASON,
    Decision,
)
from .policy import coordination_of
from .settings import settings_for


def notify_coordination_of_submission(proposal: Proposal) -> None:
    """A proposal is submitted (or resubmitted): the coordinators who act on it (not recused,
    or its substitute) have its eligibility to examine."""
    coordination = coordination_of(proposal)
    notify([*coordination.acting, coordination.substitute], "collective", "Une proposition déposée attend son examen",
           f"« {proposal.title} » vient d'être déposée (version {proposal.version_number}) : examinez sa recevabilité.",
           link("review.eligibility", proposal_id=proposal.id))


register_submission_hook(notify_coordination_of_submission)


def open_review(actor: User, proposal: Proposal, *, rationale: str = "") -> Decision:
    transition = coordinator_transition(actor, proposal, "open_review")
    text = clean(rationale) or ("La proposition est recevable : elle entre en instruction et sera "
                                "évaluée par les membres du collectif sur les critères publiés.")
    decision = Decision(institution_id=proposal.institution_id, proposal_id=proposal.id,
                        kind="eligibility", outcome="eligible", rationale=text[:RATIONALE_MAX],
                        decided_by_id=actor.id)
    record(decision, proposal)
    move(proposal, transition, actor, audit_action="review.opened", data={"decision_id": decision.id})
    notify(authors_of(proposal), "proposals", "Votre proposition est recevable",
           f"« {proposal.title} » entre en instruction : les membres du collectif l'évaluent sur les critères publiés.",
           proposal_link(proposal))
    notify_members_to_assess(proposal)
    return decision


def declare_ineligible(actor: User, proposal: Proposal, *, reason: str, rationale: str,
                       duplicate_of_id: Any = None) -> Decision:
    transition = coordinator_transition(actor, proposal, "declare_ineligible")
    settings = settings_for(proposal.institution_id)
    errors: dict[str, str] = {}
    if reason not in settings.ineligibility_reasons:
        errors["reason"] = "Choisissez un motif dans la liste publiée."
    duplicate = None
    if reason == DUPLICATE_REASON:
        number = int_in_range(duplicate_of_id, 1, MAX_ID)
        duplicate = db.session.get(Proposal, number) if number else None
        if (duplicate is None or duplicate.institution_id != proposal.institution_id
                or duplicate.id == proposal.id or duplicate.submitted_at is None):
            errors["duplicate_of_id"] = "Indiquez le numéro de la proposition dont celle-ci est le doublon."
    try:
        text = check_rationale(rationale)
    except ValidationFailed as exc:
        errors.update({k: v[0] for k, v in exc.errors.items()})
    if errors:
        raise ValidationFailed(errors)
    decision = Decision(institution_id=proposal.institution_id, proposal_id=proposal.id,
                        kind="eligibility", outcome="not_eligible", reason=reason,
                        duplicate_of_id=duplicate.id if duplicate else None, rationale=text,
                        decided_by_id=actor.id)
    record(decision, proposal)
    move(proposal, transition, actor, audit_action="review.not_eligible",
         data={"decision_id": decision.id, "reason": reason})
    notify(authors_of(proposal), "proposals", "Décision de recevabilité sur votre proposition",
           f"« {proposal.title} » est déclarée non recevable : {reason}. La motivation est publiée sur la proposition.",
           proposal_link(proposal))
    return decision
