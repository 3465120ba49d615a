import csv
import io
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta

import pytest

from incubator.dashboard import queries
from incubator.engagement.queries import Period
from tests.factories import (
    make_decision,
    make_org_unit,
    make_project,
    make_proposal,
    make_session,
    make_theme,
    make_time_entry,
    make_user,
)
from tests.helpers import text

YEAR = Period.year(2026)


def submitted(proposal, when):
    proposal.submitted_at = when
    return proposal


@pytest.fixture
def every_figure(app, server, monkeypatch):
    """The hand-built dataset has one author: show the figures about fewer than five
    people, to check the arithmetic (tests/dashboard/test_min_group_size.py checks hiding)."""
    for flask_app in (app, server):
        monkeypatch.setitem(flask_app.config, "MIN_GROUP_SIZE", 1)


@pytest.fixture
def data():
    coordinator = make_user(roles=["coordinator"], category="A")
    direction = make_org_unit(coordinator.institution, kind="direction", name="Direction technique")
    service = make_org_unit(coordinator.institution, parent=direction, name="Bâtiments")
    author = make_user(org_unit=service, category="C")
    theme = make_theme(coordinator.institution, "Écologie")
    jan = datetime(2026, 1, 10, 9)
    accepted = submitted(make_proposal(author=author, state="accepted", theme_id=theme.id), jan)
    ineligible = submitted(make_proposal(author=author, state="not_eligible"), jan)
    submitted(make_proposal(author=author, state="withdrawn"), jan)
    waiting = submitted(make_proposal(author=author, state="in_review"), jan)
    submitted(make_proposal(author=author, state="accepted"), datetime(2025, 12, 31, 22, 59))  # 2025 in Paris? 23:59
    submitted(make_proposal(author=author, state="submitted"), datetime(2027, 1, 1, 9))  # after
    for proposal, days in ((accepted, 20), (ineligible, 10)):  # a session decision, an eligibility one
        make_decision(proposal, outcome=proposal.state, rationale="Motivation.", decided_by=coordinator,
                      published_at=proposal.submitted_at + timedelta(days=days))
    # An "eligible" decision is not an answer.
    make_decision(waiting, outcome="eligible", rationale="Recevable.", decided_by=coordinator,
                  published_at=jan + timedelta(days=2))
    project = make_project(coordinator.institution, title="P", proposal=accepted, starts_on=date(2026, 1, 1),
                           ends_on=date(2026, 12, 31))
    make_project(coordinator.institution, state="completed", title="Q", state_changed_at=datetime(2026, 6, 1))
    for day, minutes, status in ((date(2026, 3, 2), 120, "approved"), (date(2026, 3, 3), 60, "submitted"),
                                 (date(2026, 4, 1), 30, "approved"), (date(2025, 12, 31), 600, "approved")):
        make_time_entry(author, project, day=day, minutes=minutes, status=status)
    make_session(coordinator.institution, created_by=coordinator, starts_at=datetime(2026, 2, 5, 13), place="Salle")
    return coordinator


def test_figures_against_a_hand_built_dataset(data, every_figure):
    d = queries.build(data.institution_id, YEAR, coordinator=True)
    assert dict(d.funnel.rows) == {"Déposées": 4, "Ayant reçu leur réponse": 2, "Retenues": 1,
                                   "Projets en cours": 1, "Projets terminés": 1}
    assert d.answered_share == pytest.approx(100 * 2 / 3)  # withdrawn left out of the base
    assert (d.median_days, d.p90_days) == (pytest.approx(10, abs=0.01), pytest.approx(20, abs=0.01))
    assert dict(d.by_theme.rows) == {"Écologie": 1, "Sans thème": 3}
    assert dict(d.by_direction.rows) == {"Direction technique": 4}
    assert dict(d.participation.rows)["Auteurs — cat. C"] == 1
    assert dict(d.hours_by_direction.rows) == {"Direction technique": 2.5}
    assert dict(d.hours_by_month.rows) == {"mars 2026": 2.0, "avril 2026": 0.5}
    assert dict(d.sessions_by_month.rows) == {"février 2026": 1}
    assert sum(v for _l, v in d.backlog.rows) == 2  # now, whatever the period: in review, and submitted


def test_page_svg_is_well_formed_labelled_and_fixed_in_queries(data, every_figure, client, login, count_queries):
    login(client, data)
    response = client.get("/tableau-de-bord?annee=2026")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Séances tenues par mois" in page
    svgs = page.split("<svg")[1:]
    assert len(svgs) == 9
    for chunk in svgs:
        svg = ET.fromstring("<svg" + chunk.split("</svg>")[0] + "</svg>")
        ns = "{http://www.w3.org/2000/svg}"
        assert svg.get("role") == "img" and svg.find(f"{ns}title").text and svg.find(f"{ns}desc").text
    rows = list(csv.reader(io.StringIO(client.get("/tableau-de-bord?annee=2026&format=csv&graphique=entonnoir")
                                       .get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == ["libellé", "valeur"] and rows[1] == ["Déposées", "4"]
    assert client.get("/tableau-de-bord?format=csv&graphique=inconnu").status_code == 404
    with count_queries() as small:
        client.get("/tableau-de-bord?annee=2026")
    for _ in range(30):
        make_proposal(author=data, state="submitted")
    with count_queries() as large:
        client.get("/tableau-de-bord?annee=2026")
    assert small.count == large.count


def test_agents_see_no_coordinator_charts(data, client, login):
    login(client, make_user(org_unit=data.org_unit))
    page = text(client.get("/tableau-de-bord"))
    assert "Du dépôt au projet" in page and "Séances tenues par mois" not in page


def test_a_paused_then_resumed_project_counts_as_running_not_completed(data):
    from incubator.projects import services as project_services

    project = make_project(data.institution, title="Reprise", lead=data, members=(data,))
    before = dict(queries.build(data.institution_id, YEAR, coordinator=False).funnel.rows)
    project_services.hold(data, project, reason="Budget en attente.")
    paused = dict(queries.build(data.institution_id, YEAR, coordinator=False).funnel.rows)
    project_services.resume(data, project, reason="Budget voté.")
    resumed = dict(queries.build(data.institution_id, YEAR, coordinator=False).funnel.rows)
    assert paused["Projets en cours"] == before["Projets en cours"] - 1
    assert resumed["Projets en cours"] == before["Projets en cours"]
    assert resumed["Projets terminés"] == before["Projets terminés"]


def test_figures_are_cached_for_a_while_then_recomputed(data, every_figure, client, login, server, monkeypatch):
    monkeypatch.setitem(server.config, "DASHBOARD_CACHE_SECONDS", 300)
    monkeypatch.setattr(queries, "_CACHE", {})
    clock = [1000.0]
    monkeypatch.setattr(queries.time, "monotonic", lambda: clock[0])
    login(client, data)
    page = text(client.get("/tableau-de-bord?annee=2026"))
    assert "Chiffres calculés le" in page and "toutes les 5 minutes" in page
    assert _submitted(client) == 4
    submitted(make_proposal(author=make_user(institution=data.institution), state="submitted"),
              datetime(2026, 5, 5, 9))
    assert _submitted(client) == 4  # still the figures computed a minute ago
    clock[0] += 301
    assert _submitted(client) == 5
    # Another period is another entry, computed at once.
    assert client.get("/tableau-de-bord?annee=2025").status_code == 200
    assert len(queries._CACHE) == 2


def _submitted(client) -> int:
    body = client.get("/tableau-de-bord?annee=2026&format=csv&graphique=entonnoir").get_data(as_text=True)
    rows = dict(row for row in csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    return int(rows["Déposées"])
