"""The collective's rules, past sessions with votes and reasoned decisions, an upcoming
session, and proposals to assess for the demo collective member."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from ..audit.models import AuditEvent
from ..collective.services import current_member_ids
from ..extensions import db
from ..people.models import User
from ..proposals.models import CoAuthor, Proposal
from ..review.decisions import record
from ..review.models import (
    DEFAULT_INELIGIBILITY_REASONS,
    AgendaItem,
    Assessment,
    AssessmentScore,
    Attendance,
    Criterion,
    Decision,
    ReviewSession,
    ReviewSettings,
    Vote,
)
from ..timeutil import PARIS, to_paris, today_paris, utcnow

CRITERIA = [
    ("Utilité pour les usagers", "Ce que la proposition change pour les habitants ou les agents qui en bénéficient.", 3),
    ("Faisabilité", "Moyens, délais et compétences nécessaires au regard de ce dont la collectivité dispose.", 2),
    ("Coût et sobriété", "Budget, temps agent et ressources consommées, au regard du gain attendu.", 2),
    ("Transversalité", "Coopération entre services et directions que la proposition suppose ou favorise.", 1),
    ("Impact écologique et social", "Effets sur l'environnement, l'égalité d'accès et les conditions de travail.", 1),
]

RATIONALES = {
    "accepted": ("Le collectif retient cette proposition : elle répond à un besoin exprimé de longue date par les "
                 "usagers et les agents concernés, et sa mise en œuvre reste à la portée des services. Les évaluations "
                 "soulignent en particulier son utilité et sa faisabilité. Un projet sera ouvert, avec une lettre de "
                 "mission précisant le temps de décharge de l'équipe."),
    "rejected": ("Le collectif ne retient pas cette proposition en l'état : son coût de fonctionnement n'est pas "
                 "compensé par le gain attendu, et une démarche voisine est déjà engagée par la direction concernée. "
                 "L'idée reste consultable ; ses auteurs sont invités à rejoindre la démarche existante."),
    "changes_requested": ("Le collectif est favorable à l'intention mais demande de préciser le besoin en temps et le "
                          "service pilote avant de décider : les évaluations divergent sur la faisabilité. Une version "
                          "révisée pourra être inscrite à une prochaine séance."),
}


def _at(day, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=PARIS).astimezone(UTC).replace(tzinfo=None)


def seed(named: dict[str, User]) -> None:
    rng = random.Random(77)
    ville = named["agent"].institution
    coordinator = named["animation"]
    now = utcnow()
    today = today_paris()
    db.session.add(ReviewSettings(institution_id=ville.id, decision_rule="majority", quorum_percent=50,
                                  votes_public=False, target_days=60,
                                  ineligibility_reasons=list(DEFAULT_INELIGIBILITY_REASONS)))
    criteria = [Criterion(institution_id=ville.id, name=n, description=d, weight=w, position=i)
                for i, (n, d, w) in enumerate(CRITERIA, start=1)]
    db.session.add_all(criteria)
    db.session.flush()
    members = sorted(current_member_ids(ville.id, today))
    proposals = db.session.scalars(select(Proposal).where(Proposal.institution_id == ville.id,
                                                          Proposal.submitted_at.is_not(None))
                                   .order_by(Proposal.id)).all()
    coauthors: dict[int, set[int]] = {}
    for pid, uid in db.session.execute(select(CoAuthor.proposal_id, CoAuthor.user_id)):
        coauthors.setdefault(pid, set()).add(uid)

    def event(proposal, action, at, data=None, actor=coordinator):
        db.session.add(AuditEvent(institution_id=ville.id, actor_id=actor.id, action=action,
                                  target_type="Proposal", target_id=proposal.id, data=data or {},
                                  is_public=True, created_at=at))

    def recused(proposal) -> set[int]:
        return {proposal.author_id} | coauthors.get(proposal.id, set())

    def assess(proposal, at, bias: int, skip: set[int] = frozenset()):
        for member_id in members:
            if member_id in recused(proposal) or member_id in skip:
                continue
            assessment = Assessment(proposal_id=proposal.id, user_id=member_id, created_at=at, updated_at=at,
                                    comment=rng.choice(["", "", "Bonne idée, à cadrer.", "Le coût me semble sous-estimé."]))
            for criterion in criteria:
                assessment.scores.append(AssessmentScore(
                    criterion_id=criterion.id, score=max(1, min(5, bias + rng.randint(-1, 1)))))
            db.session.add(assessment)

    decided = [p for p in proposals if p.state in ("accepted", "rejected", "changes_requested")]
    # Eligibility for everything past "submitted".
    for proposal in proposals:
        if proposal.state == "submitted":
            continue
        opened_at = proposal.submitted_at + timedelta(days=rng.randint(2, 6))
        if proposal.state == "not_eligible":
            reason = "Relève d'une décision budgétaire de l'assemblée délibérante"
            record(Decision(
                institution_id=ville.id, proposal_id=proposal.id, kind="eligibility", outcome="not_eligible",
                reason=reason, decided_by_id=coordinator.id, published_at=opened_at,
                rationale=("Un répertoire des compétences engage la gestion des ressources humaines et le dialogue "
                           "social : il relève du plan de formation voté chaque année, et non d'une initiative "
                           "arbitrée par le collectif. La proposition est transmise à la DRH pour ce plan.")), proposal)
            event(proposal, "review.not_eligible", opened_at, {"reason": reason})
            continue
        if proposal.state == "withdrawn":
            continue
        db.session.add(Decision(institution_id=ville.id, proposal_id=proposal.id, kind="eligibility",
                                outcome="eligible", decided_by_id=coordinator.id, published_at=opened_at,
                                rationale="La proposition est recevable : elle entre en instruction et sera "
                                          "évaluée par les membres du collectif sur les critères publiés."))
        event(proposal, "review.opened", opened_at)

    # Past sessions: the decided proposals, grouped by month.
    decided.sort(key=lambda p: p.state_changed_at)
    sessions: dict[str, ReviewSession] = {}
    for proposal in decided:
        day = to_paris(proposal.state_changed_at).date()
        key = day.strftime("%Y-%m")
        if key not in sessions:
            session = ReviewSession(institution_id=ville.id, starts_at=_at(day, 14),
                                    place="Hôtel de ville, salle du conseil", created_by_id=coordinator.id,
                                    created_at=_at(day - timedelta(days=20), 9))
            db.session.add(session)
            db.session.flush()
            absent = set(rng.sample(members, k=2))
            for member_id in members:
                if member_id not in absent:
                    db.session.add(Attendance(session_id=session.id, user_id=member_id))
            session.present_ids = [m for m in members if m not in absent]  # transient helper
            sessions[key] = session
        session = sessions[key]
        outcome = proposal.state
        bias = {"accepted": 4, "rejected": 2, "changes_requested": 3}[outcome]
        assess(proposal, session.starts_at - timedelta(days=7), bias)
        item = AgendaItem(session_id=session.id, proposal_id=proposal.id,
                          position=len([k for k in sessions.values()]) + proposal.id, status="decided",
                          vote_opened_at=session.starts_at, vote_closed_at=session.starts_at + timedelta(minutes=20))
        db.session.add(item)
        db.session.flush()
        voters = [m for m in session.present_ids if m not in recused(proposal)]
        counts = {"for": 0, "against": 0, "abstain": 0}
        for member_id in voters:
            if outcome == "accepted":
                choice = rng.choice(["for", "for", "for", "against", "abstain"])
            elif outcome == "rejected":
                choice = rng.choice(["against", "against", "for", "abstain"])
            else:
                choice = rng.choice(["for", "against", "abstain", "against"])
            counts[choice] += 1
            db.session.add(Vote(item_id=item.id, user_id=member_id, choice=choice,
                                created_at=item.vote_opened_at, updated_at=item.vote_opened_at))
        eligible = len([m for m in members if m not in recused(proposal)])
        adopted = counts["for"] > counts["against"]
        if outcome == "accepted" and not adopted:
            counts["for"], counts["against"] = counts["against"] + 1, max(0, counts["for"] - 1)
        if outcome == "rejected" and adopted:
            counts["for"], counts["against"] = counts["against"], counts["for"]
        adopted = counts["for"] > counts["against"]
        item.result = "adopted" if adopted else "not_adopted"
        item.tally = {"counts": counts, "members": eligible, "present": len(voters),
                      "required": -(-eligible // 2), "quorum_percent": 50, "rule": "majority",
                      "result": item.result}
        published = session.starts_at + timedelta(hours=2)
        record(Decision(institution_id=ville.id, proposal_id=proposal.id, item_id=item.id,
                        session_id=session.id, kind="session", outcome=outcome,
                        rationale=RATIONALES[outcome], tally=item.tally,
                        decided_by_id=coordinator.id, published_at=published), proposal)
        event(proposal, "review.scheduled", session.created_at, {"session_id": session.id})
        event(proposal, "review.decided", published, {"outcome": outcome})
        proposal.state_changed_at = published

    # An upcoming session with the scheduled proposals, and assessments in progress.
    next_day = today + timedelta(days=(3 - today.weekday()) % 7 + 7)
    upcoming = ReviewSession(institution_id=ville.id, starts_at=_at(next_day, 14),
                             place="Hôtel de ville, salle du conseil",
                             video_link="https://visio.belleville-sur-loire.fr/collectif",
                             created_by_id=coordinator.id, created_at=now - timedelta(days=10))
    db.session.add(upcoming)
    db.session.flush()
    position = 0
    for proposal in proposals:
        if proposal.state == "scheduled":
            position += 1
            db.session.add(AgendaItem(session_id=upcoming.id, proposal_id=proposal.id, position=position,
                                      status="pending", tally={}))
            event(proposal, "review.scheduled", upcoming.created_at, {"session_id": upcoming.id})
            assess(proposal, now - timedelta(days=3), 4)
        elif proposal.state == "in_review":
            # collectif@ still has these to assess; some colleagues already did.
            others = {named["collectif"].id} | set(rng.sample(members, k=3))
            assess(proposal, now - timedelta(days=2), rng.choice([3, 4]), skip=others)
    db.session.flush()
