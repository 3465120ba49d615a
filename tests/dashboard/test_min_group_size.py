"""No dashboard figure singles a person out: a figure about fewer than MIN_GROUP_SIZE
people is shown as « moins de 5 » in the charts, their tables and the CSV (DESIGN §4.4)."""

import csv
import io
from datetime import date, datetime

import pytest

from incubator.extensions import db
from tests.factories import (
    make_decision,
    make_org_unit,
    make_project,
    make_proposal,
    make_theme,
    make_time_entry,
    make_user,
)
from tests.helpers import text

DAY = date(2026, 3, 2)  # a one-day period, fixed: nothing here depends on today
ONE_DAY = f"du={DAY.isoformat()}&au={DAY.isoformat()}"


@pytest.fixture
def viewer():
    return make_user(roles=["coordinator"], first_name="Nadia")


def agents_with_hours(viewer, direction_name: str, count: int, minutes: int) -> list:
    direction = make_org_unit(viewer.institution, kind="direction", name=direction_name)
    service = make_org_unit(viewer.institution, parent=direction)
    project = make_project(viewer.institution, title=f"Projet {direction_name}")
    agents = [make_user(org_unit=service) for _ in range(count)]
    for agent in agents:
        make_time_entry(agent, project, day=DAY, minutes=minutes, status="approved")
    return agents


def chart_csv(client, chart: str, period: str = ONE_DAY) -> list[list[str]]:
    response = client.get(f"/tableau-de-bord?{period}&format=csv&graphique={chart}")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))[1:]


def chart_section(page: str, chart: str) -> str:
    """The chart's card: its SVG, its data table and its note."""
    return page.split(f'aria-labelledby="titre-{chart}"')[1].split("</section>")[0]


def test_one_persons_hours_on_a_one_day_period_are_not_shown(viewer, client, login):
    agents_with_hours(viewer, "Direction solo", 1, 90)
    login(client, viewer)
    page = text(client.get(f"/tableau-de-bord?{ONE_DAY}"))
    for chart in ("heures-directions", "heures-mois"):
        section = chart_section(page, chart)
        svg, table = section.split("</svg>")
        assert "moins de 5" in svg and "moins de 5" in table  # the chart and its data table
        assert "1,5" not in section and "90" not in section
        assert "chiffre portant sur moins de 5 agents" in section
    assert chart_csv(client, "heures-directions") == [["Direction solo", "moins de 5"]]
    assert chart_csv(client, "heures-mois") == [["mars 2026", "moins de 5"]]


def test_five_people_show_their_figure_and_a_hidden_row_cannot_be_subtracted_back(viewer, client, login):
    agents_with_hours(viewer, "Direction A", 5, 60)
    agents_with_hours(viewer, "Direction B", 5, 30)
    agents_with_hours(viewer, "Direction C", 1, 360)
    login(client, viewer)
    # C is about one agent; B is hidden with it, or the month's total minus A and B would
    # give C back. Hidden rows come last, by name, so their rank tells nothing.
    assert chart_csv(client, "heures-directions") == [
        ["Direction A", "5"], ["Direction B", "masqué"], ["Direction C", "moins de 5"]]
    assert chart_csv(client, "heures-mois") == [["mars 2026", "13,5"]]  # eleven agents
    section = chart_section(text(client.get(f"/tableau-de-bord?{ONE_DAY}")), "heures-directions")
    assert "5 h" in section and "6 h" not in section and "2,5" not in section and "« masqué »" in section


def test_proposal_and_participation_figures_count_their_authors(viewer, client, login):
    theme = make_theme(viewer.institution, "Mobilité")
    direction = make_org_unit(viewer.institution, kind="direction", name="Direction des sports")
    lone = make_user(org_unit=direction, category="A")
    many = [make_user(org_unit=direction, category="C") for _ in range(5)]
    for author in (lone, *many):
        proposal = make_proposal(author=author, state="accepted", theme_id=theme.id if author is not lone else None)
        proposal.submitted_at = datetime(2026, 3, 2, 9)
    db.session.flush()
    login(client, viewer)
    funnel = dict(chart_csv(client, "entonnoir"))
    assert funnel["Déposées"] == "6" and funnel["Retenues"] == "6"
    # Six submitted, five on « Mobilité »: shown, it would give the lone author's count back.
    assert chart_csv(client, "themes") == [["Mobilité", "masqué"], ["Sans thème", "moins de 5"]]
    assert chart_csv(client, "directions") == [["Direction des sports", "6"]]
    participation = dict(chart_csv(client, "participation"))
    assert participation["Auteurs — cat. C"] == "5" and participation["Auteurs — cat. A"] == "moins de 5"
    assert participation["Auteurs — cat. B"] == "0"  # about no one: nobody singled out


def test_answer_share_and_delays_of_one_author_are_not_shown(viewer, client, login):
    author = make_user(institution=viewer.institution)
    proposal = make_proposal(author=author, state="not_eligible")
    proposal.submitted_at = datetime(2026, 3, 2, 9)
    make_decision(proposal, outcome="not_eligible", rationale="Hors champ.", decided_by=viewer,
                  published_at=datetime(2026, 3, 2, 15))
    login(client, viewer)
    page = text(client.get(f"/tableau-de-bord?{ONE_DAY}"))
    cards = page.split('<div class="grid">')[1].split("</div>")[0]
    assert cards.count("moins de 5") == 3 and "100 %" not in cards


@pytest.mark.parametrize("size,shown", [(1, "1,5"), (2, "moins de 2"), (3, "moins de 3")])
def test_the_minimum_is_a_setting(size, shown, viewer, client, login, server, monkeypatch):
    monkeypatch.setitem(server.config, "MIN_GROUP_SIZE", size)
    agents_with_hours(viewer, "Direction solo", 1, 90)
    login(client, viewer)
    assert chart_csv(client, "heures-directions") == [["Direction solo", shown]]
    assert shown in chart_section(text(client.get(f"/tableau-de-bord?{ONE_DAY}")), "heures-directions")


def test_default_minimum_is_five(app):
    assert app.config["MIN_GROUP_SIZE"] == 5
