"""Decisions: published with their rationale from a closed vote, or corrected (which reopens
the proposal, never sets an outcome)."""

from __future__ import annotations

from sqlalchemy import func, select, update

from ..collective.services import users_by_id
from ..dbutil import lock_row
from ..errors import InvalidTransition, ValidationFailed, refuse
from ..extensions import db
from ..notifications.links import link
from ..notifications.services import notify
from ..people.models import User
from ..projects.services import create_from_proposal
from ..proposals.models import Proposal
from ..proposals.services import authors_of, move, proposal_link
from ..text import clean
from .assessments import notify_members_to_assess
from .coordination import proposal_transition, require_coordinator_on
from .models import (
    OUTCOME_LABELS,
    AgendaItem,
    Decision,
)
from .policy import (
    can_act_on_item,
    correction_refusal,
)
from .voting import item_for_update, present_ids

# Input limits: the services check them, the forms (review/forms.py) and so the pages read
# them from the module of their sub-domain.
RATIONALE_MIN, RATIONALE_MAX = 80, 5000  # a published decision's motivation

OUTCOME_TRANSITIONS = {"accepted": "accept", "rejected": "reject", "changes_requested": "request_changes"}

OUTCOMES_BY_RESULT = {
    "adopted": ("accepted", "changes_requested"),
    "not_adopted": ("rejected", "changes_requested"),
}


def check_rationale(rationale: str, field: str = "rationale") -> str:
    rationale = clean(rationale)
    if len(rationale) < RATIONALE_MIN:
        raise ValidationFailed({field: (
            f"La motivation est obligatoire et doit expliquer la décision en quelques phrases "
            f"({RATIONALE_MIN} caractères au moins, {len(rationale)} saisis).")})
    if len(rationale) > RATIONALE_MAX:
        raise ValidationFailed({field: f"{RATIONALE_MAX} caractères au plus."})
    return rationale


def record(decision: Decision, proposal: Proposal) -> Decision:
    """A new decision, written now (its id and time are the audit event's). The proposal
    keeps the time of its first answer, which a correction does not take back: the
    dashboard counts how long agents waited for one."""
    db.session.add(decision)
    db.session.flush()
    if decision.answers and proposal.first_answered_at is None:
        proposal.first_answered_at = decision.published_at
    return decision


def first_answers_statement():
    """Every proposal's first answer found again in its decisions (the bench generator
    writes decisions without `record`)."""
    first = (select(func.min(Decision.published_at))
             .where(Decision.proposal_id == Proposal.id, Decision.answers).scalar_subquery())
    return update(Proposal).values(first_answered_at=first)


def publish_decision(actor: User, item: AgendaItem, *, outcome: str, rationale: str) -> Decision:
    """The outcome of a closed vote held with quorum: the only way a proposal is accepted,
    rejected, or sent back for changes."""
    session = item.session
    refuse(can_act_on_item(actor, item, "publish"))
    allowed = OUTCOMES_BY_RESULT.get(item.result or "", ())
    errors: dict[str, str] = {}
    if outcome not in allowed:
        errors["outcome"] = "Cette issue ne correspond pas au résultat du vote."
    try:
        text = check_rationale(rationale)
    except ValidationFailed as exc:
        errors.update({k: v[0] for k, v in exc.errors.items()})
    if errors:
        raise ValidationFailed(errors)
    item_for_update(item, "publish", "Une autre personne vient de publier la décision de ce point : rechargez la page.")
    transition = proposal_transition(item.proposal, OUTCOME_TRANSITIONS[outcome], actor)
    decision = Decision(institution_id=session.institution_id, proposal_id=item.proposal_id,
                        item_id=item.id, session_id=session.id, kind="session", outcome=outcome,
                        rationale=text, tally=item.tally, decided_by_id=actor.id)
    record(decision, item.proposal)
    move(item.proposal, transition, actor, audit_action="review.decided",
         data={"decision_id": decision.id, "outcome": outcome})
    notify(authors_of(item.proposal), "proposals", "Décision sur votre proposition",
           f"Le collectif pilote a rendu sa décision sur « {item.proposal.title} » : {OUTCOME_LABELS[outcome]}. "
           f"Motivation : {text[:300]}{'…' if len(text) > 300 else ''}", proposal_link(item.proposal))
    members = users_by_id(present_ids(session))
    notify(members, "collective", "Résultat de séance publié",
           f"Décision publiée pour « {item.proposal.title} » : {OUTCOME_LABELS[outcome]}.", link("review.journal"),
           exclude=actor)
    if outcome == "accepted" and item.proposal.kind == "initiative":
        create_from_proposal(item.proposal, actor)
    return decision


def correct_decision(actor: User, decision: Decision, *, rationale: str) -> Decision:
    """A published decision is never edited, and a correction never sets an outcome: it is
    a new decision, linked to the one it corrects, with its own rationale, that reopens
    the proposal: back to review for a new vote, or (a not-eligible decision) for its
    instruction."""
    proposal = decision.proposal
    require_coordinator_on(actor, proposal)
    lock_row(proposal)  # two corrections at once: the second finds the proposal reopened
    refusal = correction_refusal(decision)
    if refusal:
        raise InvalidTransition(refusal)
    text = check_rationale(rationale)
    transition = proposal_transition(proposal, "correct", actor)
    reopens_review = decision.outcome == "not_eligible"
    correction = Decision(institution_id=decision.institution_id, proposal_id=proposal.id, kind="correction",
                          outcome="eligible" if reopens_review else "reopened", rationale=text,
                          corrects_id=decision.id, decided_by_id=actor.id)
    record(correction, proposal)
    move(proposal, transition, actor, audit_action="review.corrected",
         data={"decision_id": correction.id, "corrects": decision.id, "corrected": decision.outcome})
    notify(authors_of(proposal), "proposals", "Une décision sur votre proposition est corrigée",
           f"La décision sur « {proposal.title} » est corrigée : la proposition " + (
               "est recevable et entre en instruction." if reopens_review
               else "retourne en instruction et sera de nouveau votée en séance.")
           + " La motivation de la correction est publiée.", proposal_link(proposal))
    if reopens_review:
        notify_members_to_assess(proposal)
    return correction
