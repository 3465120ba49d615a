"""Regressions found by review of the arbitration and projects."""

from datetime import date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from incubator.dashboard import queries as dashboard
from incubator.engagement.queries import Period
from incubator.errors import InvalidTransition, NotAllowed, ValidationFailed
from incubator.extensions import db
from incubator.immersions import services as immersion_services
from incubator.immersions.models import Application
from incubator.projects import services as project_services
from incubator.projects.models import Project
from incubator.proposals import services as proposal_services
from incubator.review import decisions
from incubator.review import settings as review_settings
from incubator.review import voting as review_voting
from incubator.timeutil import PARIS
from tests.factories import (
    make_decision,
    make_institution,
    make_org_unit,
    make_proposal,
    make_session,
    make_settings,
    make_user,
)
from tests.helpers import text

RATIONALE = ("Le collectif retient la proposition : elle répond à un besoin réel des usagers, "
             "reste faisable avec les moyens actuels et a été bien évaluée.")


@pytest.fixture
def voting():
    coordinator = make_user(roles=["coordinator"], collective=True)
    member = make_user(org_unit=coordinator.org_unit, collective=True)
    make_settings(coordinator.institution)
    author = make_user(org_unit=coordinator.org_unit)
    proposal = make_proposal(author=author, state="in_review")
    session = make_session(coordinator.institution, created_by=coordinator)
    item = review_voting.schedule(coordinator, session, proposal)
    review_voting.set_attendance(coordinator, session, present_ids=[coordinator.id, member.id])
    review_voting.open_vote(coordinator, item)
    return coordinator, member, author, proposal, session, item


def test_rules_cannot_change_during_a_vote(voting):
    coordinator, member, *_ = voting
    with pytest.raises(ValidationFailed):
        review_settings.save_settings(coordinator, decision_rule="consent", quorum_percent=50, votes_public=False,
                               target_days=60, ineligibility_reasons="Motif")


def test_withdrawal_during_the_vote_closes_the_item_without_decision(voting):
    coordinator, member, author, proposal, session, item = voting
    review_voting.cast_vote(member, item, choice="for")
    proposal_services.withdraw_proposal(author, proposal)
    with pytest.raises(InvalidTransition):
        review_voting.cast_vote(coordinator, item, choice="for")
    assert review_voting.close_vote(coordinator, item) == "withdrawn"
    assert item.status == "withdrawn"


def test_postponed_item_can_come_back_on_the_same_session_with_votes_cleared(voting):
    coordinator, member, author, proposal, session, item = voting
    review_voting.cast_vote(member, item, choice="for")
    # Quorum 100 %, and two more members, absent: the vote is postponed.
    review_settings.settings_for(coordinator.institution_id).quorum_percent = 100
    make_user(org_unit=coordinator.org_unit, collective=True)
    make_user(org_unit=coordinator.org_unit, collective=True)
    assert review_voting.close_vote(coordinator, item) == "no_quorum"
    assert proposal.state == "in_review"
    again = review_voting.schedule(coordinator, session, proposal)
    assert again.id == item.id and again.status == "pending" and again.tally == {}


def test_only_the_latest_decision_is_corrected_and_an_open_project_blocks_it(voting):
    coordinator, member, author, proposal, session, item = voting
    review_voting.cast_vote(member, item, choice="for")
    review_voting.close_vote(coordinator, item)
    decision = decisions.publish_decision(coordinator, item, outcome="accepted", rationale=RATIONALE)
    with pytest.raises(InvalidTransition, match="Un projet est déjà ouvert"):
        decisions.correct_decision(coordinator, decision, rationale=RATIONALE)
    assert proposal.state == "accepted"


def test_a_correction_reopens_the_vote_and_only_a_new_vote_accepts(voting):
    """A correction never sets an outcome (it used to accept a rejected proposal and open
    its project): the proposal goes back to review, and is accepted only by a new vote."""
    coordinator, member, author, proposal, session, item = voting
    review_voting.cast_vote(member, item, choice="against")
    review_voting.close_vote(coordinator, item)
    decision = decisions.publish_decision(coordinator, item, outcome="rejected", rationale=RATIONALE)
    correction = decisions.correct_decision(coordinator, decision, rationale=RATIONALE)
    assert (correction.kind, correction.outcome, correction.corrects_id) == ("correction", "reopened", decision.id)
    assert proposal.state == "in_review" and db.session.scalar(select(Project.id)) is None
    later = make_session(coordinator.institution, days_ahead=14, created_by=coordinator)
    again = review_voting.schedule(coordinator, later, proposal)
    review_voting.set_attendance(coordinator, later, present_ids=[coordinator.id, member.id])
    review_voting.open_vote(coordinator, again)
    review_voting.cast_vote(member, again, choice="for")
    assert review_voting.close_vote(coordinator, again) == "adopted"
    decisions.publish_decision(coordinator, again, outcome="accepted", rationale=RATIONALE)
    assert proposal.state == "accepted" and db.session.scalar(select(Project.proposal_id)) == proposal.id


def test_a_proposal_keeps_its_first_answer_through_a_correction_and_a_new_vote(voting, app, monkeypatch):
    """The dashboard's time to answer runs to the first published answer: a correction and
    the new vote that follows do not move it; an eligible decision is no answer."""
    coordinator, member, author, proposal, session, item = voting
    proposal.submitted_at = datetime(2026, 3, 2, 8, 0)
    assert proposal.first_answered_at is None  # in review: its eligible decision is no answer
    review_voting.cast_vote(member, item, choice="against")
    review_voting.close_vote(coordinator, item)
    with time_machine.travel(datetime(2026, 3, 12, 14, 0, tzinfo=PARIS), tick=False):
        decision = decisions.publish_decision(coordinator, item, outcome="rejected", rationale=RATIONALE)
    first = datetime(2026, 3, 12, 13, 0)  # UTC
    assert proposal.first_answered_at == first
    with time_machine.travel(datetime(2026, 3, 20, 9, 0, tzinfo=PARIS), tick=False):
        decisions.correct_decision(coordinator, decision, rationale=RATIONALE)
    later = make_session(coordinator.institution, days_ahead=14, created_by=coordinator)
    again = review_voting.schedule(coordinator, later, proposal)
    review_voting.set_attendance(coordinator, later, present_ids=[coordinator.id, member.id])
    review_voting.open_vote(coordinator, again)
    review_voting.cast_vote(member, again, choice="for")
    review_voting.close_vote(coordinator, again)
    with time_machine.travel(datetime(2026, 4, 9, 14, 0, tzinfo=PARIS), tick=False):
        decisions.publish_decision(coordinator, again, outcome="accepted", rationale=RATIONALE)
    db.session.commit()
    assert proposal.first_answered_at == first
    monkeypatch.setitem(app.config, "MIN_GROUP_SIZE", 1)  # one author: show the figure
    figures = dashboard.build(proposal.institution_id, Period.year(2026), coordinator=True)
    assert figures.median_days == pytest.approx(10 + 5 / 24, abs=0.001)  # 2 March 8:00 to 12 March 13:00


def test_lead_cannot_appoint_themself_sponsor_nor_validate_their_charter():
    lead = make_user(email="lead@ville.fr")
    coordinator = make_user(org_unit=lead.org_unit, roles=["coordinator"])
    dgs = make_user(org_unit=lead.org_unit, email="dgs@ville.fr")
    project = project_services.create_from_proposal(make_proposal(author=lead, state="accepted"), coordinator)
    with pytest.raises(NotAllowed, match="désigné par l'animation"):
        project_services.save_charter(lead, project, sponsor_email="lead@ville.fr", lead_email="lead@ville.fr",
                                      objectives="Objectif.", indicators="", starts_on=date(2027, 1, 4),
                                      ends_on=date(2027, 6, 30), members=[(lead.id, "chef", "2000")])
    # Lead and sponsor are two people, whoever appoints them.
    with pytest.raises(ValidationFailed) as exc:
        project_services.save_charter(coordinator, project, sponsor_email="lead@ville.fr", lead_email="lead@ville.fr",
                                      objectives="Objectif.", indicators="", starts_on=date(2027, 1, 4),
                                      ends_on=date(2027, 6, 30), members=[(lead.id, "chef", "40")])
    assert "deux personnes distinctes" in exc.value.errors["sponsor_email"][0]
    assert project.sponsor_id is None
    project_services.save_charter(coordinator, project, sponsor_email="dgs@ville.fr", lead_email="lead@ville.fr",
                                  objectives="Objectif.", indicators="", starts_on=date(2027, 1, 4),
                                  ends_on=date(2027, 6, 30), members=[(lead.id, "chef", "40")])
    with pytest.raises(NotAllowed, match="ne valide pas sa propre"):
        project_services.validate_charter(lead, project)
    with pytest.raises(NotAllowed, match="commanditaire ne valide pas"):
        project_services.validate_charter(dgs, project)
    project_services.validate_charter(coordinator, project)
    assert len({project.lead_id, project.sponsor_id, project.charter_validated_by_id}) == 3
    with pytest.raises(NotAllowed):
        project_services.save_charter(lead, project, sponsor_email="lead@ville.fr", lead_email="lead@ville.fr",
                                      objectives="Autre.", indicators="", starts_on=date(2027, 1, 4),
                                      ends_on=date(2027, 6, 30), members=[(lead.id, "chef", "900")])


# The immersions are in June 2027: asked for on a known day, three months ahead at least.
@time_machine.travel(datetime(2026, 11, 18, 10, tzinfo=PARIS))
def test_selection_rechecks_the_three_year_cap_and_partner_visitor_sees_the_immersion(client, login):
    host = make_user()
    partner = make_institution("Partenaire", slug="partenaire-2")
    boss = make_user(org_unit=make_org_unit(partner))
    visitor = make_user(org_unit=boss.org_unit, manager=boss)
    offers = [make_proposal(author=host, kind="mobility", state="accepted", open_to="partners", places=1,
                            window_starts_on=date(2027, 6, 1), window_ends_on=date(2027, 12, 31)) for _ in range(3)]
    applications = []
    for n, offer in enumerate(offers):
        start = date(2027, 6, 7) + timedelta(weeks=3 * n)
        applications.append(immersion_services.apply(visitor, offer, motivation="Découvrir un autre service public.",
                                                   starts_on=start, ends_on=start + timedelta(days=11)))
        immersion_services.manager_decide(boss, applications[-1], consent=True, reason="")
    immersion_services.select_applicant(host, applications[0], selected=True)
    immersion_services.select_applicant(host, applications[1], selected=True)
    with pytest.raises(InvalidTransition):
        immersion_services.select_applicant(host, applications[2], selected=True)
    project = db.session.scalar(select(Project).where(Project.id == applications[0].project_id))
    login(client, visitor)
    assert client.get(f"/projets/{project.id}").status_code == 200
    assert "Convention" in text(client.get(f"/projets/{project.id}/convention"))
    assert db.session.scalar(select(Application.status).where(Application.id == applications[2].id)) == "consented"


def test_csv_cells_cannot_become_formulas(client, login):
    coordinator = make_user(roles=["coordinator"])
    proposal = make_proposal(author=coordinator, state="not_eligible", title="=HYPERLINK(\"http://x\")")
    make_decision(proposal, outcome="not_eligible", rationale="-1+1", decided_by=coordinator)
    login(client, coordinator)
    body = client.get("/arbitrage/journal?format=csv").get_data(as_text=True)
    assert "'=HYPERLINK" in body and ";'-1+1" in body
