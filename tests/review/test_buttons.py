"""The arbitration's buttons show exactly when the service accepts the action: for each
person and situation, the page is read (is the form there?), then the form is sent anyway
(does the service accept it?), and both answers must agree. Each test also states who may
act where, so that a template and a service drifting together are caught too."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from incubator.proposals.services import withdraw_proposal
from incubator.review import assessments, decisions, voting
from incubator.review.models import AgendaItem
from incubator.review.settings import active_criteria
from incubator.timeutil import paris_day_start, today_paris, utcnow
from tests.factories import make_criterion, make_proposal, make_session, make_settings, make_user
from tests.helpers import text

RATIONALE = ("Le collectif retient la proposition : elle répond à un besoin réel des usagers, "
             "reste faisable avec les moyens actuels et a été bien évaluée.")
PEOPLE = ["chair", "recused", "member", "absent", "agent"]


@pytest.fixture
def w():
    """Nadia chairs (coordinator, member); Romain is a coordinator and member who wrote the
    proposal on the agenda (recused on it); Sophie and Anouk are members (Anouk is never
    noted present); Camille is an agent."""
    chair = make_user(roles=["coordinator"], collective=True, first_name="Nadia")
    unit = chair.org_unit
    make_settings(chair.institution)
    return SimpleNamespace(
        chair=chair, institution=chair.institution,
        recused=make_user(org_unit=unit, roles=["coordinator"], collective=True, first_name="Romain"),
        member=make_user(org_unit=unit, collective=True, first_name="Sophie"),
        absent=make_user(org_unit=unit, collective=True, first_name="Anouk"),
        agent=make_user(org_unit=unit, first_name="Camille"),
    )


def _agenda(w, status: str, *, withdrawn: bool = False, present: bool = True) -> AgendaItem:
    """Romain's proposal on the agenda of a session to come, its item brought to `status`
    through the services (Nadia, Romain and Sophie present; the vote adopts it); then
    withdrawn by Romain if asked."""
    proposal = make_proposal(author=w.recused, state="in_review", title="Vélos de service")
    session = make_session(w.institution, created_by=w.chair)
    item = voting.schedule(w.chair, session, proposal)
    if present:
        voting.set_attendance(w.chair, session, present_ids=[w.chair.id, w.recused.id, w.member.id])
    if status != "pending":
        voting.open_vote(w.chair, item)
    if status in ("closed", "decided"):
        for voter in (w.chair, w.member):
            voting.cast_vote(voter, item, choice="for")
        voting.close_vote(w.chair, item)
    if status == "decided":
        decisions.publish_decision(w.chair, item, outcome="accepted", rationale=RATIONALE)
    if withdrawn:
        withdraw_proposal(w.recused, proposal)
    assert item.status == status
    return item


def _agrees(client, page: str, marker: str, post: str, data: dict | None = None) -> bool:
    """Whether `page` shows the form (`marker`), after checking the service agrees."""
    response = client.get(page)
    shown = response.status_code == 200 and marker in text(response)
    answer = client.post(post, data=data or {})
    assert answer.status_code in (303, 403, 409), answer.status_code
    assert (answer.status_code == 303) == shown, f"form shown: {shown}, service answered {answer.status_code}"
    return shown


# --------------------------------------------------------------------------- the coordinator's buttons

SITUATIONS = ["present", "nobody present", "withdrawn"]


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("situation", SITUATIONS)
@pytest.mark.parametrize("action,path", [("open_vote", "ouvrir"), ("postpone", "reporter")])
def test_a_pending_items_buttons(action, path, situation, person, w, make_client, login):
    item = _agenda(w, "pending", present=situation != "nobody present", withdrawn=situation == "withdrawn")
    client = make_client()
    login(client, getattr(w, person))
    url = f"/arbitrage/points/{item.id}/{path}"
    shown = _agrees(client, f"/arbitrage/seances/{item.session_id}", f'action="{url}"', url)
    # Opening a vote needs the attendance; either needs the proposal still on the agenda.
    assert shown == (person == "chair" and situation in (["present"] if action == "open_vote"
                                                         else ["present", "nobody present"]))


def test_the_coordinator_is_told_why_the_vote_cannot_open(w, make_client, login):
    item = _agenda(w, "pending", present=False)
    client = make_client()
    login(client, w.chair)
    page = text(client.get(f"/arbitrage/seances/{item.session_id}"))
    assert f"/arbitrage/points/{item.id}/ouvrir" not in page
    assert "Enregistrez d'abord les présences de la séance." in page


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("withdrawn", [False, True])
def test_an_open_items_close_button(withdrawn, person, w, make_client, login):
    item = _agenda(w, "voting", withdrawn=withdrawn)
    client = make_client()
    login(client, getattr(w, person))
    url = f"/arbitrage/points/{item.id}/clore"
    # A proposal withdrawn during the vote: closing drops the item, by the same button.
    assert _agrees(client, f"/arbitrage/seances/{item.session_id}", f'action="{url}"', url) == (person == "chair")


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("status", ["closed", "decided"])
def test_a_closed_items_publication_form(status, person, w, make_client, login):
    item = _agenda(w, status)
    client = make_client()
    login(client, getattr(w, person))
    url = f"/arbitrage/points/{item.id}/publier"
    shown = _agrees(client, f"/arbitrage/seances/{item.session_id}", f'action="{url}"', url,
                    {"outcome": "accepted", "rationale": RATIONALE})
    assert shown == (person == "chair" and status == "closed")


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("vote", ["none", "open"])
def test_the_attendance_form(vote, person, w, make_client, login):
    """Romain is recused on the pending item (its quorum is made of this attendance); no
    one changes the attendance while a vote is open."""
    item = _agenda(w, "voting" if vote == "open" else "pending")
    client = make_client()
    login(client, getattr(w, person))
    url = f"/arbitrage/seances/{item.session_id}/presences"
    shown = _agrees(client, url.removesuffix("/presences"), f'action="{url}"', url,
                    {"present": [str(w.chair.id), str(w.member.id)]})
    assert shown == (vote == "none" and person == "chair")


@pytest.mark.parametrize("when", ["earlier today", "yesterday", "next week"])
def test_the_agenda_form_follows_the_sessions_day(when, w, make_client, login):
    proposal = make_proposal(author=w.agent, state="in_review")
    session = make_session(w.institution, created_by=w.chair)
    today = paris_day_start(today_paris())
    session.starts_at = {"earlier today": today + timedelta(minutes=1), "yesterday": today - timedelta(hours=12),
                         "next week": today + timedelta(days=7, hours=14)}[when]
    if session.starts_at >= utcnow() and when == "earlier today":
        pytest.skip("run in the first minute of the day in Paris")
    client = make_client()
    login(client, w.chair)
    url = f"/arbitrage/seances/{session.id}/ordre-du-jour"
    shown = _agrees(client, f"/arbitrage/seances/{session.id}", f'action="{url}"', url, {"proposal_id": str(proposal.id)})
    # A session is on its day until the day ends, though it has started.
    assert shown == (when != "yesterday")


# --------------------------------------------------------------------------- the members' forms


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("withdrawn", [False, True])
def test_the_vote_form(withdrawn, person, w, make_client, login):
    item = _agenda(w, "voting", withdrawn=withdrawn)
    client = make_client()
    login(client, getattr(w, person))
    url = f"/arbitrage/points/{item.id}/voter"
    shown = _agrees(client, f"/arbitrage/seances/{item.session_id}", f'action="{url}"', url, {"choice": "for"})
    # Present, not recused, while the proposal is still on the agenda.
    assert shown == (person in ("chair", "member") and not withdrawn)
    if person == "absent" and not withdrawn:
        assert "Seuls les membres présents à la séance votent." in text(client.get(f"/arbitrage/seances/{item.session_id}"))


@pytest.mark.parametrize("person", ["member", "author", "declared", "coordinator", "agent"])
@pytest.mark.parametrize("state", ["in_review", "accepted"])
def test_the_assessment_and_conflict_forms(state, person, w, make_client, login):
    """A member assesses while the proposal is in review; the members and the coordinators
    declare a conflict, unless already recused (its author, a declared conflict)."""
    make_criterion(w.institution, "Utilité")
    people = {"member": w.member, "author": w.recused, "declared": w.absent, "agent": w.agent,
              "coordinator": make_user(org_unit=w.chair.org_unit, roles=["coordinator"])}  # not a member
    proposal = make_proposal(author=w.recused, state=state)
    assessments.declare_conflict(w.absent, proposal, reason="Mon conjoint dirige ce service.")
    client = make_client()
    login(client, people[person])
    page, assess, conflict = (f"/arbitrage/evaluer/{proposal.id}", f"/arbitrage/evaluer/{proposal.id}",
                              f"/arbitrage/conflit/{proposal.id}")
    criteria = {f"criterion_{c.id}": "4" for c in active_criteria(w.institution.id)}
    assert _agrees(client, page, f'method="post" action="{assess}"', assess, criteria) == (
        person == "member" and state == "in_review")
    assert _agrees(client, page, f'action="{conflict}"', conflict, {"reason": "Mon service est concerné."}) == (
        person in ("member", "coordinator"))
