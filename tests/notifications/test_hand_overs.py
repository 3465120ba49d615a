"""Every transition of every lifecycle table that gives someone something to do notifies
them, through the service that takes it (in the same transaction), with a link to the
page where to act. The list of transitions comes from the tables themselves: a new
transition without an entry in HAND_OVERS fails `test_every_transition_is_mapped`.

Besides the tables, the hand-overs of the charter (sponsor appointed, charter ready) and
the hours approved (one notification per agent and per week) are tested below."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from incubator.extensions import db
from incubator.immersions import services as immersions
from incubator.immersions.lifecycle import APPLICATIONS
from incubator.notifications.models import Notification
from incubator.people.models import User
from incubator.projects import services as projects
from incubator.projects.lifecycle import MACHINE as PROJECTS
from incubator.projects.models import Project
from incubator.proposals import services as proposals
from incubator.proposals.lifecycle import MACHINE as PROPOSALS
from incubator.release_time import services as release_time
from incubator.release_time.lifecycle import ENTRIES
from incubator.review import decisions, eligibility
from incubator.review.lifecycle import ITEMS
from incubator.timeutil import PARIS

from ..factories import (
    make_agenda_item,
    make_application,
    make_decision,
    make_project,
    make_proposal,
    make_session,
    make_time_entry,
    make_user,
)

NOW = datetime(2026, 11, 18, 10, tzinfo=PARIS)  # a Wednesday
MONDAY = date(2026, 11, 9)  # last week's
RATIONALE = ("Le collectif retient cette proposition : elle répond à un besoin partagé par plusieurs services "
             "et son coût reste modeste au regard du gain attendu.")
TABLES = {"proposals": PROPOSALS, "items": ITEMS, "projects": PROJECTS, "entries": ENTRIES,
          "applications": APPLICATIONS}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


# --------------------------------------------------------------------------- scenarios
# Each builds the situation, takes the transition through its service, and returns who
# must have been notified (and the address their notification leads to, when it matters).


def _people():
    coordinator = make_user(role="coordinator", last_name="Animatrice")
    other = make_user(institution=coordinator.institution, role="coordinator", last_name="Animateur")
    member = make_user(institution=coordinator.institution, collective=True, last_name="Membre")
    author = make_user(institution=coordinator.institution, last_name="Autrice")
    return coordinator, other, member, author


def submit():
    coordinator, _other, _member, author = _people()
    proposal = make_proposal(author=author, state="draft")
    proposals.submit_proposal(author, proposal)
    return [(coordinator, f"/arbitrage/recevabilite/{proposal.id}")]


def resubmit():
    coordinator, _other, _member, author = _people()
    proposal = make_proposal(author=author, state="changes_requested")
    proposals.resubmit_proposal(author, proposal)
    return [(coordinator, f"/arbitrage/recevabilite/{proposal.id}")]


def open_review():
    coordinator, _other, member, author = _people()
    proposal = make_proposal(author=author, state="submitted")
    eligibility.open_review(coordinator, proposal)
    return [(member, f"/arbitrage/evaluer/{proposal.id}")]


def _closed_item(author):
    session = make_session(author.institution, days_ahead=0)
    proposal = make_proposal(author=author, state="scheduled")
    return make_agenda_item(session, proposal, status="closed", result="adopted",
                            tally={"for": 3, "against": 0, "abstain": 0})


def accept():
    coordinator, other, _member, author = _people()
    item = _closed_item(author)
    decisions.publish_decision(coordinator, item, outcome="accepted", rationale=RATIONALE)
    project = projects_of(item.proposal_id)
    return [(other, f"/projets/{project}/lettre-de-mission/modifier")]


def request_changes():
    coordinator, _other, _member, author = _people()
    item = _closed_item(author)
    decisions.publish_decision(coordinator, item, outcome="changes_requested", rationale=RATIONALE)
    return [(author, f"/propositions/{item.proposal_id}")]


def correct_not_eligible():
    coordinator, _other, member, author = _people()
    proposal = make_proposal(author=author, state="not_eligible")
    decision = make_decision(proposal, outcome="not_eligible", decided_by=coordinator)
    decisions.correct_decision(coordinator, decision, rationale=RATIONALE)
    return [(member, f"/arbitrage/evaluer/{proposal.id}")]


def validate_charter():
    coordinator, _other, _member, author = _people()
    team = make_user(institution=author.institution)
    project = make_project(author.institution, state="framing", lead=author,
                           sponsor=make_user(institution=author.institution), objectives="Un objectif.",
                           starts_on=date(2027, 1, 4), ends_on=date(2027, 6, 30), members=(team,), hours_budget=40)
    projects.validate_charter(coordinator, project)
    return [(team, f"/projets/{project.id}")]


def _agent():
    manager = make_user(last_name="Encadrante")
    agent = make_user(manager=manager, last_name="Agent")
    project = make_project(members=(agent,), hours_budget=100)
    return manager, agent, project


def submit_week():
    manager, agent, project = _agent()
    make_time_entry(agent, project, day=MONDAY, status="draft")
    release_time.submit_week(agent, MONDAY)
    return [(manager, "/validations")]


def approve():
    manager, agent, project = _agent()
    entry = make_time_entry(agent, project, day=MONDAY, status="submitted")
    release_time.decide(manager, [entry.id], approve=True)
    return [(agent, f"/mon-temps?semaine={MONDAY.isoformat()}")]


def refuse():
    manager, agent, project = _agent()
    entry = make_time_entry(agent, project, day=MONDAY, status="submitted")
    release_time.decide(manager, [entry.id], approve=False, reason="Ce jour était un jour de congé.")
    return [(agent, f"/mon-temps?semaine={MONDAY.isoformat()}")]


def consent():
    host = make_user(last_name="Accueil")
    application = make_application(make_proposal(author=host, kind="mobility", state="accepted"))
    immersions.manager_decide(application.manager, application, consent=True, reason="")
    return [(host, "/immersions#accueil")]


def select_applicant():
    host = make_user(last_name="Accueil")
    application = make_application(make_proposal(author=host, kind="mobility", state="accepted"), status="consented")
    project = immersions.select_applicant(host, application, selected=True)
    return [(application.applicant, f"/projets/{project.id}")]


def projects_of(proposal_id: int) -> int:
    return db.session.scalar(select(Project.id).where(Project.proposal_id == proposal_id))


# --------------------------------------------------------------------------- the map

NOBODY = "nothing new to do for anyone: "
# (table, action, source state or "*") -> a scenario, or why nobody gets something to do.
HAND_OVERS: dict[tuple[str, str, str], Callable | str] = {
    ("proposals", "edit", "*"): NOBODY + "the authors edit their own text",
    ("proposals", "submit", "draft"): submit,
    ("proposals", "withdraw", "*"): NOBODY + "the proposal leaves every queue (the inbox counts no longer list it)",
    ("proposals", "resubmit", "changes_requested"): resubmit,
    ("proposals", "open_review", "submitted"): open_review,
    ("proposals", "declare_ineligible", "submitted"): NOBODY + "a final answer, the authors are informed",
    ("proposals", "schedule", "in_review"): NOBODY + "the members were told of the session when it was created "
                                                     "(review.voting.create_session); they vote in session",
    ("proposals", "postpone", "scheduled"): NOBODY + "back in review, where the members may still assess it",
    ("proposals", "accept", "scheduled"): accept,  # an initiative becomes a project: a sponsor to appoint
    ("proposals", "reject", "scheduled"): NOBODY + "a final answer, the authors are informed",
    ("proposals", "request_changes", "scheduled"): request_changes,
    ("proposals", "correct", "not_eligible"): correct_not_eligible,
    ("proposals", "correct", "*"): NOBODY + "back to review for a new vote: the coordinator who corrects schedules "
                                            "it; the authors are informed",
    ("items", "open_vote", "*"): NOBODY + "in session: the present members vote on the live page",
    ("items", "vote", "*"): NOBODY + "a member's own vote",
    ("items", "close", "*"): NOBODY + "the coordinator who closes publishes (the inbox lists decisions to publish)",
    ("items", "drop", "*"): NOBODY + "the proposal was withdrawn",
    ("items", "adjourn", "*"): NOBODY + "postponed without quorum, back to review",
    ("items", "postpone", "*"): NOBODY + "postponed, back to review",
    ("items", "reschedule", "*"): NOBODY + "back on the agenda of the same session, in session",
    ("items", "publish", "closed"): request_changes,  # the published outcome reaches the authors
    ("projects", "validate_charter", "framing"): validate_charter,
    ("projects", "hold", "*"): NOBODY + "the team is told by the page; nothing to do while on hold",
    ("projects", "resume", "*"): NOBODY + "the team resumes its own work",
    ("projects", "complete", "*"): NOBODY + "closed with its retrospective",
    ("projects", "abandon", "*"): NOBODY + "closed with its retrospective",
    ("entries", "edit", "*"): NOBODY + "the agent's own week",
    ("entries", "submit", "draft"): submit_week,
    ("entries", "recall", "*"): NOBODY + "the week leaves the N+1's queue",
    ("entries", "approve", "submitted"): approve,
    ("entries", "refuse", "submitted"): refuse,
    ("entries", "correct", "*"): NOBODY + "the correction is submitted like any week (then its N+1 is told)",
    ("applications", "consent", "submitted"): consent,
    ("applications", "refuse", "submitted"): NOBODY + "a final answer, the applicant is informed",
    ("applications", "select", "consented"): select_applicant,
    ("applications", "decline", "consented"): NOBODY + "a final answer, the applicant is informed",
}


def transitions():
    return [(name, tr.action, tr.source) for name, table in TABLES.items() for tr in table.transitions]


def entry_for(name: str, action: str, source: str):
    return HAND_OVERS.get((name, action, source), HAND_OVERS.get((name, action, "*")))


def test_every_transition_is_mapped():
    missing = [t for t in transitions() if entry_for(*t) is None]
    assert not missing, f"Transitions without a hand-over entry (who gets something to do?): {missing}"


@pytest.mark.parametrize("transition", [t for t in transitions() if callable(entry_for(*t))],
                         ids=lambda t: "-".join(t))
def test_the_transition_notifies_who_gets_something_to_do(transition):
    expected = entry_for(*transition)()
    db.session.flush()
    for user, address in expected:
        received = db.session.scalars(select(Notification).where(Notification.user_id == user.id)).all()
        assert received, f"{transition}: {user.last_name} is not notified"
        assert address in [n.url for n in received], (transition, [n.url for n in received])


# --------------------------------------------------------------------------- beyond the tables


def _framing_project():
    coordinator, other, _member, author = _people()
    proposal = make_proposal(author=author, state="accepted")
    project = make_project(author.institution, state="framing", lead=author, proposal=proposal,
                           objectives="Un objectif.", starts_on=date(2027, 1, 4), ends_on=date(2027, 6, 30))
    return coordinator, other, author, project


def _save(actor, project, *, sponsor: User | None, members: list):
    projects.save_charter(actor, project, sponsor_email=sponsor.email if sponsor else None,
                          lead_email=project.lead.email, objectives=project.objectives, indicators="",
                          starts_on=project.starts_on, ends_on=project.ends_on, members=members)
    db.session.flush()


def notified(user: User) -> list[Notification]:
    return db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                              .order_by(Notification.id)).all()


def test_the_appointed_sponsor_is_told_then_the_charter_ready_reaches_sponsor_and_validators():
    coordinator, other, author, project = _framing_project()
    sponsor = make_user(institution=author.institution, last_name="Commanditaire")
    assert project.sponsor is None  # loaded before the change, as the page does
    _save(coordinator, project, sponsor=sponsor, members=[])  # no member with hours yet: not ready
    assert [n.subject for n in notified(sponsor)] == ["Vous êtes désigné·e commanditaire d'un projet"]
    assert notified(sponsor)[0].url == f"/projets/{project.id}/lettre-de-mission"
    assert notified(other) == []
    _save(author, project, sponsor=None, members=[(author.id, "Cheffe de projet", "40")])
    assert notified(sponsor)[-1].subject == "La lettre de mission est prête"
    assert [n.url for n in notified(coordinator)] == [f"/projets/{project.id}#cadre"]
    assert [n.url for n in notified(other)] == [f"/projets/{project.id}#cadre"]
    assert notified(author) == []  # the lead saved it: not asked to validate their own charter
    # Saved again, still ready: nobody is told twice.
    _save(author, project, sponsor=None, members=[(author.id, "Cheffe de projet", "50")])
    assert len(notified(sponsor)) == 2 and len(notified(coordinator)) == 1


def test_a_recused_coordinator_is_not_told_of_a_submission_or_a_sponsor_to_appoint():
    coordinator, other, _member, author = _people()
    proposal = make_proposal(author=author, state="draft", coauthors=(coordinator,))
    proposals.submit_proposal(author, proposal)
    db.session.flush()
    assert [n.subject for n in notified(other)] == ["Une proposition déposée attend son examen"]
    assert all(n.subject != "Une proposition déposée attend son examen" for n in notified(coordinator))


def test_hours_approved_make_one_notification_per_agent_and_week():
    manager, agent, project = _agent()
    second = make_user(manager=manager)
    entries = [make_time_entry(agent, project, day=MONDAY + timedelta(days=n), status="submitted") for n in range(3)]
    entries += [make_time_entry(agent, project, day=MONDAY - timedelta(days=7), status="submitted", minutes=90)]
    entries += [make_time_entry(second, make_project(members=(second,), hours_budget=10), day=MONDAY,
                                status="submitted")]
    release_time.decide(manager, [e.id for e in entries], approve=True)
    db.session.flush()
    mine = notified(agent)
    assert sorted(n.url for n in mine) == [f"/mon-temps?semaine={MONDAY - timedelta(days=7)}",
                                           f"/mon-temps?semaine={MONDAY}"]
    assert {n.body.split(" a validé ")[1] for n in mine} == {"3 h de la semaine du 09/11/2026.",
                                                            "1,5 h de la semaine du 02/11/2026."}
    assert len(notified(second)) == 1
