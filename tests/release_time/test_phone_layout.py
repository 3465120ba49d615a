"""The week grid and the approval queue as a phone needs them (issue 19, item 5): one block
per day with the same field names, the day's error inside its block, and approval lines that
say whose hours, which project, which day and how many, with nothing ticked in advance."""

import re
from datetime import date

import pytest

from incubator.extensions import db
from tests.factories import make_project, make_time_entry, make_user
from tests.helpers import text

MONDAY = date(2026, 11, 16)


@pytest.fixture
def setup():
    manager = make_user(first_name="Karim")
    agent = make_user(org_unit=manager.org_unit, manager=manager, first_name="Camille", last_name="Martin",
                      quotite=50)
    project = make_project(title="Carnet des bâtiments", starts_on=date(2026, 9, 1), ends_on=date(2027, 6, 30),
                           members=(agent,), member_role="Membre", hours_budget=10)
    db.session.commit()
    return manager, agent, project


def day_block(page: str, day: str) -> str:
    found = re.search(rf'<fieldset class="week-day[^"]*" id="day-{day}">(.*?)</fieldset>', page, re.S)
    assert found, f"no block for {day}"
    return found.group(1)


def test_one_block_per_day_with_the_same_field_names(client, login, setup):
    _manager, agent, project = setup
    login(client, agent)
    page = text(client.get(f"/mon-temps?semaine={MONDAY}"))
    assert "<table" not in page.split('id="week-grid"')[1].split("Mes budgets")[0]
    legends = re.findall(r'<fieldset class="week-day[^"]*" id="day-\d+">\s*<legend>([^<]+)</legend>', page)
    assert legends == ["Lundi 16 novembre", "Mardi 17 novembre", "Mercredi 18 novembre", "Jeudi 19 novembre",
                       "Vendredi 20 novembre"]
    monday = day_block(page, "20261116")
    assert f'<label class="week-project" for="h-{project.id}-20261116">Carnet des bâtiments</label>' in monday
    assert f'name="h-{project.id}-20261116"' in monday
    # The same POST as before saves two days.
    data = {f"h-{project.id}-20261116": "1,5", f"h-{project.id}-20261118": "2", "action": "save"}
    assert client.post(f"/mon-temps?semaine={MONDAY}", data=data).status_code == 303
    page = text(client.get(f"/mon-temps?semaine={MONDAY}"))
    assert 'value="1,5"' in day_block(page, "20261116") and 'value="2"' in day_block(page, "20261118")
    assert "Total du jour : 2 h 00" in day_block(page, "20261118")


def test_a_day_over_the_working_day_says_so_inside_its_block(client, login, setup):
    _manager, agent, project = setup
    login(client, agent)
    key = f"h-{project.id}-20261117"
    response = client.post(f"/mon-temps?semaine={MONDAY}", data={key: "6", "action": "save"})
    assert response.status_code == 422
    page = text(response)
    tuesday = day_block(page, "20261117")
    assert '<ul class="field-errors" id="day-20261117-errors">' in tuesday
    assert "dépasse votre journée de travail" in tuesday
    assert re.search(rf'id="{key}"[^>]*aria-invalid="true"[^>]*aria-describedby="day-20261117-errors"', tuesday)
    assert 'value="6"' in tuesday
    assert "dépasse" not in day_block(page, "20261116")


def test_approval_lines_show_agent_project_day_hours_and_nothing_is_ticked(client, login, setup):
    manager, agent, project = setup
    make_time_entry(agent, project, day=MONDAY, minutes=90, status="submitted")
    make_time_entry(agent, project, day=date(2026, 11, 18), minutes=120, status="submitted")
    db.session.commit()
    login(client, manager)
    page = text(client.get("/validations"))
    rows = re.findall(r"<tr><td class=\"approval-choice\">(.*?)</tr>", page, re.S)
    assert len(rows) == 2
    for row, (day, hours) in zip(rows, [("16 novembre 2026", "1,5"), ("18 novembre 2026", "2")], strict=True):
        assert '<td data-label="Agent">Camille Martin</td>' in row
        assert f'<td data-label="Jour">{day}</td>' in row
        assert '<td data-label="Projet">Carnet des bâtiments' in row
        assert f'<td class="numeric" data-label="Heures">{hours} h</td>' in row
    assert not re.search(r'<input type="checkbox"[^>]*\bchecked\b', page)
    # Nothing ticked and sent: nothing decided, the message says why.
    response = client.post("/validations", data={"action": "approve"})
    assert response.status_code == 422 and "Cochez au moins une ligne." in text(response)
