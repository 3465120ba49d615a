import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from incubator.errors import InvalidTransition, NotAllowed, ValidationFailed
from incubator.extensions import db
from incubator.projects import lifecycle, services
from incubator.projects.models import Project, Retrospective
from incubator.review import decisions, voting
from incubator.timeutil import today_paris
from tests.factories import (
    make_institution,
    make_milestone,
    make_org_unit,
    make_progress_update,
    make_project,
    make_project_member,
    make_proposal,
    make_session,
    make_settings,
    make_time_entry,
    make_user,
)
from tests.helpers import field_errors, text

RATIONALE = ("Le collectif retient la proposition : elle répond à un besoin réel des usagers, "
             "reste faisable avec les moyens actuels et a été bien évaluée.")
RETRO = {"worked": "L'implication des agents.", "did_not_work": "Le calendrier trop serré.",
         "reusable": "La trame de diagnostic.", "indicators_reached": "Délai divisé par deux."}


def test_publishing_an_accepted_initiative_creates_the_project():
    coordinator = make_user(roles=["coordinator"], collective=True)
    make_settings(coordinator.institution)
    coauthor = make_user(org_unit=coordinator.org_unit)
    proposal = make_proposal(author=make_user(org_unit=coordinator.org_unit), state="in_review", coauthors=(coauthor,))
    session = make_session(coordinator.institution, created_by=coordinator)
    item = voting.schedule(coordinator, session, proposal)
    voting.set_attendance(coordinator, session, present_ids=[coordinator.id])
    voting.open_vote(coordinator, item)
    voting.cast_vote(coordinator, item, choice="for")
    voting.close_vote(coordinator, item)
    decisions.publish_decision(coordinator, item, outcome="accepted", rationale=RATIONALE)
    project = db.session.scalar(select(Project))
    assert (project.state, project.proposal_id, project.lead_id) == ("framing", proposal.id, proposal.author_id)
    assert {m.user_id for m in project.members} == {proposal.author_id, coauthor.id}


def test_the_public_history_says_a_project_was_opened_in_words(client, login):
    coordinator = make_user(roles=["coordinator"])
    proposal = make_proposal(author=make_user(org_unit=coordinator.org_unit), state="accepted")
    services.create_from_proposal(proposal, coordinator)
    db.session.commit()
    login(client, make_user(org_unit=coordinator.org_unit))
    page = text(client.get(f"/propositions/{proposal.id}"))
    assert "Retenue : un projet est ouvert pour la mettre en œuvre." in page
    assert "project.created" not in page


@pytest.fixture
def team():
    lead = make_user(first_name="Lea")
    sponsor = make_user(org_unit=lead.org_unit, first_name="Sam", email="sponsor@ville.fr")
    member = make_user(org_unit=lead.org_unit, email="membre@ville.fr")
    coordinator = make_user(org_unit=lead.org_unit, roles=["coordinator"])
    agent = make_user(org_unit=lead.org_unit)
    outsider = make_user(org_unit=make_org_unit(make_institution()), roles=["coordinator"])
    proposal = make_proposal(author=lead, state="accepted")
    project = services.create_from_proposal(proposal, coordinator)
    return {"lead": lead, "sponsor": sponsor, "member": member, "coordinator": coordinator,
            "agent": agent, "outsider": outsider, "project": project}


def _charter(t, **changes):
    data = dict(sponsor_email="sponsor@ville.fr", lead_email=t["lead"].email, objectives="Réduire les délais.",
                indicators="Délai < 5 jours.", starts_on=date(2026, 1, 5), ends_on=date(2026, 12, 18),
                members=[(t["lead"].id, "cheffe de projet", "60"), (t["member"].id, "appui", "30")])
    data.update(changes)
    return data


def test_charter_rules(team):
    project = team["project"]
    with pytest.raises(NotAllowed):
        services.save_charter(team["agent"], project, **_charter(team))
    with pytest.raises(ValidationFailed) as exc:
        services.save_charter(team["lead"], project, **_charter(
            team, sponsor_email="inconnu@ville.fr", ends_on=date(2025, 1, 1),
            members=[(team["member"].id, "appui", "deux"), (team["outsider"].id, "x", "3"),
                     (team["lead"].id, "appui", "9999")]))
    assert set(exc.value.errors) == {"sponsor_email", "ends_on", "members",
                                     f"member-{team['member'].id}-hours", f"member-{team['lead'].id}-hours"}
    assert "n'est pas un agent actif de la collectivité" in exc.value.errors["members"][0]
    # Validation refused while incomplete, and only by the sponsor or the coordinator.
    with pytest.raises(ValidationFailed) as exc:
        services.validate_charter(team["coordinator"], project)
    assert "Avant de valider" in exc.value.errors["charter"][0]
    services.save_charter(team["coordinator"], project, **_charter(team))
    assert [(m.user_id, m.hours_budget) for m in project.members] == [(team["lead"].id, 60), (team["member"].id, 30)]
    with pytest.raises(NotAllowed):
        services.validate_charter(team["lead"], project)
    with pytest.raises(NotAllowed):  # lead, sponsor and validator are three people
        services.validate_charter(team["sponsor"], project)
    services.validate_charter(team["coordinator"], project)
    assert project.state == "active" and project.charter_validated_at is not None
    with pytest.raises(InvalidTransition):
        services.validate_charter(team["coordinator"], project)


def _active(team):
    services.save_charter(team["coordinator"], team["project"], **_charter(team))
    services.validate_charter(team["coordinator"], team["project"])
    return team["project"]


def test_running_guards_by_role(team):
    project = _active(team)
    for person in ("agent", "sponsor", "outsider"):
        with pytest.raises(NotAllowed):
            services.add_milestone(team[person], project, title="Lancement", due_on=date(2026, 3, 1))
    milestone = services.add_milestone(team["member"], project, title="Lancement", due_on=date(2020, 3, 1))
    assert milestone.is_overdue(today_paris())
    services.toggle_milestone(team["lead"], project, milestone)
    assert milestone.done_on is not None and not milestone.is_overdue(today_paris())
    with pytest.raises(ValidationFailed) as exc:
        services.add_progress(team["member"], project, text="court", progress=120, indicator_values="")
    assert set(exc.value.errors) == {"text", "progress"}
    services.add_progress(team["member"], project, text="Premier site équipé.", progress=40, indicator_values="")
    assert project.progress == 40
    with pytest.raises(NotAllowed):
        services.hold(team["member"], project, reason="Budget en attente.")
    with pytest.raises(ValidationFailed):
        services.hold(team["lead"], project, reason="")
    services.hold(team["lead"], project, reason="Budget en attente.")
    assert project.state == "on_hold"
    services.resume(team["coordinator"], project, reason="Budget voté.")
    assert project.state == "active"


def test_closing_needs_a_retrospective_then_refuses_all_changes(team):
    project = _active(team)
    with pytest.raises(ValidationFailed) as exc:
        services.close(team["lead"], project, action="complete", worked="", did_not_work="x", reusable="", indicators_reached="")
    assert set(exc.value.errors) == {"worked", "did_not_work", "reusable", "indicators_reached"}
    with pytest.raises(NotAllowed):
        services.close(team["member"], project, action="complete", **RETRO)
    services.close(team["lead"], project, action="complete", **RETRO)
    assert project.state == "completed" and project.progress == 100
    assert db.session.scalar(select(Retrospective.worked)) == RETRO["worked"]
    for attempt in (
        lambda: services.add_milestone(team["lead"], project, title="Encore", due_on=date(2027, 1, 1)),
        lambda: services.add_progress(team["lead"], project, text="Encore un point.", progress=100, indicator_values=""),
        lambda: services.save_charter(team["lead"], project, **_charter(team)),
        lambda: services.hold(team["lead"], project, reason="Pause après la fin."),
        lambda: services.close(team["lead"], project, action="abandon", **RETRO),
    ):
        with pytest.raises(InvalidTransition):
            attempt()


def test_abandon_from_framing_by_sponsor_is_in_the_table():
    assert lifecycle.transition("framing", "abandon").who >= {lifecycle.SPONSOR}
    assert lifecycle.transition("framing", "complete") is None


def test_project_pages(client, login, make_client, team):
    project = _active(team)
    db.session.commit()
    login(client, team["agent"])
    page = text(client.get(f"/projets/{project.id}"))
    assert project.title in page and "Ajouter le jalon" not in page and "Clore le projet" not in page
    assert client.post(f"/projets/{project.id}/jalons", data={"jalon-title": "Forcé", "jalon-due_on": "2026-05-01"}).status_code == 403
    lead = make_client()
    login(lead, team["lead"])
    assert lead.post(f"/projets/{project.id}/jalons", data={"jalon-title": "", "jalon-due_on": ""}).status_code == 422
    assert lead.post(f"/projets/{project.id}/jalons", data={"jalon-title": "Site pilote", "jalon-due_on": "2026-05-01"}).status_code == 303
    assert lead.post(f"/projets/{project.id}/avancement", data={"avancement-text": "Le site pilote est équipé.", "avancement-progress": "30"}).status_code == 303
    response = lead.post(f"/projets/{project.id}/cloture", data={"cloture-action": "complete"})
    assert response.status_code == 422 and "retour d'expérience est obligatoire" in text(response)
    data = {f"cloture-{k}": v for k, v in RETRO.items()} | {"cloture-action": "complete"}
    assert lead.post(f"/projets/{project.id}/cloture", data=data).status_code == 303
    page = text(client.get(f"/projets/{project.id}"))
    assert "Retour d'expérience" in page and RETRO["reusable"] in page
    assert RETRO["worked"] in text(client.get(f"/propositions/{project.proposal_id}"))
    charter = text(client.get(f"/projets/{project.id}/lettre-de-mission"))
    assert "Lettre de mission" in charter and "Le ou la commanditaire" in charter and "60" in charter
    portfolio = text(client.get("/realisations?etat=completed"))
    assert project.title in portfolio
    outsider = make_client()
    login(outsider, team["outsider"])
    assert outsider.get(f"/projets/{project.id}").status_code == 404


def test_portfolio_filters_combine(client, login, team):
    institution = team["lead"].institution
    make_project(institution, title="Jardins partagés des quartiers", state="active")
    make_project(institution, title="Jardins de la mairie", state="completed")
    make_project(institution, title="Immersion aux quartiers", kind="immersion", state="active")
    login(client, team["agent"])

    def titles(query: str) -> set[str]:
        page = text(client.get(f"/realisations?{query}"))
        return {t for t in ("Jardins partagés des quartiers", "Jardins de la mairie", "Immersion aux quartiers") if t in page}

    # Each filter's value reaches its own parameter, however many are combined (the
    # statement of a combination is built once and serves every request).
    assert titles("q=jardins") == {"Jardins partagés des quartiers", "Jardins de la mairie"}
    assert titles("q=jardins+quartiers") == {"Jardins partagés des quartiers"}
    assert titles("q=quartiers&nature=immersion") == {"Immersion aux quartiers"}
    assert titles("q=jardins&etat=completed") == {"Jardins de la mairie"}
    assert titles("q=mairie+quartiers") == set()
    assert titles("") == {"Jardins partagés des quartiers", "Jardins de la mairie", "Immersion aux quartiers"}


def test_portfolio_cards_count_late_milestones_and_name_the_next_one(client, login, team):
    """A card counts the milestones not done whose day has passed, and names the first one
    still to come; a done milestone is neither, and a closed project shows neither."""
    institution = team["lead"].institution
    running = make_project(institution, title="Carnet des bâtiments", state="active", lead=team["lead"])
    make_milestone(running, title="Inventaire", due_on=date(2026, 3, 2))
    make_milestone(running, title="Relevés", due_on=date(2026, 3, 9))
    make_milestone(running, title="Déjà fait", due_on=date(2026, 3, 5), done_on=date(2026, 3, 4))
    make_milestone(running, title="Restitution", due_on=date(2026, 4, 20))
    make_milestone(running, title="Cahier final", due_on=date(2026, 3, 16))
    make_milestone(running, title="Atelier", due_on=date(2026, 3, 10))  # the day itself: still to come
    late_once = make_project(institution, title="Accueil unique", state="active")
    make_milestone(late_once, title="Maquette", due_on=date(2026, 2, 1))
    closed = make_project(institution, title="Vélos de service", state="completed")
    make_milestone(closed, title="Oublié", due_on=date(2026, 1, 5))
    with time_machine.travel(datetime(2026, 3, 10, 12, tzinfo=ZoneInfo("Europe/Paris")), tick=False):
        login(client, team["agent"])
        page = text(client.get("/realisations"))
    # Each card as its reader sees it.
    cards = {re.search(r"<h2[^>]*><a[^>]*>([^<]+)</a>", card).group(1): re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", card))
             for card in page.split('<article class="proposal-card">')[1:]}
    assert "2 jalons en retard" in cards["Carnet des bâtiments"]
    assert f"Chef·fe de projet : {team['lead'].full_name}" in cards["Carnet des bâtiments"]
    assert "Prochain jalon : Atelier, le 10 mars 2026" in cards["Carnet des bâtiments"]
    assert "1 jalon en retard" in cards["Accueil unique"] and "Prochain jalon" not in cards["Accueil unique"]
    assert "Chef·fe de projet : à désigner" in cards["Accueil unique"]
    assert "en retard" not in cards["Vélos de service"] and "Prochain jalon" not in cards["Vélos de service"]


def test_project_page_lists_milestones_in_order_with_their_state(client, login, team):
    project = team["project"]
    make_milestone(project, title="Restitution", due_on=date(2026, 4, 20))
    make_milestone(project, title="Inventaire", due_on=date(2026, 3, 2), done_on=date(2026, 3, 1))
    make_milestone(project, title="Relevés", due_on=date(2026, 3, 9))
    with time_machine.travel(datetime(2026, 3, 10, 12, tzinfo=ZoneInfo("Europe/Paris")), tick=False):
        login(client, team["agent"])
        page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text(client.get(f"/projets/{project.id}"))))
    assert ("Atteint le 01/03/2026 Inventaire — échéance 2 mars 2026 "
            "En retard Relevés — échéance 9 mars 2026 "
            "Prévu Restitution — échéance 20 avril 2026") in page
    # An agent outside the team reads them, and is offered no button to change them.
    assert "Marquer atteint" not in page and "Rouvrir" not in page


def test_portfolio_search_ignores_accents_in_titles(client, login, team):
    """An immersion's title names its visitor, whom the offer's text (searched through the
    proposal) does not: the title itself is compared without accents or case."""
    make_project(team["lead"].institution, title="Immersion de Élodie Noël : accueil des usagers", kind="immersion")
    login(client, team["agent"])
    for query in ("elodie", "%C3%89lodie", "NOEL+elodie", "accueil+usagers"):
        assert "Immersion de Élodie Noël" in text(client.get(f"/realisations?q={query}")), query
    assert "Immersion de Élodie Noël" not in text(client.get("/realisations?q=elodie+mairie"))


def test_portfolio_query_count_is_fixed(client, login, count_queries, team):
    login(client, team["agent"])
    with count_queries() as few:
        client.get("/realisations")
    for _ in range(15):
        services.create_from_proposal(make_proposal(author=team["lead"], state="accepted"), team["coordinator"])
    with count_queries() as many:
        client.get("/realisations")
    assert few.count == many.count


def test_the_project_page_reads_a_large_team_in_a_fixed_number_of_queries(client, login, count_queries, team):
    project = team["project"]
    login(client, team["agent"])
    with count_queries() as few:
        assert client.get(f"/projets/{project.id}").status_code == 200
    newcomers = [make_user(org_unit=team["lead"].org_unit, first_name=f"Recrue{i:02d}") for i in range(12)]
    for user in newcomers:
        make_project_member(project, user, role="appui", hours_budget=10)
    db.session.commit()
    with count_queries() as many:
        page = text(client.get(f"/projets/{project.id}"))
    assert few.count == many.count
    assert all(f"{user.full_name} — appui, 10 h prévues" in page for user in newcomers)


def test_the_project_page_shows_progress_updates_a_page_at_a_time(client, login, count_queries, team):
    """The newest ten progress updates, then the earlier ones ten at a time (?avant=, where
    the previous page stopped), in a fixed number of queries; an unknown or odd « avant »
    shows the newest, never an error."""
    project = team["project"]
    for n in range(23):  # two share a moment: the number decides between them
        make_progress_update(project, team["lead"], progress=n, text=f"Point numéro {n:02d}.",
                             created_at=datetime(2026, 3, 1 + min(n, 21), 9, 0))
    db.session.commit()
    login(client, team["agent"])
    numbers = lambda page: re.findall(r"Point numéro (\d\d)", page)  # noqa: E731
    with count_queries() as newest:
        first = text(client.get(f"/projets/{project.id}"))
    assert numbers(first) == [f"{n:02d}" for n in range(22, 12, -1)]
    assert "Revenir aux points les plus récents" not in first
    earlier = re.search(r'href="([^"]*avant=\d+)#avancement"', first).group(1).replace("&amp;", "&")
    with count_queries() as older:
        second = text(client.get(earlier))
    assert numbers(second) == [f"{n:02d}" for n in range(12, 2, -1)]
    assert "Revenir aux points les plus récents" in second
    third = text(client.get(re.search(r'href="([^"]*avant=\d+)#avancement"', second).group(1).replace("&amp;", "&")))
    assert numbers(third) == ["02", "01", "00"] and "Voir les points plus anciens" not in third
    assert newest.count == older.count
    for odd in ("abc", "-1", "0", "99999999999999999999", "999999"):
        page = client.get(f"/projets/{project.id}?avant={odd}")
        assert page.status_code == 200, odd
    assert numbers(text(client.get(f"/projets/{project.id}?avant=abc"))) == numbers(first)


def test_the_project_page_shows_the_budgets_each_reader_may_see(client, login, make_client, team):
    """The lead (and sponsor, coordinator) see every member's hours; a member their own
    line only; an agent outside the team none."""
    project = team["project"]
    [lead_membership] = project.members  # the author, member since the project was created
    lead_membership.hours_budget = 20
    make_project_member(project, team["member"], role="appui", hours_budget=2)
    make_time_entry(team["lead"], project, hours=3, status="approved")
    make_time_entry(team["member"], project, hours=1.5, status="approved")
    make_time_entry(team["member"], project, hours=1, status="submitted")
    make_time_entry(team["member"], project, hours=4, status="refused")
    db.session.commit()
    lead_line = f"{team['lead'].full_name} : 3 h validées, 0 h en attente, sur 20 h prévues"
    member_line = f"{team['member'].full_name} : 1,5 h validées, 1 h en attente, sur 2 h prévues — <strong>budget dépassé"

    def budgets_seen(user) -> str:
        reader = make_client()
        login(reader, user)
        page = text(reader.get(f"/projets/{project.id}"))
        return page.split("Temps de décharge", 1)[1].split("Historique", 1)[0] if "Temps de décharge" in page else ""

    assert lead_line in budgets_seen(team["lead"]) and member_line in budgets_seen(team["lead"])
    assert member_line in budgets_seen(team["coordinator"])
    seen = budgets_seen(team["member"])
    assert member_line in seen and lead_line not in seen
    assert budgets_seen(team["agent"]) == ""


def test_validating_an_incomplete_charter_says_what_is_missing(client, login, team):
    login(client, team["coordinator"])
    response = client.post(f"/projets/{team['project'].id}/valider")
    assert response.status_code == 422
    assert "Avant de valider, complétez : le commanditaire" in text(response)
    assert team["project"].state == "framing"


def test_project_writes_the_one_way(client, login, make_client, team):
    """Success commits then redirects (303, HX-Redirect for htmx); a refused form answers
    422 with its messages and writes nothing; the services' refusals answer 403 and 409
    with their own messages (web.write)."""
    project = team["project"]  # framing: the charter is not validated yet
    login(client, team["lead"])
    response = client.post(f"/projets/{project.id}/avancement", data={"avancement-text": "Le site pilote est équipé.",
                                                                     "avancement-progress": "30"})
    assert response.status_code == 409
    assert "Validez d'abord la lettre de mission : le projet n'a pas démarré." in text(response)
    response = client.post(f"/projets/{project.id}/jalons", data={"jalon-title": "Xy", "jalon-due_on": ""})
    body = text(response)
    assert response.status_code == 422 and "<html" in body
    assert field_errors(body, "jalon-title") == "Un intitulé de 3 à 200 caractères."
    assert field_errors(body, "jalon-due_on") == "Indiquez l'échéance."
    assert not project.milestones
    response = client.post(f"/projets/{project.id}/jalons", data={"jalon-title": "Site pilote", "jalon-due_on": "2026-05-01"},
                           headers={"HX-Request": "true"})
    assert (response.status_code, response.headers["HX-Redirect"]) == (204, f"/projets/{project.id}#jalons")
    assert [m.title for m in project.milestones] == ["Site pilote"]
    agent = make_client()
    login(agent, team["agent"])
    response = agent.post(f"/projets/{project.id}/jalons", data={"jalon-title": "Forcé", "jalon-due_on": "2026-05-01"})
    assert response.status_code == 403 and "Seule l'équipe du projet gère ses jalons." in text(response)
    assert len(project.milestones) == 1
