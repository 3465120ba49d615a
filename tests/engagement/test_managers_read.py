"""The institution setting « Les encadrants voient les chiffres d'engagement de leurs
agents » (/admin/parametres): off by default; on, an agent's direct N+1 reads the agent's
record (the page the agent sees), each read logged; nobody else does, through that door."""

from datetime import date

import pytest
from sqlalchemy import select

from incubator.audit.models import AuditEvent
from incubator.engagement.policy import NO_REPORTS, NOT_THE_MANAGER, OPTION_OFF
from incubator.extensions import db
from tests.factories import (
    make_institution,
    make_org_unit,
    make_project,
    make_time_entry,
    make_user,
)
from tests.helpers import text


@pytest.fixture
def team():
    director = make_user(first_name="Dana", last_name="Directrice")
    manager = make_user(org_unit=director.org_unit, manager=director, first_name="Karim", last_name="Benali")
    agent = make_user(org_unit=director.org_unit, manager=manager, first_name="Camille", last_name="Martin")
    colleague = make_user(org_unit=director.org_unit, manager=manager, first_name="Aïcha", last_name="Diallo")
    other_manager = make_user(org_unit=director.org_unit, first_name="Paul", last_name="Autre")
    make_user(org_unit=director.org_unit, manager=other_manager)
    admin = make_user(org_unit=director.org_unit, roles=["admin"])
    project = make_project(title="Carnet des bâtiments", members=(agent,), hours_budget=10)
    make_time_entry(agent, project, day=date(2026, 3, 2), minutes=90, status="approved")
    return {"director": director, "manager": manager, "agent": agent, "colleague": colleague,
            "other_manager": other_manager, "admin": admin}


def switch(make_client, login, admin, on: bool):
    """The administration ticks (or unticks) the box on /admin/parametres."""
    client = make_client()
    login(client, admin)
    data = {"monthly_cap_percent": "20", "day_length": "7:00", "limits_mode": "refuse",
            "internal_min_days": "1", "internal_max_days": "10", **({"managers_see_engagement": "y"} if on else {})}
    assert client.post("/admin/parametres", data=data).status_code == 303


def reads() -> list[tuple[int, int, dict]]:
    db.session.expire_all()
    return [(e.actor_id, e.target_id, e.data) for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "engagement.viewed_by_manager").order_by(AuditEvent.id))]


def record_url(agent) -> str:
    return f"/mes-agents/{agent.id}/engagement?annee=2026"


def test_off_by_default_the_n_plus_1_is_told_why(team, client, login):
    login(client, team["manager"])
    for url in (record_url(team["agent"]), "/mes-agents"):
        response = client.get(url)
        assert response.status_code == 403 and OPTION_OFF in text(response)
    assert "/mes-agents" not in text(client.get("/"))
    assert reads() == []


def test_on_the_n_plus_1_reads_the_record_the_agent_sees_and_each_read_is_logged(team, client, login, make_client):
    switch(make_client, login, team["admin"], on=True)
    login(client, team["manager"])
    home = text(client.get("/"))
    assert 'href="/mes-agents"' in home
    listing = text(client.get("/mes-agents"))
    # Direct reports only, by name, no figures side by side.
    assert listing.index("Aïcha Diallo") < listing.index("Camille Martin")
    assert "Paul Autre" not in listing and " h<" not in listing
    response = client.get(record_url(team["agent"]))
    page = text(response)
    assert response.status_code == 200 and ">Engagement de Camille Martin</h1>" in page
    assert "Temps de décharge validé : 1,5 h" in page and "Carnet des bâtiments" in page
    assert "cette consultation est inscrite au journal d'audit" in page
    # The agent's own page shows the same facts, and tells them their N+1 may read it.
    agent = make_client()
    login(agent, team["agent"])
    own = text(agent.get("/mon-engagement?annee=2026"))
    assert "Temps de décharge validé : 1,5 h" in own and "permet à votre N+1 de lire ce relevé" in own
    client.get(record_url(team["agent"]))
    assert reads() == [(team["manager"].id, team["agent"].id, {"from": "2026-01-01", "to": "2026-12-31"})] * 2
    journal = make_client()
    login(journal, team["admin"])
    assert "Relevé d'engagement consulté par le N+1" in text(journal.get("/admin/journal"))


def test_off_again_closes_the_door(team, client, login, make_client):
    switch(make_client, login, team["admin"], on=True)
    login(client, team["manager"])
    assert client.get(record_url(team["agent"])).status_code == 200
    switch(make_client, login, team["admin"], on=False)
    assert client.get(record_url(team["agent"])).status_code == 403
    assert "permet à votre N+1" not in text(client.get("/mon-engagement"))
    assert len(reads()) == 1


@pytest.mark.parametrize("reader, reason", [
    ("colleague", NOT_THE_MANAGER),  # not a manager at all
    ("other_manager", NOT_THE_MANAGER),  # the N+1 of someone else
    ("director", NOT_THE_MANAGER),  # the N+2: direct reports only
    ("agent", NOT_THE_MANAGER),  # oneself: /mon-engagement is the way
    ("admin", NOT_THE_MANAGER),
])
def test_on_nobody_but_the_direct_n_plus_1_reads_it(reader, reason, team, client, login, make_client):
    switch(make_client, login, team["admin"], on=True)
    login(client, team[reader])
    response = client.get(record_url(team["agent"]))
    assert response.status_code == 403 and reason in text(response)
    assert reads() == []


def test_the_list_needs_direct_reports(team, client, login, make_client):
    switch(make_client, login, team["admin"], on=True)
    login(client, team["colleague"])
    response = client.get("/mes-agents")
    assert response.status_code == 403 and NO_REPORTS in text(response)
    assert "/mes-agents" not in text(client.get("/"))


def test_another_institution_is_out_of_reach(team, client, login, make_client):
    switch(make_client, login, team["admin"], on=True)
    elsewhere = make_institution("Autre ville", slug="autre-ville", managers_see_engagement=True)
    boss = make_user(org_unit=make_org_unit(elsewhere))
    # Even an N+1 recorded across institutions (no form allows it) reads nothing here.
    team["agent"].manager = boss
    db.session.commit()
    login(client, boss)
    assert client.get(record_url(team["agent"])).status_code == 404
    assert reads() == []
