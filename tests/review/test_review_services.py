"""Guards of the arbitration, through the service functions (the views are thin)."""

import pytest
from sqlalchemy import func, select

from incubator.errors import InvalidTransition, NotAllowed, ValidationFailed
from incubator.extensions import db
from incubator.review import assessments, decisions, eligibility, policy, voting
from incubator.review.models import Assessment, Decision, Vote
from incubator.timeutil import today_paris
from tests.factories import (
    make_criterion,
    make_proposal,
    make_session,
    make_settings,
    make_user,
)

RATIONALE = ("Le collectif retient la proposition : elle répond à un besoin réel des usagers, "
             "reste faisable avec les moyens actuels et a été bien évaluée.")


@pytest.fixture
def collective():
    coordinator = make_user(roles=["coordinator"], collective=True, first_name="Coord")
    unit = coordinator.org_unit
    members = [make_user(org_unit=unit, collective=True, first_name=f"Membre{i}") for i in range(4)]
    author = make_user(org_unit=unit, collective=True, first_name="Autrice")
    agent = make_user(org_unit=unit)
    criteria = [make_criterion(coordinator.institution, weight=w) for w in (3, 1)]
    return {"coordinator": coordinator, "members": members, "author": author, "agent": agent,
            "criteria": criteria, "institution": coordinator.institution}


def _scheduled(c, **settings):
    make_settings(c["institution"], **settings)
    proposal = make_proposal(author=c["author"], state="in_review")
    session = make_session(c["institution"], created_by=c["coordinator"])
    item = voting.schedule(c["coordinator"], session, proposal)
    return proposal, session, item


def test_only_the_coordinator_opens_review_or_declares_ineligible(collective):
    proposal = make_proposal(author=collective["author"], state="submitted")
    for person in (collective["agent"], collective["members"][0], collective["author"]):
        with pytest.raises(NotAllowed):
            eligibility.open_review(person, proposal)
    eligibility.open_review(collective["coordinator"], proposal)
    assert proposal.state == "in_review"
    with pytest.raises(InvalidTransition):
        eligibility.open_review(collective["coordinator"], proposal)
    decision = db.session.scalar(select(Decision))
    assert (decision.kind, decision.outcome) == ("eligibility", "eligible")


def test_ineligibility_needs_a_listed_reason_text_and_duplicate_link(collective):
    make_settings(collective["institution"])
    original = make_proposal(author=collective["agent"], state="in_review")
    proposal = make_proposal(author=collective["author"], state="submitted")
    coordinator = collective["coordinator"]
    with pytest.raises(ValidationFailed) as exc:
        eligibility.declare_ineligible(coordinator, proposal, reason="Parce que", rationale="court")
    assert set(exc.value.errors) == {"reason", "rationale"}
    with pytest.raises(ValidationFailed) as exc:
        eligibility.declare_ineligible(coordinator, proposal, reason="Doublon d'une proposition existante",
                                    rationale=RATIONALE, duplicate_of_id=proposal.id)
    assert "duplicate_of_id" in exc.value.errors
    assert proposal.state == "submitted"
    decision = eligibility.declare_ineligible(coordinator, proposal, reason="Doublon d'une proposition existante",
                                           rationale=RATIONALE, duplicate_of_id=original.id)
    assert proposal.state == "not_eligible" and decision.duplicate_of_id == original.id


def test_assessment_by_members_only_not_recused_and_revisable_until_decided(collective):
    proposal = make_proposal(author=collective["author"], state="in_review")
    member = collective["members"][0]
    good = {c.id: 4 for c in collective["criteria"]}
    with pytest.raises(NotAllowed, match="membres du collectif"):
        assessments.save_assessment(collective["agent"], proposal, scores=good, comment="")
    with pytest.raises(NotAllowed, match="récusé"):
        assessments.save_assessment(collective["author"], proposal, scores=good, comment="")
    with pytest.raises(ValidationFailed) as exc:
        assessments.save_assessment(member, proposal, scores={collective["criteria"][0].id: 6}, comment="")
    assert len(exc.value.errors) == 2
    assessments.save_assessment(member, proposal, scores=good, comment="Bien.")
    assessments.save_assessment(member, proposal, scores={c.id: 2 for c in collective["criteria"]}, comment="Revu.")
    assessment = db.session.scalar(select(Assessment))
    assert sorted(s.score for s in assessment.scores) == [2, 2] and assessment.comment == "Revu."
    proposal.state = "accepted"
    with pytest.raises(InvalidTransition):
        assessments.save_assessment(member, proposal, scores=good, comment="")


def test_declared_conflict_recuses_and_removes_the_assessment(collective):
    proposal = make_proposal(author=collective["author"], state="in_review")
    member = collective["members"][1]
    assessments.save_assessment(member, proposal, scores={c.id: 3 for c in collective["criteria"]}, comment="")
    with pytest.raises(ValidationFailed):
        assessments.declare_conflict(member, proposal, reason="")
    assessments.declare_conflict(member, proposal, reason="Mon conjoint dirige ce service.")
    assert db.session.scalar(select(func.count()).select_from(Assessment)) == 0
    assert "conflit" in policy.recusal_reason(member, proposal)
    with pytest.raises(NotAllowed):
        assessments.save_assessment(member, proposal, scores={c.id: 3 for c in collective["criteria"]}, comment="")
    with pytest.raises(InvalidTransition):
        assessments.declare_conflict(member, proposal, reason="Encore une fois.")
    with pytest.raises(NotAllowed):
        assessments.declare_conflict(collective["agent"], proposal, reason="Pas membre du tout.")


def test_coauthors_invited_or_accepted_are_recused(collective):
    invited, accepted = collective["members"][0], collective["members"][1]
    proposal = make_proposal(author=collective["agent"], state="in_review", coauthors=(accepted,), invited=(invited,))
    assert policy.recused_ids(proposal) == {collective["agent"].id, invited.id, accepted.id}


def test_vote_guards_presence_recusal_state_and_choices(collective):
    proposal, session, item = _scheduled(collective)
    coordinator, (m0, m1, m2, m3) = collective["coordinator"], collective["members"]
    with pytest.raises(InvalidTransition, match="présences"):
        voting.open_vote(coordinator, item)
    voting.set_attendance(coordinator, session, present_ids=[coordinator.id, m0.id, m1.id, m2.id, collective["author"].id])
    with pytest.raises(ValidationFailed):
        voting.set_attendance(coordinator, session, present_ids=[collective["agent"].id])
    with pytest.raises(InvalidTransition, match="pas ouvert"):
        voting.cast_vote(m0, item, choice="for")
    voting.open_vote(coordinator, item)
    with pytest.raises(InvalidTransition):
        voting.open_vote(coordinator, item)
    voting.cast_vote(m0, item, choice="for")
    voting.cast_vote(m0, item, choice="against")  # changed, still one vote
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 1
    with pytest.raises(NotAllowed, match="présents"):
        voting.cast_vote(m3, item, choice="for")
    with pytest.raises(NotAllowed, match="récusé"):
        voting.cast_vote(collective["author"], item, choice="for")
    with pytest.raises(NotAllowed):
        voting.cast_vote(collective["agent"], item, choice="for")
    with pytest.raises(ValidationFailed):
        voting.cast_vote(m1, item, choice="consent")
    with pytest.raises(InvalidTransition, match="Un vote est en cours"):
        voting.set_attendance(coordinator, session, present_ids=[m0.id])


def _run_vote(c, choices: dict, present: list, **settings):
    proposal, session, item = _scheduled(c, **settings)
    voting.set_attendance(c["coordinator"], session, present_ids=[u.id for u in present])
    voting.open_vote(c["coordinator"], item)
    for user, (choice, *reason) in choices.items():
        voting.cast_vote(user, item, choice=choice, reason=reason[0] if reason else "")
    return proposal, item, voting.close_vote(c["coordinator"], item)


def test_majority_adopts_with_more_for_than_against(collective):
    m = collective["members"]
    proposal, item, result = _run_vote(collective, {m[0]: ("for",), m[1]: ("for",), m[2]: ("against",), m[3]: ("abstain",)}, present=m)
    assert result == "adopted" and item.tally["counts"] == {"for": 2, "against": 1, "abstain": 1}


def test_majority_tie_is_not_adopted(collective):
    m = collective["members"]
    _, item, result = _run_vote(collective, {m[0]: ("for",), m[1]: ("against",), m[2]: ("abstain",)}, present=m)
    assert result == "not_adopted"


def test_no_quorum_postpones_without_decision(collective):
    m = collective["members"]
    # 6 non-recused members (coordinator + 4 + agent? no: coordinator + 4 members), quorum 80 %: 4 present needed.
    proposal, item, result = _run_vote(collective, {m[0]: ("for",), m[1]: ("for",)}, present=m[:3], quorum_percent=80)
    assert result == "no_quorum" and item.status == "postponed"
    assert proposal.state == "in_review"
    assert db.session.scalar(select(func.count()).select_from(Decision)) == 0


def test_consent_without_and_with_objection(collective):
    m = collective["members"]
    _, _, result = _run_vote(collective, {m[0]: ("consent",), m[1]: ("consent",), m[2]: ("consent",)},
                             present=m, decision_rule="consent")
    assert result == "adopted"


def test_consent_objection_needs_a_reason_and_blocks(collective):
    m = collective["members"]
    proposal, session, item = _scheduled(collective, decision_rule="consent")
    voting.set_attendance(collective["coordinator"], session, present_ids=[u.id for u in m])
    voting.open_vote(collective["coordinator"], item)
    with pytest.raises(ValidationFailed):
        voting.cast_vote(m[0], item, choice="objection", reason="non")
    voting.cast_vote(m[0], item, choice="objection", reason="Le coût n'est pas évalué du tout.")
    voting.cast_vote(m[1], item, choice="consent")
    assert voting.close_vote(collective["coordinator"], item) == "not_adopted"
    assert db.session.scalar(select(Vote.reason).where(Vote.choice == "objection")).startswith("Le coût")


def test_publish_needs_rationale_and_matching_outcome_then_cannot_be_repeated(collective):
    m = collective["members"]
    proposal, item, result = _run_vote(collective, {u: ("for",) for u in m}, present=m)
    coordinator = collective["coordinator"]
    with pytest.raises(ValidationFailed) as exc:
        decisions.publish_decision(coordinator, item, outcome="rejected", rationale="Trop court.")
    assert set(exc.value.errors) == {"outcome", "rationale"}
    assert proposal.state == "scheduled"
    with pytest.raises(NotAllowed):
        decisions.publish_decision(m[0], item, outcome="accepted", rationale=RATIONALE)
    decision = decisions.publish_decision(coordinator, item, outcome="accepted", rationale=RATIONALE)
    assert proposal.state == "accepted" and decision.tally["counts"]["for"] == 4
    with pytest.raises(InvalidTransition):
        decisions.publish_decision(coordinator, item, outcome="accepted", rationale=RATIONALE)
    assert db.session.scalar(select(func.count()).select_from(Decision).where(Decision.item_id == item.id)) == 1


def test_correction_is_a_new_linked_decision_that_reopens_the_vote(collective):
    m = collective["members"]
    proposal, item, _ = _run_vote(collective, {u: ("against",) for u in m}, present=m)
    coordinator = collective["coordinator"]
    original = decisions.publish_decision(coordinator, item, outcome="rejected", rationale=RATIONALE)
    with pytest.raises(ValidationFailed):
        decisions.correct_decision(coordinator, original, rationale="Trop court.")
    with pytest.raises(NotAllowed):
        decisions.correct_decision(m[0], original, rationale=RATIONALE)
    correction = decisions.correct_decision(coordinator, original, rationale=RATIONALE)
    assert correction.corrects_id == original.id and correction.outcome == "reopened"
    assert proposal.state == "in_review"  # awaiting a new vote: no outcome set by the correction
    assert original.outcome == "rejected" and original.rationale == RATIONALE
    with pytest.raises(InvalidTransition):
        decisions.correct_decision(coordinator, original, rationale=RATIONALE)
    with pytest.raises(InvalidTransition):  # a correction is no outcome to correct
        decisions.correct_decision(coordinator, correction, rationale=RATIONALE)


def test_correcting_a_not_eligible_decision_sends_the_proposal_back_to_review(collective):
    make_settings(collective["institution"])
    proposal = make_proposal(author=collective["author"], state="submitted")
    coordinator = collective["coordinator"]
    decision = eligibility.declare_ineligible(coordinator, proposal, reason="Hors du champ de compétence de la collectivité",
                                           rationale=RATIONALE)
    correction = decisions.correct_decision(coordinator, decision, rationale=RATIONALE)
    assert proposal.state == "in_review" and (correction.kind, correction.outcome) == ("correction", "eligible")
    assert db.session.scalar(select(func.count()).select_from(Decision).where(
        Decision.outcome.in_(("accepted", "rejected", "changes_requested")))) == 0


def test_session_creation_rules(collective):
    from datetime import date, time, timedelta

    coordinator = collective["coordinator"]
    with pytest.raises(ValidationFailed) as exc:
        voting.create_session(coordinator, starts_on=date(2020, 1, 1), starts_time=None, place="", video_link="ftp://x")
    assert set(exc.value.errors) == {"starts_on", "starts_time", "video_link"}
    with pytest.raises(ValidationFailed) as exc:
        voting.create_session(coordinator, starts_on=today_paris(), starts_time=time(9), place="", video_link="")
    assert set(exc.value.errors) == {"place"}
    with pytest.raises(NotAllowed):
        voting.create_session(collective["members"][0], starts_on=today_paris() + timedelta(days=3),
                                starts_time=time(14), place="Salle", video_link="")
    session = voting.create_session(coordinator, starts_on=today_paris() + timedelta(days=3),
                                      starts_time=time(14), place="Salle", video_link="https://visio.example/x")
    assert session.id is not None


def test_withdrawn_proposal_cannot_be_voted(collective):
    proposal, session, item = _scheduled(collective)
    voting.set_attendance(collective["coordinator"], session, present_ids=[collective["members"][0].id])
    proposal.state = "withdrawn"
    with pytest.raises(InvalidTransition, match="plus inscrite"):
        voting.open_vote(collective["coordinator"], item)
