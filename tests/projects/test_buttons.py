"""A project's forms (and the immersions' « Candidater ») show exactly when the service
accepts them: for each person and state the page is read, then the form is sent anyway,
and both answers must agree; each test also states who may act where."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from incubator.extensions import db
from incubator.projects import services
from incubator.projects.models import Retrospective
from tests.factories import make_proposal, make_user
from tests.helpers import field_errors, text

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
                    {f"cloture-{k}": v for k, v in RETRO.items()} | {"cloture-action": outcome,
                                                                      "cloture-confirm_abandon": "y"})
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


def test_the_page_folds_closing_and_offers_completion_only_once_the_project_runs(team, make_client, login):
    """A project just started (framing) offers no « Clore le projet » nor « Terminé »: only
    « Abandonner le projet », folded, with its confirmation box. Running, closing is folded
    with both outcomes."""
    people, project = team
    client = make_client()
    login(client, people["lead"])
    page = text(client.get(f"/projets/{project.id}"))
    assert "<summary>Abandonner le projet</summary>" in page and "Clore le projet" not in page
    assert 'value="complete"' not in page and 'name="cloture-confirm_abandon"' in page
    assert '<details class="fold" id="cloture">' in page  # folded
    project.state = "active"
    db.session.commit()
    page = text(client.get(f"/projets/{project.id}"))
    assert "<summary>Clore le projet</summary>" in page and 'value="complete"' in page and 'value="abandon"' in page


def test_abandoning_needs_its_confirmation(team, make_client, login):
    people, project = team
    client = make_client()
    login(client, people["lead"])
    data = {f"cloture-{k}": v for k, v in RETRO.items()} | {"cloture-action": "abandon"}
    response = client.post(f"/projets/{project.id}/cloture", data=data)
    assert response.status_code == 422
    assert field_errors(text(response), "cloture-confirm_abandon") == (
        "Cochez la case pour confirmer l'abandon : le projet sera clos sans suite.")
    assert '<details class="fold" id="cloture" open>' in text(response)
    db.session.expire_all()
    assert project.state == "framing" and db.session.scalar(
        select(func.count()).select_from(Retrospective)) == 0
    response = client.post(f"/projets/{project.id}/cloture", data=data | {"cloture-confirm_abandon": "y"})
    assert response.status_code == 303
    db.session.expire_all()
    assert project.state == "abandoned"


def test_the_page_says_who_appoints_the_sponsor(team, make_client, login):
    people, project = team
    project.sponsor_id = None
    db.session.commit()
    coordinator = make_client()
    login(coordinator, people["coordinator"])
    page = text(coordinator.get(f"/projets/{project.id}"))
    assert "Désigné·e par l'animation du collectif : vous pouvez le faire" in page
    assert 'name="sponsor_email"' in text(coordinator.get(f"/projets/{project.id}/lettre-de-mission/modifier"))
    lead = make_client()
    login(lead, people["lead"])
    page = text(lead.get(f"/projets/{project.id}"))
    assert "Désigné·e par l'animation du collectif." in page and "vous pouvez le faire" not in page
    form = text(lead.get(f"/projets/{project.id}/lettre-de-mission/modifier"))
    assert 'name="sponsor_email"' not in form and "désigné par l'animation du collectif" in form
    # The server refuses the appointment whatever the page showed.
    response = lead.post(f"/projets/{project.id}/lettre-de-mission/modifier",
                         data={"sponsor_email": people["sponsor"].email, "lead_email": people["lead"].email})
    assert response.status_code == 403
    db.session.expire_all()
    assert project.sponsor_id is None
