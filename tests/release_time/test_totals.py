"""The dashboard's agent-month totals (release_time.totals) stay equal to the sum recomputed
from the entries, whatever the approvals, refusals, refused attempts and corrections made
through the pages."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from incubator.extensions import db
from incubator.release_time import totals
from incubator.release_time.models import TimeEntry
from tests.helpers import approved_months_from_entries, stored_approved_months
from tests.release_time.conftest import manager_agent_project

MONDAY = date(2026, 11, 30)  # Monday 30 November, then December: a week over two months


@pytest.fixture
def people():
    return manager_agent_project(hours_budget=100)


def ids(agent, **where):
    rows = db.session.scalars(select(TimeEntry).where(TimeEntry.user_id == agent.id).order_by(TimeEntry.id)).all()
    return [str(e.id) for e in rows if all(getattr(e, k) == v for k, v in where.items())]


def test_totals_follow_approvals_refusals_and_corrections(client, make_client, login, people):
    manager, agent, project = people
    days = [MONDAY + timedelta(days=d) for d in range(3)]  # 30 Nov, 1 and 2 Dec
    cell = {day: f"h-{project.id}-{day:%Y%m%d}" for day in days}
    login(client, agent)
    week = f"/mon-temps?semaine={MONDAY}"
    assert client.post(week, data={cell[days[0]]: "2", cell[days[1]]: "1", cell[days[2]]: "1,5",
                                   "action": "submit"}).status_code == 303
    boss = make_client()
    login(boss, manager)
    first, second, third = ids(agent)

    # Refused attempts change nothing: the agent approving their own hours, an empty refusal.
    assert client.post("/validations", data={"entry": first, "action": "approve"}).status_code == 403
    assert boss.post("/validations", data={"entry": second, "action": "refuse", "reason": ""}).status_code == 422
    assert stored_approved_months() == approved_months_from_entries() == {}

    assert boss.post("/validations", data={"entry": [first, third], "action": "approve"}).status_code == 303
    assert boss.post("/validations", data={"entry": second, "action": "refuse",
                                           "reason": "Jour de formation."}).status_code == 303
    institution = agent.institution_id
    assert stored_approved_months() == approved_months_from_entries() == {(institution, agent.id, "2026-11"): 120,
                                        (institution, agent.id, "2026-12"): 90}

    # Corrections: the approved 30 November replaced by a new value, the refused day fixed.
    assert client.post(week, data={cell[days[0]]: "0,5", cell[days[1]]: "0,75", cell[days[2]]: "1,5",
                                   "action": "submit"}).status_code == 303
    assert stored_approved_months() == approved_months_from_entries()  # a correction awaiting approval: the approved value counts
    waiting = ids(agent, status="submitted")
    assert len(waiting) == 2
    assert boss.post("/validations", data={"entry": waiting, "action": "approve"}).status_code == 303
    assert stored_approved_months() == approved_months_from_entries() == {(institution, agent.id, "2026-11"): 30,
                                        (institution, agent.id, "2026-12"): 135}

    # A correction of the correction, approved: still one value per day.
    assert client.post(week, data={cell[days[0]]: "3", cell[days[1]]: "0,75", cell[days[2]]: "1,5",
                                   "action": "submit"}).status_code == 303
    assert boss.post("/validations", data={"entry": ids(agent, status="submitted"),
                                           "action": "approve"}).status_code == 303
    assert stored_approved_months() == approved_months_from_entries() == {(institution, agent.id, "2026-11"): 180,
                                        (institution, agent.id, "2026-12"): 135}


def test_rebuild_gives_what_the_approvals_kept(client, make_client, login, people):
    manager, agent, project = people
    login(client, agent)
    assert client.post(f"/mon-temps?semaine={MONDAY}", data={f"h-{project.id}-20261130": "2",
                                                            "action": "submit"}).status_code == 303
    boss = make_client()
    login(boss, manager)
    assert boss.post("/validations", data={"entry": ids(agent), "action": "approve"}).status_code == 303
    kept = stored_approved_months()
    totals.rebuild()
    assert stored_approved_months() == kept == approved_months_from_entries()
