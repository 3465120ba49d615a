"""The published rules of arbitration: decision rule, quorum, whether votes are public, the
target delay, the reasons of ineligibility, and the weighted criteria."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, select

from ..audit.services import record
from ..dbutil import prebuilt, request_cached
from ..errors import ValidationFailed
from ..extensions import db
from ..people.models import User
from ..text import clean, int_in_range
from .coordination import require_coordinator
from .lifecycle import IN_PROGRESS
from .models import (
    DECISION_RULES,
    DEFAULT_INELIGIBILITY_REASONS,
    AgendaItem,
    Criterion,
    ReviewSession,
    ReviewSettings,
)

CRITERION_NAME_MIN, CRITERION_NAME_MAX = 2, 120
CRITERION_TEXT_MIN, CRITERION_TEXT_MAX = 10, 1000


@prebuilt
def _settings_query():
    return select(ReviewSettings).where(ReviewSettings.institution_id == bindparam("institution_id"))


@request_cached("review_settings")
def settings_for(institution_id: int) -> ReviewSettings:
    """The institution's rules; defaults (unsaved) until the coordinator saves them."""
    found = db.session.scalar(_settings_query(), {"institution_id": institution_id})
    if found is None:
        found = ReviewSettings(institution_id=institution_id, decision_rule="majority",
                               quorum_percent=50, votes_public=False, target_days=60,
                               ineligibility_reasons=list(DEFAULT_INELIGIBILITY_REASONS))
    return found


def save_settings(actor: User, *, decision_rule: str, quorum_percent: Any, votes_public: bool,
                  target_days: Any, ineligibility_reasons: str) -> ReviewSettings:
    require_coordinator(actor, actor.institution_id)
    in_progress = db.session.scalar(
        select(func.count()).select_from(AgendaItem).join(ReviewSession, ReviewSession.id == AgendaItem.session_id)
        .where(ReviewSession.institution_id == actor.institution_id, AgendaItem.status.in_(IN_PROGRESS)))
    if in_progress:
        raise ValidationFailed({"decision_rule": (
            "Un vote est en cours ou une décision attend sa publication : les règles ne changent pas "
            "pendant un arbitrage. Publiez d'abord les décisions en attente.")})
    errors: dict[str, str] = {}
    if decision_rule not in DECISION_RULES:
        errors["decision_rule"] = "Choisissez la règle de décision."
    quorum = int_in_range(quorum_percent, 1, 100)
    if quorum is None:
        errors["quorum_percent"] = "Un pourcentage entre 1 et 100."
    target = int_in_range(target_days, 1, 365)
    if target is None:
        errors["target_days"] = "Un nombre de jours entre 1 et 365."
    reasons = [" ".join(line.split()) for line in clean(ineligibility_reasons).split("\n") if line.strip()]
    if not 1 <= len(reasons) <= 20 or any(len(r) > 200 for r in reasons):
        errors["ineligibility_reasons"] = "Entre 1 et 20 motifs, un par ligne, 200 caractères au plus chacun."
    if errors:
        raise ValidationFailed(errors)
    settings = settings_for(actor.institution_id)
    if settings.id is None:
        db.session.add(settings)
    before = {"rule": settings.decision_rule, "quorum": settings.quorum_percent,
              "votes_public": settings.votes_public, "target_days": settings.target_days}
    settings.decision_rule, settings.quorum_percent = decision_rule, quorum
    settings.votes_public, settings.target_days = bool(votes_public), target
    settings.ineligibility_reasons = reasons
    record("review.settings_changed", actor=actor, institution_id=actor.institution_id,
           target=settings, data={"before": before, "after": {
               "rule": decision_rule, "quorum": quorum, "votes_public": bool(votes_public),
               "target_days": target}}, public=True)
    return settings


def save_criterion(actor: User, criterion: Criterion | None, *, name: str, description: str,
                   weight: Any, is_active: bool = True) -> Criterion:
    require_coordinator(actor, actor.institution_id)
    errors: dict[str, str] = {}
    name = " ".join(clean(name).split())
    if not CRITERION_NAME_MIN <= len(name) <= CRITERION_NAME_MAX:
        errors["name"] = f"Le nom doit compter entre {CRITERION_NAME_MIN} et {CRITERION_NAME_MAX} caractères."
    description = clean(description)
    if not CRITERION_TEXT_MIN <= len(description) <= CRITERION_TEXT_MAX:
        errors["description"] = (f"Expliquez le critère en {CRITERION_TEXT_MIN} à {CRITERION_TEXT_MAX} "
                                 "caractères : il est publié.")
    weight_value = int_in_range(weight, 1, 10)
    if weight_value is None:
        errors["weight"] = "Un poids entier entre 1 et 10."
    if errors:
        raise ValidationFailed(errors)
    if criterion is None:
        position = db.session.scalar(select(func.coalesce(func.max(Criterion.position), 0))
                                     .where(Criterion.institution_id == actor.institution_id)) + 1
        criterion = Criterion(institution_id=actor.institution_id, position=position)
        db.session.add(criterion)
    criterion.name, criterion.description, criterion.weight = name, description, weight_value
    criterion.is_active = is_active
    db.session.flush()
    record("review.criterion_saved", actor=actor, institution_id=actor.institution_id,
           target=criterion, data={"name": name, "weight": weight_value, "active": is_active},
           public=True)
    return criterion


@prebuilt
def _active_criteria_query():
    return (select(Criterion).where(Criterion.institution_id == bindparam("institution_id"),
                                    Criterion.is_active.is_(True))
            .order_by(Criterion.position, Criterion.id))


def active_criteria(institution_id: int) -> list[Criterion]:
    return list(db.session.scalars(_active_criteria_query(), {"institution_id": institution_id}))
