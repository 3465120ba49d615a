import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from incubator import create_app
from incubator.errors import InvalidTransition, NotAllowed, ValidationFailed
from incubator.extensions import db
from incubator.people import hierarchy
from incubator.release_time import services
from incubator.release_time.models import TimeEntry
from incubator.timeutil import today_paris
from tests.conftest import app_config
from tests.factories import (
    DEFAULT_PASSWORD,
    make_project,
    make_project_member,
    make_time_entry,
    make_user,
)
from tests.helpers import text, without_error_title
from tests.release_time.conftest import manager_agent_project

MONDAY = date(2026, 11, 16)  # a full working week (no public holiday)


def key(project, day):
    return (project.id, day)


@pytest.fixture
def setup():
    return manager_agent_project(hours_budget=10)


def entries(agent):
    return db.session.scalars(select(TimeEntry).where(TimeEntry.user_id == agent.id).order_by(TimeEntry.id)).all()


def test_parse_hours_in_quarter_steps():
    assert services.parse_hours("1,5") == 90 and services.parse_hours("1.25") == 75
    assert services.parse_hours("1:45") == 105 and services.parse_hours("") is None
    for bad in ("1,1", "abc", "-1", "25"):
        with pytest.raises(ValueError):
            services.parse_hours(bad)


def test_caps_and_day_limits_follow_the_quotite(setup):
    manager, agent, project = setup
    assert services.daily_limit(agent) == 420 and services.monthly_cap(agent) == 1607
    agent.quotite = 80
    assert services.daily_limit(agent) == 330 and services.monthly_cap(agent) == 1285
    agent.quotite = 50
    with pytest.raises(ValidationFailed) as exc:
        services.save_week(agent, MONDAY, values={key(project, MONDAY): "4"})
    assert "dépasse votre journée de travail" in exc.value.errors["day-20261116"][0]
    services.save_week(agent, MONDAY, values={key(project, MONDAY): "3,5"})
    assert [e.minutes for e in entries(agent)] == [210]


def test_only_members_within_project_dates(setup):
    manager, agent, project = setup
    other = make_project(agent.institution, title="Autre")
    with pytest.raises(ValidationFailed) as exc:
        services.save_week(agent, MONDAY, values={key(other, MONDAY): "1"})
    assert "membre" in exc.value.errors[f"h-{other.id}-20261116"][0]
    project.ends_on = date(2026, 11, 17)
    with pytest.raises(ValidationFailed) as exc:
        services.save_week(agent, MONDAY, values={key(project, MONDAY + timedelta(days=3)): "1"})
    assert "hors des dates" in exc.value.errors[f"h-{project.id}-20261119"][0]
    project.state = "completed"
    with pytest.raises(ValidationFailed):
        services.save_week(agent, MONDAY, values={key(project, MONDAY): "1"})


def test_submit_approve_freeze_and_correction_chain(setup):
    manager, agent, project = setup
    services.save_week(agent, MONDAY, values={key(project, MONDAY): "2", key(project, MONDAY + timedelta(days=1)): "1"})
    services.submit_week(agent, MONDAY)
    with pytest.raises(InvalidTransition):
        services.save_week(agent, MONDAY, values={key(project, MONDAY): "3"})
    first, second = entries(agent)
    with pytest.raises(NotAllowed):
        services.decide(make_user(org_unit=agent.org_unit), [first.id], approve=True)
    with pytest.raises(ValidationFailed):
        services.decide(manager, [second.id], approve=False, reason="")
    services.decide(manager, [first.id], approve=True)
    services.decide(manager, [second.id], approve=False, reason="Ce jour-là vous étiez en formation.")
    assert (first.status, second.status) == ("approved", "refused")
    assert services.counted_minutes(agent.id, MONDAY, MONDAY + timedelta(days=7)) == 120
    # Approved is frozen: a new value is a correction, approved again before it counts.
    services.save_week(agent, MONDAY, values={key(project, MONDAY): "1,5", key(project, MONDAY + timedelta(days=1)): "0,5"})
    rows = entries(agent)
    correction = rows[-1]
    assert first.minutes == 120 and first.status == "approved"
    assert (correction.corrects_id, correction.minutes, correction.status) == (first.id, 90, "draft")
    assert (second.minutes, second.status) == (30, "draft")  # the refused line, corrected in place
    services.submit_week(agent, MONDAY)
    assert services.counted_minutes(agent.id, MONDAY, MONDAY + timedelta(days=7)) == 120  # 90 + 30, once each
    services.decide(manager, [correction.id, second.id], approve=True)
    assert services.counted_minutes(agent.id, MONDAY, MONDAY + timedelta(days=7), statuses=("approved",)) == 120
    budget = services.budgets([project.id], user_ids=[agent.id])[0]
    assert (budget.approved, budget.pending, budget.remaining) == (120, 0, 480)


def test_monthly_cap_warning_refusal_and_override(setup):
    manager, agent, project = setup
    agent.quotite = 50  # cap 13.39 h, day 3.5 h
    weeks = [MONDAY - timedelta(weeks=2), MONDAY - timedelta(weeks=1)]
    for monday in weeks:
        services.save_week(agent, monday, values={key(project, monday + timedelta(days=d)): "1,5" for d in range(4)})
    services.submit_week(agent, weeks[0])  # 6 h
    warnings = services.submit_week(agent, weeks[1])  # 12 h: 90 % of 13.39 h
    assert warnings and "90 %" in warnings[0]
    services.save_week(agent, MONDAY, values={key(project, MONDAY): "3"})
    db.session.commit()  # like a request: a refusal rolls back that request only
    with pytest.raises(ValidationFailed) as exc:
        services.submit_week(agent, MONDAY)
    assert "Plafond mensuel dépassé" in exc.value.errors["week"][0]
    db.session.rollback()
    services.grant_override(manager, agent, month=MONDAY, reason="Rush de fin de projet validé en comité.")
    services.submit_week(agent, MONDAY)
    with pytest.raises(NotAllowed):
        services.grant_override(agent, agent, month=MONDAY, reason="Je me l'accorde.")


def test_delegation_in_and_out_of_its_period(setup):
    manager, agent, project = setup
    colleague = make_user(org_unit=manager.org_unit, email="collegue@ville.fr")
    make_user(org_unit=manager.org_unit, manager=colleague)  # the colleague is a manager too
    services.save_week(agent, MONDAY, values={key(project, MONDAY): "1"})
    services.submit_week(agent, MONDAY)
    today = today_paris()
    with pytest.raises(ValidationFailed):
        hierarchy.delegate(manager, delegate_email="collegue@ville.fr", starts_on=today, ends_on=today - timedelta(days=1))
    with pytest.raises(NotAllowed):
        hierarchy.delegate(agent, delegate_email="collegue@ville.fr", starts_on=today, ends_on=today)
    hierarchy.delegate(manager, delegate_email="collegue@ville.fr", starts_on=today + timedelta(days=1),
                      ends_on=today + timedelta(days=10))
    entry = entries(agent)[0]
    with pytest.raises(NotAllowed):  # not yet in the period
        services.decide(colleague, [entry.id], approve=True)
    hierarchy.delegate(manager, delegate_email="collegue@ville.fr", starts_on=today - timedelta(days=3), ends_on=today)
    services.decide(colleague, [entry.id], approve=True)
    assert entry.status == "approved" and entry.decided_by_id == colleague.id


def test_recall_and_approval_race_has_one_winner(setup):
    manager, agent, project = setup
    services.save_week(agent, MONDAY, values={key(project, MONDAY): "1"})
    services.submit_week(agent, MONDAY)
    entry_id = entries(agent)[0].id
    services.recall_week(agent, MONDAY)  # the agent wins...
    with pytest.raises(InvalidTransition, match="entre-temps"):  # ...the N+1 is told clearly
        services.decide(manager, [entry_id], approve=True)


def test_parallel_recall_and_approval_on_the_real_database(setup, database_url):
    manager, agent, project = setup
    services.save_week(agent, MONDAY, values={key(project, MONDAY): "1"})
    services.submit_week(agent, MONDAY)
    entry_id = entries(agent)[0].id
    db.session.commit()
    app = create_app(app_config(database_url, WTF_CSRF_ENABLED=False))
    clients = []
    for user in (agent, manager):
        client = app.test_client()
        assert client.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 303
        clients.append(client)
    barrier, results = threading.Barrier(2), {}

    def run(name, client, path, data):
        barrier.wait()
        results[name] = client.post(path, data=data).status_code

    threads = [threading.Thread(target=run, args=("agent", clients[0], f"/mon-temps/rappeler?semaine={MONDAY}", {})),
               threading.Thread(target=run, args=("manager", clients[1], "/validations", {"entry": str(entry_id), "action": "approve"}))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results.values()) == [303, 409], results
    db.session.rollback()
    status = db.session.get(TimeEntry, entry_id).status
    assert status == ("draft" if results["agent"] == 303 else "approved")


def test_pages(client, login, make_client, setup):
    manager, agent, project = setup
    login(client, agent)
    page = text(client.get(f"/mon-temps?semaine={MONDAY}"))
    assert "Carnet des bâtiments" in page and "plafond de 26,78 h" in page
    data = {f"h-{project.id}-20261116": "2", f"h-{project.id}-20261117": "x", "action": "save"}
    response = client.post(f"/mon-temps?semaine={MONDAY}", data=data)
    assert response.status_code == 422 and "Heures par quarts d'heure" in text(response)
    assert entries(agent) == []
    data[f"h-{project.id}-20261117"] = "1"
    data["action"] = "submit"
    assert client.post(f"/mon-temps?semaine={MONDAY}", data=data).status_code == 303
    assert {e.status for e in entries(agent)} == {"submitted"}
    assert client.post("/validations", data={"entry": str(entries(agent)[0].id), "action": "approve"}).status_code == 403
    boss = make_client()
    login(boss, manager)
    page = text(boss.get("/validations"))
    assert "Camille" in page and "Semaine du 16 novembre 2026" in page
    assert "1 agent" in page and "résultat" not in page
    ids = [str(e.id) for e in entries(agent)]
    response = boss.post("/validations", data={"entry": ids[1], "action": "refuse", "reason": ""})
    assert response.status_code == 422 and "Un refus doit être motivé" in text(response)
    assert boss.post("/validations", data={"entry": ids[0], "action": "approve"}).status_code == 303
    assert boss.post("/validations", data={"entry": ids[1], "action": "refuse", "reason": "Jour de congé."}).status_code == 303
    page = text(client.get(f"/mon-temps?semaine={MONDAY}"))
    assert "Validé" in page and "« Jour de congé. »" in page
    assert client.get("/mon-temps?semaine=9999-99-99").status_code == 200
    assert boss.post("/validations", data={"entry": "abc", "action": "approve"}).status_code == 400


def test_approval_queue_is_paginated_by_agent_with_a_fixed_number_of_queries(client, login, setup, count_queries):
    manager, first, project = setup
    agents = [first] + [make_user(org_unit=first.org_unit, manager=manager, first_name=f"Agent{n:02d}",
                                  last_name=f"Zeta{n:02d}") for n in range(11)]
    for agent in agents:
        if agent is not first:
            make_project_member(project, agent)
        make_time_entry(agent, project, day=MONDAY, minutes=60, status="submitted")
    login(client, manager)
    with count_queries() as first_page:
        page = text(client.get("/validations"))
    # Counted in agents, the unit of the queue's pages (not in « résultats » of an action).
    assert "Page 1 sur 2 — 12 agents" in page and "Zeta08" in page and "Zeta09" not in page
    with count_queries() as second_page:
        page = text(client.get("/validations?page=2"))
    assert "Zeta09" in page and "Zeta10" in page and "Zeta00" not in page
    assert first_page.count == second_page.count
    # Whether the manager has agents (the delegation form) comes with the session: no
    # query of its own (the count of agents waiting does come with their page, too).
    assert not [s for s in first_page.statements if s.startswith("SELECT EXISTS")], first_page.statements
    assert "Déléguer mes validations" in page
    # The lines of page 2 are approved from page 2.
    last = [e.id for e in entries(agents[-1])]
    assert client.post("/validations?page=2", data={"entry": str(last[0]), "action": "approve"}).status_code == 303
    assert entries(agents[-1])[0].status == "approved"


def test_the_week_and_the_cap_override_write_the_one_way(client, login, make_client, setup):
    """The week's grid, posted by htmx, answers its block again with the messages (422) and
    writes nothing, or HX-Redirect once saved; a refused override answers the approvals
    page with its messages, a second one 409 (web.write)."""
    manager, agent, project = setup
    login(client, agent)
    htmx = {"HX-Request": "true"}
    data = {f"h-{project.id}-20261116": "x", "action": "save"}
    response = client.post(f"/mon-temps?semaine={MONDAY}", data=data, headers=htmx)
    body = text(response)
    assert response.status_code == 422 and without_error_title(body).startswith('<div id="week-grid"') and "<html" not in body
    assert "Heures par quarts d'heure" in body and entries(agent) == []
    data[f"h-{project.id}-20261116"] = "2"
    response = client.post(f"/mon-temps?semaine={MONDAY}", data=data, headers=htmx)
    assert (response.status_code, response.headers["HX-Redirect"]) == (204, f"/mon-temps?semaine={MONDAY}")
    assert [(e.minutes, e.status) for e in entries(agent)] == [(120, "draft")]
    boss = make_client()
    login(boss, manager)
    response = boss.post(f"/validations/derogation/{agent.id}", data={"month": "2026-11", "reason": ""})
    body = text(response)
    assert response.status_code == 422 and "Motivez la dérogation (5 à 1000 caractères)." in body
    assert "Validations" in body.split("<h1>")[1]  # the approvals page, not the error page
    reason = {"month": "2026-11", "reason": "Rush de fin de projet."}
    assert boss.post(f"/validations/derogation/{agent.id}", data=reason).status_code == 303
    response = boss.post(f"/validations/derogation/{agent.id}", data=reason)
    assert response.status_code == 409 and "Une dérogation existe déjà pour ce mois." in text(response)
