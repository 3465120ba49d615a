"""Arbitration sessions: agenda, attendance, votes and their tally with quorum."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update

from ..audit.services import record
from ..collective.services import current_member_ids, users_by_id
from ..dbutil import insert_ignoring_duplicates, prebuilt
from ..errors import InvalidTransition, NotAllowed, ValidationFailed, refuse
from ..extensions import db
from ..notifications.links import link
from ..notifications.services import notify
from ..people.models import User
from ..proposals.lifecycle import COORDINATOR, SCHEDULED
from ..proposals.models import Proposal
from ..proposals.services import authors_of, move, proposal_link
from ..text import clean
from ..timeutil import PARIS, format_datetime, today_paris, utcnow
from .coordination import (
    coordinator_transition,
    proposal_transition,
    require_coordinator,
)
from .lifecycle import ITEMS
from .models import (
    CHOICES,
    OBJECTION,
    AgendaItem,
    Attendance,
    ReviewSession,
    Vote,
)
from .policy import (  # noqa: F401  (present_ids re-exported)
    ITEM_ACTIONS,
    can_act_on_item,
    can_record_attendance,
    can_schedule_in,
    can_vote,
    present_ids,
    recused_ids,
)
from .settings import settings_for

OBJECTION_REASON_MIN, VOTE_REASON_MAX = 10, 2000
PLACE_MAX, VIDEO_LINK_MAX = 200, 500  # of a session

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
    members = users_by_id(current_member_ids(actor.institution_id, starts_on))
    notify(members, "collective", "Nouvelle séance d'arbitrage",
           f"Séance le {format_datetime(session.starts_at)}, {place or 'en visioconférence'}. "
           "Son ordre du jour se complète sur la page de la séance.", link("review.session", session_id=session.id))
    return session



def schedule(actor: User, session: ReviewSession, proposal: Proposal) -> AgendaItem:
    if session.institution_id != actor.institution_id or proposal.institution_id != session.institution_id:
        raise NotAllowed("Cette séance ou cette proposition appartient à une autre collectivité.")
    transition = coordinator_transition(actor, proposal, "schedule")
    refuse(can_schedule_in(actor, session))
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
    notify(authors_of(proposal), "proposals", "Votre proposition est inscrite en séance",
           f"« {proposal.title} » sera examinée par le collectif pilote lors de la séance du "
           f"{format_datetime(session.starts_at)}.", proposal_link(proposal))
    return item


def set_attendance(actor: User, session: ReviewSession, *, present_ids: list[int]) -> None:
    refuse(can_record_attendance(actor, session))
    members = current_member_ids(session.institution_id, session.day)
    unknown = set(present_ids) - members
    if unknown:
        raise ValidationFailed({"present": "Seuls les membres du collectif en mandat peuvent être présents."})
    db.session.execute(delete(Attendance).where(Attendance.session_id == session.id))
    for user_id in sorted(set(present_ids)):
        db.session.add(Attendance(session_id=session.id, user_id=user_id))
    record("review.attendance_recorded", actor=actor, institution_id=session.institution_id,
           target=session, data={"present": sorted(set(present_ids))}, public=True)



def item_for_update(item: AgendaItem, action: str, message: str) -> None:
    """Take `action` on an agenda item only if it is still in the table's source state: of
    two coordinators acting at once, the second gets `message` and changes nothing."""
    changed = db.session.execute(ITEMS.update(AgendaItem, action, AgendaItem.id == item.id)).rowcount
    if changed != 1:
        raise InvalidTransition(message)
    db.session.refresh(item)


def open_vote(actor: User, item: AgendaItem) -> None:
    session = item.session
    refuse(can_act_on_item(actor, item, "open_vote"))
    item_for_update(item, "open_vote", ITEM_ACTIONS["open_vote"])
    item.vote_opened_at = utcnow()
    record("review.vote_opened", actor=actor, institution_id=session.institution_id,
           target=item.proposal, data={"item_id": item.id})


def cast_vote(actor: User, item: AgendaItem, *, choice: str, reason: str = "") -> None:
    session = item.session
    refuse(can_vote(actor, item))
    rule = settings_for(session.institution_id).decision_rule
    if choice not in CHOICES[rule]:
        raise ValidationFailed({"choice": "Choix de vote inconnu."})
    reason = clean(reason)
    if choice == OBJECTION and len(reason) < OBJECTION_REASON_MIN:
        raise ValidationFailed({"reason": f"Une objection doit être motivée ({OBJECTION_REASON_MIN} caractères au "
                                          "moins) ; elle est consignée."})
    if len(reason) > VOTE_REASON_MAX:
        raise ValidationFailed({"reason": f"{VOTE_REASON_MAX} caractères au plus."})
    now = utcnow()
    if not insert_ignoring_duplicates(Vote, item_id=item.id, user_id=actor.id, choice=choice,
                                      reason=reason, created_at=now, updated_at=now):
        db.session.execute(_vote_changed(), {"item": item.id, "voter": actor.id, "new_choice": choice,
                                             "new_reason": reason, "at": now})


@prebuilt
def _vote_changed():
    # Run inside the vote's write transaction: built once, not at each vote. An UPDATE's
    # parameters may not be named after its columns. No Vote is loaded before it (the answer
    # reads the votes after the commit): the session has nothing to bring in step.
    return (update(Vote).where(Vote.item_id == bindparam("item"), Vote.user_id == bindparam("voter"))
            .values(choice=bindparam("new_choice"), reason=bindparam("new_reason"), updated_at=bindparam("at"))
            .execution_options(synchronize_session=False))


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
            return "adopted" if self.counts.get(OBJECTION, 0) == 0 else "not_adopted"
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
    eligible = current_member_ids(session.institution_id, session.day) - recused_ids(item.proposal)
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
    refuse(can_act_on_item(actor, item, "close"))
    if item.proposal.state != SCHEDULED:
        # Withdrawn by its author during the vote: nothing to decide.
        item_for_update(item, "drop", ITEM_ACTIONS["close"])
        return item.status
    item_for_update(item, "close", ITEM_ACTIONS["close"])
    result = tally(item)
    item.tally = result.as_dict()
    item.result = result.result()
    item.vote_closed_at = utcnow()
    if item.result == "no_quorum":
        ITEMS.move(item, "adjourn", {COORDINATOR})
        transition = proposal_transition(item.proposal, "postpone", actor)
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
    refuse(can_act_on_item(actor, item, "postpone"))
    item_for_update(item, "postpone", ITEM_ACTIONS["postpone"])
    item.result = None
    transition = proposal_transition(item.proposal, "postpone", actor)
    move(item.proposal, transition, actor, audit_action="review.postponed",
         data={"session_id": session.id})
