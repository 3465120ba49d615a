"""A project's forms (and the immersions' « Candidater ») show exactly when the service
accepts them: for each person and state the page is read, then the form is sent anyway,
and both answers must agree; each test also states who may act where."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from incubator.projects import services
from tests.factories import make_proposal, make_user
from tests.helpers import text

RETRO = {"worked": "L'implication des agents.", "did_not_work": "Le calendrier trop serré.",
         "reusable": "La trame de diagnostic.", "indicators_reached": "Délai divisé par deux."}
PEOPLE = ["lead", "sponsor", "member", "coordinator", "agent"]
TEAM = ("lead", "member", "coordinator")


@pytest.fixture
def team():
    lead = make_user(first_name="Lea")
    unit = lead.org_unit
    people = {"lead": lead, "sponsor": make_user(org_unit=unit, first_name="Sam"),
              "member": make_user(org_unit=unit), "coordinator": make_user(org_unit=unit, roles=["coordinator"]),
              "agent": make_user(org_unit=unit)}
    # Its author leads it, its co-author is a member of the team.
    proposal = make_proposal(author=lead, state="accepted", coauthors=(people["member"],))
    project = services.create_from_proposal(proposal, people["coordinator"])
    project.sponsor_id = people["sponsor"].id
    return people, project


def _agrees(client, page: str, shows, post: str, data: dict) -> bool:
    response = client.get(page)
    shown = response.status_code == 200 and bool(shows(text(response)))
    answer = client.post(post, data=data)
    assert answer.status_code in (303, 403, 409), answer.status_code
    assert (answer.status_code == 303) == shown, f"form shown: {shown}, service answered {answer.status_code}"
    return shown


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("state", ["framing", "active", "completed"])
def test_the_progress_form(state, person, team, make_client, login):
    people, project = team
    project.state = state
    client = make_client()
    login(client, people[person])
    url = f"/projets/{project.id}/avancement"
    shown = _agrees(client, f"/projets/{project.id}", lambda page: f'action="{url}"' in page, url,
                    {"avancement-text": "Le site pilote est équipé.", "avancement-progress": "30"})
    # The team, once the charter is validated, until the project is closed.
    assert shown == (person in TEAM and state == "active")


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("state", ["framing", "completed"])
def test_the_milestone_form(state, person, team, make_client, login):
    people, project = team
    project.state = state
    client = make_client()
    login(client, people[person])
    url = f"/projets/{project.id}/jalons"
    shown = _agrees(client, f"/projets/{project.id}", lambda page: f'action="{url}"' in page, url,
                    {"jalon-title": "Site pilote", "jalon-due_on": "2027-05-03"})
    assert shown == (person in TEAM and state != "completed")


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("state", ["framing", "active"])
@pytest.mark.parametrize("outcome", ["complete", "abandon"])
def test_the_closing_outcomes(outcome, state, person, team, make_client, login):
    """The sponsor may abandon a project, not declare it completed: only the outcomes the
    table lets the person choose are offered."""
    people, project = team
    project.state = state
    client = make_client()
    login(client, people[person])
    url = f"/projets/{project.id}/cloture"
    offered = re.compile(rf'<input[^>]*name="cloture-action"[^>]*value="{outcome}"|<input[^>]*value="{outcome}"[^>]*name="cloture-action"')
    shown = _agrees(client, f"/projets/{project.id}", offered.search, url,
                    {f"cloture-{k}": v for k, v in RETRO.items()} | {"cloture-action": outcome})
    closers = ("lead", "coordinator") if outcome == "complete" else ("lead", "sponsor", "coordinator")
    assert shown == (person in closers and (state == "active" or outcome == "abandon"))


@pytest.mark.parametrize("person", ["author", "contact", "agent"])
def test_the_apply_button(person, make_client, login):
    author = make_user(first_name="Hôte")
    people = {"author": author, "contact": make_user(org_unit=author.org_unit, manager=author),
              "agent": make_user(org_unit=author.org_unit, manager=author)}
    offer = make_proposal(author=author, kind="mobility", state="accepted", contact_id=people["contact"].id)
    client = make_client()
    login(client, people[person])
    url = f"/immersions/{offer.id}/candidater"
    shown = _agrees(client, "/immersions", lambda page: f'href="{url}"' in page, url, {
        "motivation": "Je souhaite découvrir l'accueil du public et ses outils.",
        "starts_on": offer.window_starts_on.isoformat(),
        "ends_on": (offer.window_starts_on + timedelta(days=4)).isoformat()})
    assert shown == (person == "agent")
