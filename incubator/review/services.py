"""State changes of the arbitration. Each takes the acting user, checks role, state and
recusal, changes the models, records the public audit event; the caller commits."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import delete, func, select, update

from ..accounts.models import CollectiveMembership, User
from ..accounts.services import agent_by_email
from ..audit.services import record
from ..dbutil import MAX_ID, insert_ignoring_duplicates, lock_row, request_cached
from ..errors import InvalidTransition, NotAllowed, ValidationFailed
from ..extensions import db
from ..notifications.links import link
from ..notifications.services import notify
from ..proposals.lifecycle import COORDINATOR, SCHEDULED, Transition
from ..proposals.models import Proposal
from ..proposals.services import authors_of, move, proposal_link, require_transition
from ..text import clean, int_in_range
from ..timeutil import PARIS, to_paris, today_paris, utcnow
from .lifecycle import IN_PROGRESS, ITEMS
from .models import (
    CHOICES,
    DECISION_RULES,
    DEFAULT_INELIGIBILITY_REASONS,
    DUPLICATE_REASON,
    AgendaItem,
    Assessment,
    AssessmentScore,
    Attendance,
    Conflict,
    Criterion,
    Decision,
    ProposalSubstitute,
    ReviewSession,
    ReviewSettings,
    Vote,
)
from .policy import (
    NO_SUBSTITUTE_STATES,
    can_act_as_coordinator,
    can_designate_substitute,
    can_record_attendance,
    correction_refusal,
    recusal_reason,
    recused_ids,
    substitute_for,
)

# Input limits: the services check them, the forms (review/forms.py) and so the pages read
# them from here.
RATIONALE_MIN, RATIONALE_MAX = 80, 5000  # a published decision's motivation
CRITERION_NAME_MIN, CRITERION_NAME_MAX = 2, 120
CRITERION_TEXT_MIN, CRITERION_TEXT_MAX = 10, 1000
CONFLICT_REASON_MIN, CONFLICT_REASON_MAX = 5, 500
ASSESSMENT_COMMENT_MAX = 3000
OBJECTION_REASON_MIN, VOTE_REASON_MAX = 10, 2000
PLACE_MAX, VIDEO_LINK_MAX = 200, 500  # of a session
OUTCOME_TRANSITIONS = {"accepted": "accept", "rejected": "reject", "changes_requested": "request_changes"}
OUTCOMES_BY_RESULT = {
    "adopted": ("accepted", "changes_requested"),
    "not_adopted": ("rejected", "changes_requested"),
}


# --------------------------------------------------------------------------- context


@request_cached("review_settings")
def settings_for(institution_id: int) -> ReviewSettings:
    """The institution's rules; defaults (unsaved) until the coordinator saves them."""
    found = db.session.scalar(select(ReviewSettings).where(ReviewSettings.institution_id == institution_id))
    if found is None:
        found = ReviewSettings(institution_id=institution_id, decision_rule="majority",
                               quorum_percent=50, votes_public=False, target_days=60,
                               ineligibility_reasons=list(DEFAULT_INELIGIBILITY_REASONS))
    return found


def require_coordinator(actor: User, institution_id: int) -> None:
    if actor.institution_id != institution_id or not actor.has_role("coordinator"):
        raise NotAllowed("Cette action revient à l'animation du collectif pilote.")


@request_cached("collective_memberships", "users")
def current_member_ids(institution_id: int, on: date) -> frozenset[int]:
    return frozenset(db.session.scalars(
        select(CollectiveMembership.user_id).join(User, User.id == CollectiveMembership.user_id)
        .where(CollectiveMembership.institution_id == institution_id,
               CollectiveMembership.starts_on <= on,
               (CollectiveMembership.ends_on.is_(None)) | (CollectiveMembership.ends_on >= on),
               User.is_active.is_(True))
    ))


def _users(ids) -> list[User]:
    return list(db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.id))) if ids else []


def is_member(user: User, on: date | None = None) -> bool:
    return user.id in current_member_ids(user.institution_id, on or today_paris())


def require_coordinator_on(actor: User, proposal: Proposal) -> None:
    """The coordinator's actions on one proposal: a coordinator not recused on it, or its
    designated substitute (review.policy)."""
    refusal = can_act_as_coordinator(actor, proposal)
    if refusal:
        raise NotAllowed(refusal)


def _transition(proposal: Proposal, action: str, actor: User) -> Transition:
    """The lifecycle table's verdict for a coordinator action, once require_coordinator_on
    has let `actor` act on `proposal`."""
    return require_transition(proposal, action, actor, capacities={COORDINATOR})


def _coordinator_transition(actor: User, proposal: Proposal, action: str) -> Transition:
    require_coordinator_on(actor, proposal)
    return _transition(proposal, action, actor)


def _require_member_not_recused(actor: User, proposal: Proposal, on: date | None = None) -> None:
    if actor.institution_id != proposal.institution_id:
        raise NotAllowed("Cette proposition appartient à une autre collectivité.")
    if not is_member(actor, on):
        raise NotAllowed("Seuls les membres du collectif pilote en mandat peuvent évaluer et voter.")
    reason = recusal_reason(actor, proposal)
    if reason:
        raise NotAllowed("Vous êtes récusé·e sur cette proposition. " + reason)


def _check_rationale(rationale: str, field: str = "rationale") -> str:
    rationale = clean(rationale)
    if len(rationale) < RATIONALE_MIN:
        raise ValidationFailed({field: (
            f"La motivation est obligatoire et doit expliquer la décision en quelques phrases "
            f"({RATIONALE_MIN} caractères au moins, {len(rationale)} saisis).")})
    if len(rationale) > RATIONALE_MAX:
        raise ValidationFailed({field: f"{RATIONALE_MAX} caractères au plus."})
    return rationale


# --------------------------------------------------------------------------- settings


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


def active_criteria(institution_id: int) -> list[Criterion]:
    return list(db.session.scalars(select(Criterion).where(
        Criterion.institution_id == institution_id, Criterion.is_active.is_(True))
        .order_by(Criterion.position, Criterion.id)))


# --------------------------------------------------------------------------- eligibility


def open_review(actor: User, proposal: Proposal, *, rationale: str = "") -> Decision:
    transition = _coordinator_transition(actor, proposal, "open_review")
    text = clean(rationale) or ("La proposition est recevable : elle entre en instruction et sera "
                                "évaluée par les membres du collectif sur les critères publiés.")
    decision = Decision(institution_id=proposal.institution_id, proposal_id=proposal.id,
                        kind="eligibility", outcome="eligible", rationale=text[:RATIONALE_MAX],
                        decided_by_id=actor.id)
    db.session.add(decision)
    db.session.flush()
    move(proposal, transition, actor, audit_action="review.opened", data={"decision_id": decision.id})
    notify(authors_of(proposal), "proposals", "Votre proposition est recevable",
           f"« {proposal.title} » entre en instruction : les membres du collectif l'évaluent sur les critères publiés.",
           proposal_link(proposal))
    _notify_members_to_assess(proposal)
    return decision


def _notify_members_to_assess(proposal: Proposal) -> None:
    members = _users(current_member_ids(proposal.institution_id, today_paris()) - recused_ids(proposal))
    notify(members, "collective", "Une nouvelle proposition à évaluer",
           f"« {proposal.title} » est en instruction : vous pouvez l'évaluer.", link("review.assess", proposal_id=proposal.id))


def declare_ineligible(actor: User, proposal: Proposal, *, reason: str, rationale: str,
                       duplicate_of_id: Any = None) -> Decision:
    transition = _coordinator_transition(actor, proposal, "declare_ineligible")
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
        text = _check_rationale(rationale)
    except ValidationFailed as exc:
        errors.update({k: v[0] for k, v in exc.errors.items()})
    if errors:
        raise ValidationFailed(errors)
    decision = Decision(institution_id=proposal.institution_id, proposal_id=proposal.id,
                        kind="eligibility", outcome="not_eligible", reason=reason,
                        duplicate_of_id=duplicate.id if duplicate else None, rationale=text,
                        decided_by_id=actor.id)
    db.session.add(decision)
    db.session.flush()
    move(proposal, transition, actor, audit_action="review.not_eligible",
         data={"decision_id": decision.id, "reason": reason})
    notify(authors_of(proposal), "proposals", "Décision de recevabilité sur votre proposition",
           f"« {proposal.title} » est déclarée non recevable : {reason}. La motivation est publiée sur la proposition.",
           proposal_link(proposal))
    return decision


# --------------------------------------------------------------------------- assessments


def declare_conflict(actor: User, proposal: Proposal, *, reason: str) -> Conflict:
    # The coordinators and the proposal's substitute too: the declaration recuses them.
    substitute = substitute_for(proposal)
    if actor.institution_id != proposal.institution_id or not (
            is_member(actor) or actor.has_role("coordinator") or (substitute is not None and substitute.id == actor.id)):
        raise NotAllowed("Seuls les membres du collectif pilote et l'animation déclarent un conflit d'intérêts.")
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
    _require_member_not_recused(actor, proposal)
    if proposal.state not in ("in_review", "scheduled"):
        raise InvalidTransition("Cette proposition n'est plus en cours d'évaluation.")
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


# --------------------------------------------------------------------------- sessions

_URL = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)


def create_session(actor: User, *, starts_on: date | None, starts_time: time | None,
                   place: str, video_link: str) -> ReviewSession:
    require_coordinator(actor, actor.institution_id)
    errors: dict[str, str] = {}
    if starts_on is None:
        errors["starts_on"] = "Indiquez la date de la séance."
    elif starts_on < today_paris():
        errors["starts_on"] = "La séance ne peut pas être dans le passé."
    if starts_time is None:
        errors["starts_time"] = "Indiquez l'heure de début."
    place, video_link = clean(place)[:PLACE_MAX], clean(video_link)
    if not place and not video_link:
        errors["place"] = "Indiquez un lieu ou un lien de visioconférence."
    if video_link and (not _URL.match(video_link) or len(video_link) > VIDEO_LINK_MAX):
        errors["video_link"] = f"Un lien commençant par https:// ({VIDEO_LINK_MAX} caractères au plus)."
    if errors:
        raise ValidationFailed(errors)
    local = datetime.combine(starts_on, starts_time, tzinfo=PARIS)
    session = ReviewSession(institution_id=actor.institution_id,
                            starts_at=local.astimezone(UTC).replace(tzinfo=None),
                            place=place, video_link=video_link, created_by_id=actor.id)
    db.session.add(session)
    db.session.flush()
    record("review.session_created", actor=actor, institution_id=actor.institution_id,
           target=session, data={"starts_at": session.starts_at.isoformat()}, public=True)
    from ..timeutil import format_datetime

    members = _users(current_member_ids(actor.institution_id, starts_on))
    notify(members, "collective", "Nouvelle séance d'arbitrage",
           f"Séance le {format_datetime(session.starts_at)}, {place or 'en visioconférence'}. "
           "Son ordre du jour se complète sur la page de la séance.", link("review.session", session_id=session.id))
    return session


def _session_day(session: ReviewSession) -> date:
    return to_paris(session.starts_at).date()


def schedule(actor: User, session: ReviewSession, proposal: Proposal) -> AgendaItem:
    if session.institution_id != actor.institution_id or proposal.institution_id != session.institution_id:
        raise NotAllowed("Cette séance ou cette proposition appartient à une autre collectivité.")
    transition = _coordinator_transition(actor, proposal, "schedule")
    if _session_day(session) < today_paris():
        raise InvalidTransition("Cette séance est passée : inscrivez la proposition à une séance à venir.")
    position = db.session.scalar(select(func.coalesce(func.max(AgendaItem.position), 0))
                                 .where(AgendaItem.session_id == session.id)) + 1
    existing = db.session.scalar(select(AgendaItem).where(AgendaItem.session_id == session.id,
                                                          AgendaItem.proposal_id == proposal.id))
    if existing is not None:
        # A point postponed earlier in this session comes back on its agenda, its votes cleared.
        db.session.execute(delete(Vote).where(Vote.item_id == existing.id))
        done = db.session.execute(ITEMS.update(AgendaItem, "reschedule", AgendaItem.id == existing.id,
                                               result=None, tally={}, position=position)).rowcount
        if done != 1:
            raise InvalidTransition("Cette proposition est déjà à l'ordre du jour de cette séance.")
        db.session.refresh(existing)
    elif not insert_ignoring_duplicates(AgendaItem, session_id=session.id, proposal_id=proposal.id,
                                        position=position, status=ITEMS.initial, tally={}):
        raise InvalidTransition("Cette proposition est déjà à l'ordre du jour de cette séance.")
    item = db.session.scalar(select(AgendaItem).where(AgendaItem.session_id == session.id,
                                                      AgendaItem.proposal_id == proposal.id))
    move(proposal, transition, actor, audit_action="review.scheduled",
         data={"session_id": session.id, "session_at": session.starts_at.isoformat()})
    from ..timeutil import format_datetime

    notify(authors_of(proposal), "proposals", "Votre proposition est inscrite en séance",
           f"« {proposal.title} » sera examinée par le collectif pilote lors de la séance du "
           f"{format_datetime(session.starts_at)}.", proposal_link(proposal))
    return item


def set_attendance(actor: User, session: ReviewSession, *, present_ids: list[int]) -> None:
    refusal = can_record_attendance(actor, session)
    if refusal:
        raise NotAllowed(refusal)
    if db.session.scalar(select(func.count()).select_from(AgendaItem).where(
            AgendaItem.session_id == session.id, AgendaItem.status.in_(ITEMS.sources("vote")))):
        raise InvalidTransition("Un vote est en cours : clôturez-le avant de modifier les présences.")
    members = current_member_ids(session.institution_id, _session_day(session))
    unknown = set(present_ids) - members
    if unknown:
        raise ValidationFailed({"present": "Seuls les membres du collectif en mandat peuvent être présents."})
    db.session.execute(delete(Attendance).where(Attendance.session_id == session.id))
    for user_id in sorted(set(present_ids)):
        db.session.add(Attendance(session_id=session.id, user_id=user_id))
    record("review.attendance_recorded", actor=actor, institution_id=session.institution_id,
           target=session, data={"present": sorted(set(present_ids))}, public=True)


@request_cached("attendances")
def present_ids(session: ReviewSession) -> frozenset[int]:
    return frozenset(db.session.scalars(select(Attendance.user_id).where(Attendance.session_id == session.id)))


def _item_for_update(item: AgendaItem, action: str, message: str) -> None:
    """Take `action` on an agenda item only if it is still in the table's source state: of
    two coordinators acting at once, the second gets `message` and changes nothing."""
    changed = db.session.execute(ITEMS.update(AgendaItem, action, AgendaItem.id == item.id)).rowcount
    if changed != 1:
        raise InvalidTransition(message)
    db.session.refresh(item)


def open_vote(actor: User, item: AgendaItem) -> None:
    session = item.session
    require_coordinator_on(actor, item.proposal)
    if item.proposal.state != SCHEDULED:
        raise InvalidTransition("La proposition n'est plus inscrite en séance (retirée ou déjà décidée).")
    if not present_ids(session):
        raise InvalidTransition("Enregistrez d'abord les présences de la séance.")
    _item_for_update(item, "open_vote", "Le vote de ce point est déjà ouvert ou clos.")
    item.vote_opened_at = utcnow()
    record("review.vote_opened", actor=actor, institution_id=session.institution_id,
           target=item.proposal, data={"item_id": item.id})


def cast_vote(actor: User, item: AgendaItem, *, choice: str, reason: str = "") -> None:
    session = item.session
    proposal = item.proposal
    _require_member_not_recused(actor, proposal, _session_day(session))
    if ITEMS.transition(item.status, "vote") is None or proposal.state != SCHEDULED:
        raise InvalidTransition("Le vote n'est pas ouvert sur ce point.")
    if actor.id not in present_ids(session):
        raise NotAllowed("Seuls les membres présents à la séance votent.")
    rule = settings_for(session.institution_id).decision_rule
    if choice not in CHOICES[rule]:
        raise ValidationFailed({"choice": "Choix de vote inconnu."})
    reason = clean(reason)
    if choice == "objection" and len(reason) < OBJECTION_REASON_MIN:
        raise ValidationFailed({"reason": f"Une objection doit être motivée ({OBJECTION_REASON_MIN} caractères au "
                                          "moins) ; elle est consignée."})
    if len(reason) > VOTE_REASON_MAX:
        raise ValidationFailed({"reason": f"{VOTE_REASON_MAX} caractères au plus."})
    now = utcnow()
    if not insert_ignoring_duplicates(Vote, item_id=item.id, user_id=actor.id, choice=choice,
                                      reason=reason, created_at=now, updated_at=now):
        db.session.execute(update(Vote).where(Vote.item_id == item.id, Vote.user_id == actor.id)
                           .values(choice=choice, reason=reason, updated_at=now))


@dataclass
class Tally:
    counts: dict[str, int]
    members: int  # active, non-recused members of the collective on the session day
    present: int  # of whom present
    required: int  # present needed for the quorum
    quorum_percent: int
    rule: str

    @property
    def quorum_met(self) -> bool:
        return self.present > 0 and self.present >= self.required

    @property
    def cast(self) -> int:
        return sum(self.counts.values())

    def result(self) -> str:
        if not self.quorum_met:
            return "no_quorum"
        if self.rule == "consent":
            return "adopted" if self.counts.get("objection", 0) == 0 else "not_adopted"
        return "adopted" if self.counts.get("for", 0) > self.counts.get("against", 0) else "not_adopted"

    votes_public: bool = False

    def as_dict(self) -> dict[str, Any]:
        # The rules in force when the vote closed travel with its result.
        return {"counts": self.counts, "members": self.members, "present": self.present,
                "required": self.required, "quorum_percent": self.quorum_percent,
                "rule": self.rule, "votes_public": self.votes_public, "result": self.result()}


def tally(item: AgendaItem, votes: list[Vote] | None = None) -> Tally:
    """The item's count from the stored votes (read here unless given) of present,
    non-recused members."""
    session = item.session
    settings = settings_for(session.institution_id)
    eligible = current_member_ids(session.institution_id, _session_day(session)) - recused_ids(item.proposal)
    present = present_ids(session) & eligible
    counts = {choice: 0 for choice in CHOICES[settings.decision_rule]}
    if votes is None:
        rows = db.session.execute(select(Vote.user_id, Vote.choice).where(Vote.item_id == item.id)).all()
    else:
        rows = [(v.user_id, v.choice) for v in votes]
    for user_id, choice in rows:
        if user_id in present and choice in counts:
            counts[choice] += 1
    return Tally(counts=counts, members=len(eligible), present=len(present),
                 required=math.ceil(settings.quorum_percent * len(eligible) / 100),
                 quorum_percent=settings.quorum_percent, rule=settings.decision_rule,
                 votes_public=settings.votes_public)


def close_vote(actor: User, item: AgendaItem) -> str:
    """Close the vote; the result follows from the rule and the quorum. Without quorum the
    item is postponed and the proposal goes back to review, undecided."""
    session = item.session
    require_coordinator_on(actor, item.proposal)
    if item.proposal.state != SCHEDULED:
        # Withdrawn by its author during the vote: nothing to decide.
        _item_for_update(item, "drop", "Le vote de ce point est déjà clos.")
        return item.status
    _item_for_update(item, "close", "Le vote de ce point est déjà clos.")
    result = tally(item)
    item.tally = result.as_dict()
    item.result = result.result()
    item.vote_closed_at = utcnow()
    if item.result == "no_quorum":
        ITEMS.move(item, "adjourn", {COORDINATOR})
        transition = _transition(item.proposal, "postpone", actor)
        move(item.proposal, transition, actor, audit_action="review.postponed",
             data={"session_id": session.id, "present": result.present, "required": result.required})
    else:
        record("review.vote_closed", actor=actor, institution_id=session.institution_id,
               target=item.proposal, data={"item_id": item.id, "result": item.result,
                                           "counts": result.counts})
    return item.result


def postpone_item(actor: User, item: AgendaItem) -> None:
    """Take a pending item off the agenda (before its vote): back to review."""
    session = item.session
    require_coordinator_on(actor, item.proposal)
    _item_for_update(item, "postpone", "Ce point n'est plus en attente de vote.")
    item.result = None
    transition = _transition(item.proposal, "postpone", actor)
    move(item.proposal, transition, actor, audit_action="review.postponed",
         data={"session_id": session.id})


def publish_decision(actor: User, item: AgendaItem, *, outcome: str, rationale: str) -> Decision:
    """The outcome of a closed vote held with quorum: the only way a proposal is accepted,
    rejected, or sent back for changes."""
    session = item.session
    require_coordinator_on(actor, item.proposal)
    ITEMS.require(item.status, "publish", {COORDINATOR},
                  impossible="La décision de ce point est déjà publiée, ou son vote n'est pas clos.")
    allowed = OUTCOMES_BY_RESULT.get(item.result or "", ())
    errors: dict[str, str] = {}
    if outcome not in allowed:
        errors["outcome"] = "Cette issue ne correspond pas au résultat du vote."
    try:
        text = _check_rationale(rationale)
    except ValidationFailed as exc:
        errors.update({k: v[0] for k, v in exc.errors.items()})
    if errors:
        raise ValidationFailed(errors)
    _item_for_update(item, "publish", "Une autre personne vient de publier la décision de ce point : rechargez la page.")
    transition = _transition(item.proposal, OUTCOME_TRANSITIONS[outcome], actor)
    decision = Decision(institution_id=session.institution_id, proposal_id=item.proposal_id,
                        item_id=item.id, session_id=session.id, kind="session", outcome=outcome,
                        rationale=text, tally=item.tally, decided_by_id=actor.id)
    db.session.add(decision)
    db.session.flush()
    move(item.proposal, transition, actor, audit_action="review.decided",
         data={"decision_id": decision.id, "outcome": outcome})
    from .models import OUTCOME_LABELS

    notify(authors_of(item.proposal), "proposals", "Décision sur votre proposition",
           f"Le collectif pilote a rendu sa décision sur « {item.proposal.title} » : {OUTCOME_LABELS[outcome]}. "
           f"Motivation : {text[:300]}{'…' if len(text) > 300 else ''}", proposal_link(item.proposal))
    members = _users(present_ids(session))
    notify(members, "collective", "Résultat de séance publié",
           f"Décision publiée pour « {item.proposal.title} » : {OUTCOME_LABELS[outcome]}.", link("review.journal"),
           exclude=actor)
    if outcome == "accepted" and item.proposal.kind == "initiative":
        from ..projects.services import create_from_proposal

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
    text = _check_rationale(rationale)
    transition = _transition(proposal, "correct", actor)
    reopens_review = decision.outcome == "not_eligible"
    correction = Decision(institution_id=decision.institution_id, proposal_id=proposal.id, kind="correction",
                          outcome="eligible" if reopens_review else "reopened", rationale=text,
                          corrects_id=decision.id, decided_by_id=actor.id)
    db.session.add(correction)
    db.session.flush()
    move(proposal, transition, actor, audit_action="review.corrected",
         data={"decision_id": correction.id, "corrects": decision.id, "corrected": decision.outcome})
    notify(authors_of(proposal), "proposals", "Une décision sur votre proposition est corrigée",
           f"La décision sur « {proposal.title} » est corrigée : la proposition " + (
               "est recevable et entre en instruction." if reopens_review
               else "retourne en instruction et sera de nouveau votée en séance.")
           + " La motivation de la correction est publiée.", proposal_link(proposal))
    if reopens_review:
        _notify_members_to_assess(proposal)
    return correction


# --------------------------------------------------------------------------- substitutes


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
