"""The charter's team picker (issue 19, item 3): agents are chosen from the institution's
active agents through a search with server-side suggestions (an htmx fragment, or a page to
choose from without JavaScript), each with their role and hours; errors sit next to the
field and leave the database unchanged."""

from __future__ import annotations

import re

import pytest

from incubator.extensions import db
from incubator.projects import services
from incubator.projects.models import ProjectMember
from incubator.projects.queries import AGENT_SUGGESTIONS
from tests.factories import make_institution, make_org_unit, make_proposal, make_user
from tests.helpers import field_errors, text

HTMX = {"HX-Request": "true"}


@pytest.fixture
def team():
    lead = make_user(first_name="Lea", last_name="Martin")
    unit = lead.org_unit
    coordinator = make_user(org_unit=unit, roles=["coordinator"])
    people = {
        "lead": lead, "coordinator": coordinator, "agent": make_user(org_unit=unit),
        "camille": make_user(org_unit=unit, first_name="Camille", last_name="Rousseau", email="camille.rousseau@ville.fr"),
        "gone": make_user(org_unit=unit, first_name="Camille", last_name="Partie", is_active=False),
        "elsewhere": make_user(org_unit=make_org_unit(make_institution()), first_name="Camille", last_name="Ailleurs"),
    }
    project = services.create_from_proposal(make_proposal(author=lead, state="accepted"), coordinator)
    db.session.commit()
    return people, project


def test_suggestions_are_the_institutions_active_agents(team, make_client, login):
    people, project = team
    client = make_client()
    login(client, people["lead"])
    url = f"/projets/{project.id}/equipe/agents"
    fragment = text(client.get(url, query_string={"q": "camille"}, headers=HTMX))
    assert "<html" not in fragment and 'id="agent-suggestions"' in fragment
    assert "Ajouter Camille Rousseau" in fragment and "camille.rousseau@ville.fr" in fragment
    assert "Partie" not in fragment and "Ailleurs" not in fragment
    assert 'data-hx-swap-oob="innerHTML:#agent-count">1 agent trouvé' in fragment
    assert f"/projets/{project.id}/lettre-de-mission/modifier?ajouter={people['camille'].id}" in fragment
    # By address or identifier too, every word matching; nothing for one letter.
    assert "Camille Rousseau" in text(client.get(url, query_string={"q": "rousseau@ville"}, headers=HTMX))
    assert "Aucun agent trouvé" in text(client.get(url, query_string={"q": "camille zorro"}, headers=HTMX))
    assert "Ajouter" not in text(client.get(url, query_string={"q": "c"}, headers=HTMX))
    # Without JavaScript: a page with its own search form.
    page = text(client.get(url, query_string={"q": "rousseau"}))
    assert "<h1>Ajouter un membre à l'équipe</h1>" in page and "Ajouter Camille Rousseau" in page


def test_suggestions_are_limited_in_a_fixed_number_of_queries(team, make_client, login, count_queries):
    people, project = team
    client = make_client()
    login(client, people["lead"])
    url = f"/projets/{project.id}/equipe/agents"
    make_user(org_unit=people["lead"].org_unit, first_name="Premier", last_name="Dupont")
    db.session.commit()
    with count_queries() as few:
        client.get(url, query_string={"q": "dupont"}, headers=HTMX)
    for number in range(AGENT_SUGGESTIONS + 2):
        make_user(org_unit=make_org_unit(people["lead"].institution), first_name=f"Agent{number}", last_name="Dupont")
    db.session.commit()
    with count_queries() as many:
        fragment = text(client.get(url, query_string={"q": "dupont"}, headers=HTMX))
    assert many.count == few.count
    assert fragment.count("Ajouter Agent") == AGENT_SUGGESTIONS and "précisez la recherche" in fragment


def test_only_who_edits_the_charter_searches(team, make_client, login):
    people, project = team
    client = make_client()
    login(client, people["agent"])
    assert client.get(f"/projets/{project.id}/equipe/agents?q=camille", headers=HTMX).status_code == 403
    outsider = make_client()
    login(outsider, people["elsewhere"])
    assert outsider.get(f"/projets/{project.id}/equipe/agents?q=camille").status_code == 404


def _charter(people, **team) -> dict:
    data = {"lead_email": people["lead"].email, "objectives": "Réduire les délais.", "indicators": "",
            "starts_on": "2027-01-04", "ends_on": "2027-06-30", "membres": []}
    for key, (role, hours) in team.items():
        user_id = people[key].id
        data["membres"].append(str(user_id))
        data[f"membre-{user_id}-role"], data[f"membre-{user_id}-heures"] = role, hours
    return data


def _team(project) -> set:
    db.session.expire_all()
    return {(m.user_id, m.role, m.hours_budget) for m in db.session.query(ProjectMember).filter_by(project_id=project.id)}


def test_the_team_is_saved_from_chosen_agents(team, make_client, login):
    people, project = team
    client = make_client()
    login(client, people["lead"])
    edit = f"/projets/{project.id}/lettre-de-mission/modifier"
    # Chosen on the search page (no JavaScript): the agent comes back as a line to fill.
    page = text(client.get(edit, query_string={"ajouter": people["camille"].id}))
    camille = people["camille"].id
    assert f'id="membre-{camille}-role"' in page and f'id="membre-{people["lead"].id}-role"' in page
    assert 'data-js-only hidden' in page and "Ajouter un membre : chercher un agent" in page
    # An agent of another institution, or not active, is never taken from the address.
    for other in ("elsewhere", "gone"):
        assert f'membre-{people[other].id}-role' not in text(client.get(edit, query_string={"ajouter": people[other].id}))
    response = client.post(edit, data=_charter(people, lead=("Cheffe de projet", "40"),
                                               camille=("Référente usagers", "60")))
    assert response.status_code == 303
    assert _team(project) == {(people["lead"].id, "Cheffe de projet", 40), (camille, "Référente usagers", 60)}
    # Leaving the team: the box next to the member.
    data = _charter(people, lead=("Cheffe de projet", "40"), camille=("Référente usagers", "60"))
    data[f"membre-{camille}-retirer"] = "1"
    assert client.post(edit, data=data).status_code == 303
    assert _team(project) == {(people["lead"].id, "Cheffe de projet", 40)}


def test_team_errors_sit_next_to_their_field_and_change_nothing(team, make_client, login):
    people, project = team
    client = make_client()
    login(client, people["lead"])
    before = _team(project)
    edit = f"/projets/{project.id}/lettre-de-mission/modifier"
    camille = people["camille"].id
    response = client.post(edit, data=_charter(people, lead=("Cheffe", "40"), camille=("<b>Appui</b>", "9999")))
    assert response.status_code == 422
    page = text(response)
    assert field_errors(page, f"membre-{camille}-heures") == "Un nombre entier d'heures, de 0 à 2000."
    # The error summary links the message to the row's field, once (not also unlinked).
    assert re.search(rf'<a href="#membre-{camille}-heures">Camille Rousseau, heures prévues : Un nombre entier', page)
    assert "Le formulaire contient 1 erreur<" in page
    assert 'value="9999"' in page and "<b>Appui</b>" not in response.get_data(as_text=True)
    assert _team(project) == before
    # An agent of another institution slipped into the form: refused, said above the team.
    response = client.post(edit, data=_charter(people, lead=("Cheffe", "40"), elsewhere=("Appui", "10")))
    assert response.status_code == 422
    assert "n'est pas un agent actif de la collectivité" in field_errors(text(response), "equipe")
    assert '<a href="#equipe">Équipe : Un membre choisi' in text(response)
    assert _team(project) == before
    # Who may not edit the charter is refused, whatever the page showed.
    agent = make_client()
    login(agent, people["agent"])
    assert agent.post(edit, data=_charter(people, agent=("Appui", "10"))).status_code == 403
    assert _team(project) == before


def test_the_charter_form_has_no_free_text_team(team, make_client, login):
    people, project = team
    client = make_client()
    login(client, people["coordinator"])
    page = text(client.get(f"/projets/{project.id}/lettre-de-mission/modifier"))
    assert "adresse ; rôle ; heures" not in page
    assert re.search(r'<input type="search" id="agent-search"[^>]*data-hx-get="/projets/\d+/equipe/agents"', page)
    assert 'aria-live="polite"' in page
