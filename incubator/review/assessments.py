"""Members' assessments on the published criteria, and the conflicts they declare."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from ..audit.services import record
from ..collective.services import current_member_ids, users_by_id
from ..dbutil import insert_ignoring_duplicates
from ..errors import InvalidTransition, ValidationFailed, refuse
from ..extensions import db
from ..notifications.links import link
from ..notifications.services import notify
from ..people.models import User
from ..proposals.models import Proposal
from ..text import clean
from ..timeutil import today_paris, utcnow
from .lifecycle import ITEMS
from .models import (
    AgendaItem,
    Assessment,
    AssessmentScore,
    Conflict,
    Vote,
)
from .policy import (
    can_assess,
    can_declare_conflict,
    recused_ids,
)
from .settings import active_criteria

CONFLICT_REASON_MIN, CONFLICT_REASON_MAX = 5, 500
ASSESSMENT_COMMENT_MAX = 3000


def declare_conflict(actor: User, proposal: Proposal, *, reason: str) -> Conflict:
    refuse(can_declare_conflict(actor, proposal))
    reason = clean(reason)
    if not CONFLICT_REASON_MIN <= len(reason) <= CONFLICT_REASON_MAX:
        raise ValidationFailed({"reason": f"Indiquez la nature du conflit en {CONFLICT_REASON_MIN} à "
                                          f"{CONFLICT_REASON_MAX} caractères (vue du collectif)."})
    if not insert_ignoring_duplicates(Conflict, proposal_id=proposal.id, user_id=actor.id,
                                      reason=reason, created_at=utcnow()):
        raise InvalidTransition("Vous avez déjà déclaré un conflit d'intérêts sur cette proposition.")
    # A recused member's assessment and open votes no longer count.
    db.session.execute(delete(AssessmentScore).where(AssessmentScore.assessment_id.in_(
        select(Assessment.id).where(Assessment.proposal_id == proposal.id, Assessment.user_id == actor.id))))
    db.session.execute(delete(Assessment).where(Assessment.proposal_id == proposal.id,
                                                Assessment.user_id == actor.id))
    db.session.execute(delete(Vote).where(Vote.user_id == actor.id, Vote.item_id.in_(
        select(AgendaItem.id).where(AgendaItem.proposal_id == proposal.id, AgendaItem.status.in_(ITEMS.sources("vote"))))))
    record("review.conflict_declared", actor=actor, institution_id=proposal.institution_id,
           target=proposal, data={"reason": reason})
    return db.session.scalar(select(Conflict).where(Conflict.proposal_id == proposal.id,
                                                    Conflict.user_id == actor.id))


def save_assessment(actor: User, proposal: Proposal, *, scores: dict[int, Any], comment: str) -> Assessment:
    refuse(can_assess(actor, proposal))
    criteria = active_criteria(proposal.institution_id)
    errors: dict[str, str] = {}
    clean_scores: dict[int, int] = {}
    for criterion in criteria:
        try:
            value = int(scores.get(criterion.id))
            if not 1 <= value <= 5:
                raise ValueError
            clean_scores[criterion.id] = value
        except (TypeError, ValueError):
            errors[f"criterion_{criterion.id}"] = f"Notez « {criterion.name} » de 1 à 5."
    comment = clean(comment)
    if len(comment) > ASSESSMENT_COMMENT_MAX:
        errors["comment"] = f"{ASSESSMENT_COMMENT_MAX} caractères au plus."
    if errors:
        raise ValidationFailed(errors)
    assessment = db.session.scalar(select(Assessment).where(
        Assessment.proposal_id == proposal.id, Assessment.user_id == actor.id))
    created = assessment is None
    if created:
        assessment = Assessment(proposal_id=proposal.id, user_id=actor.id)
        db.session.add(assessment)
    assessment.comment = comment
    assessment.updated_at = utcnow()
    existing = {s.criterion_id: s for s in assessment.scores}
    for criterion_id, value in clean_scores.items():
        if criterion_id in existing:
            existing[criterion_id].score = value
        else:
            assessment.scores.append(AssessmentScore(criterion_id=criterion_id, score=value))
    db.session.flush()
    record("review.assessed" if created else "review.assessment_revised", actor=actor,
           institution_id=proposal.institution_id, target=proposal)
    return assessment


def notify_members_to_assess(proposal: Proposal) -> None:
    members = users_by_id(current_member_ids(proposal.institution_id, today_paris()) - recused_ids(proposal))
    notify(members, "collective", "Une nouvelle proposition à évaluer",
           f"« {proposal.title} » est en instruction : vous pouvez l'évaluer.", link("review.assess", proposal_id=proposal.id))
