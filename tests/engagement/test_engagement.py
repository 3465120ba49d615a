import csv
import io
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from incubator.audit.models import AuditEvent
from incubator.audit.services import action_label
from incubator.engagement.queries import Period, figures_for
from incubator.extensions import db
from incubator.people.models import User
from incubator.people.services import anonymise_departed
from incubator.timeutil import utcnow
from tests.factories import (
    make_application,
    make_assessment,
    make_attendance,
    make_collective_membership,
    make_org_unit,
    make_project,
    make_project_member,
    make_proposal,
    make_session,
    make_time_entry,
    make_user,
)
from tests.helpers import text

YEAR = Period.year(2026)


def entry(user, project, day, minutes, status="approved", corrects=None):
    return make_time_entry(user, project, day=day, minutes=minutes, status=status,
                           corrects_id=corrects.id if corrects else None)


@pytest.fixture
def dataset():
    """A hand-built year: every figure is known in advance."""
    hr = make_user(roles=["hr"], last_name="Rh")
    direction = make_org_unit(hr.institution, kind="direction", name="Direction technique")
    service = make_org_unit(hr.institution, parent=direction, name="Bâtiments")
    other_service = make_org_unit(hr.institution, name="Accueil")
    agent = make_user(org_unit=service, last_name="Martin", first_name="Camille", quotite=80, category="C")
    colleague = make_user(org_unit=other_service, last_name="Benali", category="B")
    project = make_project(hr.institution, title="Carnet des bâtiments", lead=agent, sponsor=colleague,
                           starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31))
    make_project_member(project, agent, hours_budget=100)
    make_project_member(project, colleague, hours_budget=50)
    entry(agent, project, date(2025, 12, 31), 600)  # before the period: excluded
    entry(agent, project, date(2026, 1, 2), 120)  # counted
    first = entry(agent, project, date(2026, 3, 2), 180)  # corrected below: counted once, as 90
    entry(agent, project, date(2026, 3, 2), 90, corrects=first)
    entry(agent, project, date(2026, 3, 3), 60, status="refused")  # excluded
    entry(agent, project, date(2026, 3, 4), 45, status="submitted")  # pending: excluded
    entry(agent, project, date(2026, 12, 31), 30)  # last day: counted
    entry(agent, project, date(2027, 1, 1), 300)  # after: excluded
    entry(colleague, project, date(2026, 6, 1), 240)
    # Proposals: one accepted (authored), one rejected co-authored, one draft (never counted).
    # Submitted in the period, whatever the day the suite runs.
    in_2026 = datetime(2026, 6, 15, 10)
    make_proposal(author=agent, state="accepted").submitted_at = in_2026
    make_proposal(author=colleague, state="rejected", coauthors=(agent,)).submitted_at = in_2026
    make_proposal(author=agent, state="draft")
    # Immersion made in 2026; collective term from 2026-10-15 (3 months in the year); a session; an assessment.
    offer = make_proposal(author=colleague, kind="mobility", state="accepted")
    offer.submitted_at = in_2026
    make_application(offer, agent, motivation="x", starts_on=date(2026, 5, 4), ends_on=date(2026, 5, 6),
                     working_days=3, status="selected")
    make_collective_membership(agent, starts_on=date(2026, 10, 15))
    session = make_session(hr.institution, created_by=hr, starts_at=datetime(2026, 11, 5, 13), place="Salle")
    make_attendance(session, agent)
    make_assessment(offer, agent, created_at=datetime(2026, 11, 1, 9))
    # The agent changed service after all this: figures follow the person, not the unit.
    agent.org_unit = other_service
    return {"hr": hr, "agent": agent, "colleague": colleague, "project": project, "direction": direction,
            "service": service, "other_service": other_service}


def test_figures_against_the_hand_built_dataset(dataset):
    agent, colleague = dataset["agent"], dataset["colleague"]
    f = figures_for([agent.id, colleague.id], YEAR)
    a = f[agent.id]
    assert a.hours_total == 4.0  # 2 + 1.5 (corrected) + 0.5
    assert a.hours_by_project == [(dataset["project"].id, "Carnet des bâtiments", 4.0)]
    assert a.roles == {"sponsor": 0, "lead": 1, "member": 1}
    assert a.proposals_total == 2 and a.proposals["accepted"] == 1 and a.proposals["rejected"] == 1
    assert (a.immersions_made, a.collective_months, a.sessions_attended, a.assessments) == (1, 3, 1, 1)
    c = f[colleague.id]
    assert c.hours_total == 4.0 and c.roles["sponsor"] == 1
    # Another period: only the December entry... and the 2025 one for 2025.
    assert figures_for([agent.id], Period(date(2026, 12, 1), date(2026, 12, 31)))[agent.id].hours_total == 0.5
    assert figures_for([agent.id], Period.year(2025))[agent.id].hours_total == 10.0



def test_proposals_counted_once_per_agent_within_the_period_edges():
    """The period is applied in each branch of the authorship union (queries._proposals_statement):
    its first instant counts, its end (the next day at midnight, Paris) does not, and an
    author also listed as an accepted co-author counts the proposal once."""
    agent, colleague = make_user(), make_user()
    first, end = YEAR.start_at, YEAR.end_at
    make_proposal(author=agent, state="accepted", coauthors=(agent,)).submitted_at = first
    make_proposal(author=agent, state="rejected").submitted_at = end - timedelta(seconds=1)
    make_proposal(author=agent, state="accepted").submitted_at = end  # the next year's
    make_proposal(author=agent, state="accepted").submitted_at = first - timedelta(seconds=1)
    make_proposal(author=colleague, state="withdrawn", coauthors=(agent,)).submitted_at = first
    make_proposal(author=colleague, state="accepted", coauthors=(agent,)).submitted_at = end
    make_proposal(author=colleague, state="submitted", invited=(agent,)).submitted_at = first  # not accepted
    db.session.flush()
    f = figures_for([agent.id, colleague.id], YEAR)
    assert f[agent.id].proposals == {"accepted": 1, "rejected": 1, "changes_requested": 0, "not_eligible": 0,
                                     "withdrawn": 1, "pending": 0}
    assert f[colleague.id].proposals_total == 2 and f[colleague.id].proposals["pending"] == 1


def test_sessions_attended_within_the_period_edges():
    """Each attendance's session read by its key (queries._counts_statement): a session at the
    period's first instant counts, one at its end does not, nor a session not attended."""
    hr = make_user(roles=["hr"])
    agent, other = make_user(institution=hr.institution), make_user(institution=hr.institution)
    for at in (YEAR.start_at, YEAR.end_at - timedelta(minutes=1), YEAR.end_at, YEAR.start_at - timedelta(minutes=1)):
        make_attendance(make_session(hr.institution, created_by=hr, starts_at=at, place="Salle"), agent)
    make_attendance(make_session(hr.institution, created_by=hr, starts_at=datetime(2026, 6, 1, 9), place="Salle"), other)
    f = figures_for([agent.id, other.id], YEAR)
    assert (f[agent.id].sessions_attended, f[other.id].sessions_attended) == (2, 1)

def test_hr_page_filters_and_fixed_query_count(dataset, client, login, count_queries):
    login(client, dataset["hr"])
    page = text(client.get("/rh/engagement?annee=2026"))
    assert "Martin Camille" in page and "Benali" in page
    # Filter by direction includes its sub-units (by the agent's current unit).
    page = text(client.get(f"/rh/engagement?annee=2026&service={dataset['other_service'].id}"))
    assert "Martin Camille" in page
    # The chosen unit stays selected in the filter, and only that one.
    unit = dataset["other_service"]
    assert f'<option value="{unit.id}" selected>' in page and page.count(" selected>") == 2  # unit, sort
    page = text(client.get("/rh/engagement?annee=2026&categorie=B"))
    assert "Benali" in page and "Martin Camille" not in page
    page = text(client.get("/rh/engagement?annee=2026&heures_min=5"))
    assert "Martin Camille" not in page
    # Combined, each filter's value reaches its own parameter (the select of a combination
    # is built once and serves every request). Both agents have 4 approved hours.
    for query, expected in [
        ("heures_min=3&categorie=C", {"Martin Camille"}),
        ("heures_min=5&categorie=C", set()),
        (f"q=benali&heures_min=3&service={dataset['other_service'].id}", {"Benali"}),
        ("q=martin&categorie=B", set()),
        ("q=martin&heures_min=3&tri=service", {"Martin Camille"}),
        ("categorie=B&tri=service", {"Benali"}),
    ]:
        page = text(client.get(f"/rh/engagement?annee=2026&{query}"))
        assert {name for name in ("Martin Camille", "Benali") if name in page} == expected, query
    rows = list(csv.reader(io.StringIO(client.get("/rh/engagement?annee=2026&format=csv&q=benali&heures_min=3&categorie=B")
                                       .get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert [row[rows[1].index("nom")] for row in rows[2:]] == ["Benali"]
    with count_queries() as few:
        client.get("/rh/engagement?annee=2026")
    for n in range(40):
        make_user(org_unit=dataset["service"], last_name=f"Zz{n:02d}")
    with count_queries() as many:
        client.get("/rh/engagement?annee=2026")
    assert few.count == many.count


@pytest.mark.parametrize("role", ["agent", "manager", "coordinator", "admin"])
def test_only_hr_reads_other_agents_records(role, dataset, client, login):
    user = make_user(org_unit=dataset["service"], roles=[] if role in ("agent", "manager") else [role])
    if role == "manager":
        dataset["agent"].manager = user
    login(client, user)
    assert client.get("/rh/engagement").status_code == 403
    assert client.get(f"/rh/engagement/{dataset['agent'].id}").status_code == 403
    assert client.get("/rh/engagement?format=csv").status_code == 403


def test_exports_and_audit(dataset, client, login):
    login(client, dataset["hr"])
    response = client.get("/rh/engagement?annee=2026&format=csv&categorie=C")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    header, row = rows[1], rows[2]  # the first line says the period
    assert len(rows) == 3 and row[header.index("nom")] == "Martin"
    assert row[header.index("heures validées")] == "4"
    assert row[header.index("mois au collectif")] == "3"
    response = client.get("/rh/engagement?annee=2026&format=xlsx")
    workbook = load_workbook(io.BytesIO(response.data), read_only=True)
    values = [list(r) for r in workbook.active.iter_rows(values_only=True)]
    assert values[1][:4] == ["matricule", "nom", "prénom", "adresse"]
    martin = next(r for r in values[2:] if r[1] == "Martin")
    assert martin[values[1].index("heures validées")] == 4.0
    client.get(f"/rh/engagement/{dataset['agent'].id}?annee=2026")
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("engagement.%"))
                                .order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["engagement.exported", "engagement.exported", "engagement.viewed"]
    assert events[0].data["category"] == "C" and events[0].data["format"] == "csv"
    assert events[2].target_id == dataset["agent"].id


def test_agent_sees_own_record_only(dataset, client, login):
    login(client, dataset["agent"])
    page = text(client.get("/mon-engagement?annee=2026"))
    assert "Temps de décharge validé : 4 h" in page and "1 retenue" in page and "3 mois de mandat" in page
    assert "Benali" not in page.split("<article")[1]
    assert client.get("/mon-engagement?du=x&au=y").status_code == 200


def test_anonymisation_keeps_totals(dataset, app):
    agent = dataset["agent"]
    before = figures_for([agent.id], YEAR)[agent.id]
    agent.is_active = False
    agent.deactivated_at = utcnow() - timedelta(days=6 * 365)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["retention", "apply"])
    assert result.exit_code == 0 and "1 agent(s) anonymisé(s)" in result.output
    db.session.expire_all()
    user = db.session.get(User, agent.id)
    assert user.last_name.startswith("anonymisé") and user.email.endswith("@anonymise.invalid")
    assert user.password_hash is None
    after = figures_for([agent.id], YEAR)[agent.id]
    assert (after.hours_total, after.proposals_total, after.roles) == (before.hours_total, before.proposals_total, before.roles)
    # Recent departures and active agents are left alone; running twice changes nothing.
    assert "0 agent(s)" in app.test_cli_runner().invoke(args=["retention", "apply"]).output
    assert anonymise_departed(utcnow()) == 0


def test_every_hr_read_of_the_list_is_logged_with_its_filters_and_page(dataset, client, login):
    login(client, dataset["hr"])
    unit = dataset["other_service"]
    assert client.get(f"/rh/engagement?annee=2026&categorie=C&service={unit.id}&heures_min=2").status_code == 200
    assert client.get("/rh/engagement?du=2026-03-01&au=2026-03-31&tri=service&page=2",
                      headers={"HX-Request": "true"}).status_code == 200
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "engagement.listed")
                                .order_by(AuditEvent.id)).all()
    assert [(e.actor_id, e.institution_id) for e in events] == [(dataset["hr"].id, dataset["hr"].institution_id)] * 2
    assert events[0].data == {"from": "2026-01-01", "to": "2026-12-31", "q": "", "service": unit.id,
                              "category": "C", "min_hours": 2.0, "sort": "name", "page": 1}
    assert events[1].data == {"from": "2026-03-01", "to": "2026-03-31", "q": "", "service": None, "category": "",
                              "min_hours": 0.0, "sort": "unit", "page": 2}
    assert action_label("engagement.listed") == "Liste des relevés d'engagement consultée (RH)"
