"""Nobody decides on their own time: not as their own N+1, not through their N+1's
delegation, not with an admin role. A report holding the delegation decides for the other
reports; their own lines stay in the delegating N+1's queue.

Time is pinned: the release-time modules read `today_paris()` as Wednesday 18 November
2026, inside the delegation, whatever day the tests run."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from incubator.audit.models import AuditEvent
from incubator.errors import NotAllowed
from incubator.extensions import db
from incubator.notifications.models import Notification
from incubator.people import hierarchy
from incubator.release_time import queries, services
from incubator.release_time.models import CapOverride, TimeEntry
from tests.factories import make_project, make_project_member, make_role, make_user
from tests.helpers import text

MONDAY = date(2026, 11, 16)  # a full working week (no public holiday)
TODAY = date(2026, 11, 18)  # the Wednesday of that week
OWN_LINES = "Personne ne valide ses propres heures"


@pytest.fixture(autouse=True)
def pinned_today():
    """The clock stands still at noon in Paris on TODAY, for every module that reads it."""
    with time_machine.travel(datetime.combine(TODAY, time(12), tzinfo=ZoneInfo("Europe/Paris")), tick=False):
        yield


def project_with(*members):
    return make_project(title="Carnet des bâtiments", starts_on=date(2026, 9, 1), ends_on=date(2027, 6, 30),
                        members=members, member_role="Membre", hours_budget=10)


def submit(agent, project, hours="2"):
    services.save_week(agent, MONDAY, values={(project.id, MONDAY): hours})
    services.submit_week(agent, MONDAY)
    return db.session.scalar(select(TimeEntry.id).where(TimeEntry.user_id == agent.id))


@pytest.fixture
def team():
    """Karim, N+1 of Camille and Inès, has handed his approvals to Inès for two weeks;
    then both reports submitted two hours on Monday 16 November."""
    karim = make_user(first_name="Karim", last_name="Benali")
    camille = make_user(org_unit=karim.org_unit, manager=karim, first_name="Camille", last_name="Roux")
    ines = make_user(org_unit=karim.org_unit, manager=karim, first_name="Inès", last_name="Morel",
                     email="ines@ville.fr")
    hierarchy.delegate(karim, delegate_email="ines@ville.fr", starts_on=date(2026, 11, 16), ends_on=date(2026, 11, 27))
    project = project_with(camille, ines)
    ids = {"camille": submit(camille, project), "ines": submit(ines, project)}
    return karim, camille, ines, project, ids


def entry(entry_id):
    return db.session.get(TimeEntry, entry_id)


def events(action):
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


@pytest.mark.parametrize("role", [None, "admin", "hr"])
def test_a_report_holding_the_delegation_cannot_decide_on_own_lines(client, login, team, role):
    karim, camille, ines, _project, ids = team
    if role:
        make_role(ines, role)
    login(client, ines)
    for data in ({"entry": str(ids["ines"]), "action": "approve"},
                 {"entry": str(ids["ines"]), "action": "refuse", "reason": "Je me refuse cette ligne."},
                 {"entry": [str(ids["camille"]), str(ids["ines"])], "action": "approve"}):
        response = client.post("/validations", data=data)
        assert response.status_code == 403 and OWN_LINES in text(response), data
    for entry_id in ids.values():  # the whole batch is refused: nothing decided, nothing recorded
        assert (entry(entry_id).status, entry(entry_id).decided_by_id) == ("submitted", None)
    assert events("time.approved") == events("time.refused") == 0
    # The other report's lines are hers to decide.
    assert client.post("/validations", data={"entry": str(ids["camille"]), "action": "approve"}).status_code == 303
    assert (entry(ids["camille"]).status, entry(ids["camille"]).decided_by_id) == ("approved", ines.id)
    assert entry(ids["ines"]).status == "submitted"


def test_own_lines_never_in_the_delegate_queue(client, login, team):
    karim, camille, ines, _project, ids = team
    page, queues, _given, received = queries.approval_queue(ines)
    assert page.total == 1 and [q.agent for q in queues] == [camille]
    assert [d.manager for d in received] == [karim]
    login(client, ines)
    body = text(client.get("/validations"))
    assert f'id="agent-{camille.id}"' in body and f'id="agent-{ines.id}"' not in body
    assert f'id="entry-{ids["camille"]}"' in body and f'id="entry-{ids["ines"]}"' not in body
    assert "Vos propres heures restent validées par votre N+1." in body
    # She is told of Camille's hours, not asked to approve her own.
    told = db.session.scalars(select(Notification.body).where(Notification.user_id == ines.id,
                                                              Notification.category == "approvals")).all()
    assert told == ["Camille Roux a transmis ses heures de la semaine du 16/11/2026."]


def test_the_delegating_manager_keeps_and_decides_the_delegate_lines(client, login, team):
    karim, camille, ines, _project, ids = team
    page, queues, given, _received = queries.approval_queue(karim)
    assert page.total == 2 and {q.agent for q in queues} == {camille, ines}
    assert [d.delegate for d in given] == [ines]
    login(client, karim)
    body = text(client.get("/validations"))
    assert f'id="entry-{ids["camille"]}"' in body and f'id="entry-{ids["ines"]}"' in body
    assert client.post("/validations", data={"entry": str(ids["ines"]), "action": "approve"}).status_code == 303
    assert (entry(ids["ines"]).status, entry(ids["ines"]).decided_by_id) == ("approved", karim.id)


def test_one_batch_over_two_agents_decides_each_line_once_and_tells_each_agent(client, login, team):
    karim, camille, ines, _project, ids = team
    held = {name: entry(entry_id) for name, entry_id in ids.items()}  # loaded before the decision
    login(client, karim)
    lines = [str(ids["ines"]), str(ids["camille"]), str(ids["camille"])]  # a line ticked twice counts once
    assert client.post("/validations", data={"entry": lines, "action": "approve"}).status_code == 303
    for line in held.values():
        assert (line.status, line.decided_by_id) == ("approved", karim.id)  # read again, not stale
    recorded = db.session.execute(select(AuditEvent.target_id, AuditEvent.data).where(
        AuditEvent.action == "time.approved").order_by(AuditEvent.target_id)).all()
    assert sorted((target, data["entries"]) for target, data in recorded) == sorted(
        [(camille.id, [ids["camille"]]), (ines.id, [ids["ines"]])])
    told = db.session.execute(select(Notification.user_id, Notification.body).where(
        Notification.category == "my_time")).all()
    assert sorted(user_id for user_id, _body in told) == sorted([camille.id, ines.id])
    assert all("a validé 2 h de la semaine du 16/11/2026" in body for _user_id, body in told)
    # Decided lines are not decided again: the second attempt changes nothing.
    response = client.post("/validations", data={"entry": str(ids["camille"]), "action": "refuse",
                                                 "reason": "Trop tard pour refuser."})
    assert response.status_code == 409
    assert entry(ids["camille"]).status == "approved" and events("time.refused") == 0


def test_nobody_grants_themself_a_cap_override(client, login, team):
    karim, camille, ines, _project, _ids = team
    reason = {"month": "2026-11", "reason": "Rush de fin de projet validé en comité."}
    login(client, ines)
    response = client.post(f"/validations/derogation/{ines.id}", data=reason)
    assert response.status_code == 403 and "ni ne s'accorde de dérogation" in text(response)
    assert db.session.scalar(select(func.count()).select_from(CapOverride)) == 0
    assert events("time.cap_override") == 0
    # Allowed: the delegate for the other report, the N+1 for the delegate.
    assert client.post(f"/validations/derogation/{camille.id}", data=reason).status_code == 303
    boss = client.application.test_client()
    login(boss, karim)
    assert boss.post(f"/validations/derogation/{ines.id}", data=reason).status_code == 303
    granted = db.session.execute(select(CapOverride.user_id, CapOverride.granted_by_id)).all()
    assert sorted(granted) == sorted([(camille.id, ines.id), (ines.id, karim.id)])


def test_no_path_to_deciding_on_own_lines(team):
    karim, camille, ines, project, ids = team
    with pytest.raises(NotAllowed, match=OWN_LINES):
        services.decide(ines, [ids["ines"]], approve=True)
    with pytest.raises(NotAllowed, match=OWN_LINES):
        services.grant_override(ines, ines, month=MONDAY, reason="Je me l'accorde.")
    # No chain: Inès, N+1 of Lou, hands her approvals to Camille, who gets Lou's lines,
    # not Karim's (Camille's own among them).
    lou = make_user(org_unit=karim.org_unit, manager=ines, first_name="Lou")
    make_project_member(project, lou, role="Membre", hours_budget=10)
    lou_entry = submit(lou, project)
    hierarchy.delegate(ines, delegate_email=camille.email, starts_on=MONDAY, ends_on=TODAY)
    assert hierarchy.can_decide_for(camille, lou) is None
    assert hierarchy.can_decide_for(camille, camille) == hierarchy.can_decide_for(ines, ines)
    with pytest.raises(NotAllowed):
        services.decide(camille, [ids["camille"]], approve=True)
    services.decide(camille, [lou_entry], approve=True)
    # One's own N+1 in the data (the admin forms refuse it, the rule does not rely on them).
    karim.manager_id = karim.id
    db.session.flush()
    assert "Personne" in hierarchy.can_decide_for(karim, karim)
    with pytest.raises(NotAllowed, match=OWN_LINES):
        services.grant_override(karim, karim, month=MONDAY, reason="Je me l'accorde.")


def test_a_sole_report_holding_the_delegation_has_no_queue(client, login):
    boss = make_user(first_name="Karim")
    solo = make_user(org_unit=boss.org_unit, manager=boss, first_name="Inès", email="solo@ville.fr")
    hierarchy.delegate(boss, delegate_email="solo@ville.fr", starts_on=MONDAY, ends_on=TODAY)
    submit(solo, project_with(solo))
    assert not db.session.scalar(select(hierarchy.approver_clause(solo.id)))
    assert db.session.scalar(select(hierarchy.approver_clause(boss.id)))
    assert db.session.scalars(select(Notification.user_id).where(Notification.category == "approvals")).all() == [boss.id]
    login(client, solo)
    assert 'href="/validations"' not in text(client.get("/"))
    assert queries.approval_queue(solo)[0].total == 0


def test_a_delegation_starting_tomorrow_counts_tomorrow_in_a_long_running_process(client, login):
    """The navigation's « Validations » comes with the session's query, built once per
    process: the day of the delegation check is the day of the request, not of the build."""
    from incubator.accounts import sessions

    boss = make_user(first_name="Karim")
    deputy = make_user(org_unit=boss.org_unit, first_name="Inès", email="deputy@ville.fr")
    make_user(org_unit=boss.org_unit, manager=boss, first_name="Lou")
    hierarchy.delegate(boss, delegate_email="deputy@ville.fr", starts_on=date(2026, 11, 19), ends_on=date(2026, 11, 27))
    sessions._session_query.cache_clear()
    login(client, deputy)
    assert 'href="/validations"' not in text(client.get("/"))  # built today, the day before
    with time_machine.travel(datetime.combine(date(2026, 11, 19), time(9), tzinfo=ZoneInfo("Europe/Paris")),
                             tick=False):
        login(client, deputy)  # the session of the day before has expired
        assert 'href="/validations"' in text(client.get("/"))
    with time_machine.travel(datetime.combine(date(2026, 11, 28), time(9), tzinfo=ZoneInfo("Europe/Paris")),
                             tick=False):
        login(client, deputy)
        assert 'href="/validations"' not in text(client.get("/"))


def test_the_approvals_page_tells_whoever_has_no_one_to_approve_what_it_is_for(make_client, login, team):
    karim, camille, ines, project, ids = team
    outsider = make_user(first_name="Lou", last_name="Martin")
    client = make_client()
    login(client, outsider)
    page = text(client.get("/validations"))
    assert "cette page sert aux encadrants" in page and "Mon temps" in page
    assert "Déléguer mes validations" not in page  # the service would refuse it:
    refused = client.post("/validations/delegation", data={"delegate_email": "ines@ville.fr",
                                                           "starts_on": "2026-11-20", "ends_on": "2026-11-25"})
    assert refused.status_code == 403 and "Seul un encadrant" in text(refused)
    # The N+1: the queue, and the delegation.
    client = make_client()
    login(client, karim)
    page = text(client.get("/validations"))
    assert "Déléguer mes validations" in page and "cette page sert aux encadrants" not in page
    # A report holding the N+1's delegation: the others' lines, no delegation of their own.
    client = make_client()
    login(client, ines)
    page = text(client.get("/validations"))
    assert "Camille Roux" in page
    assert "Déléguer mes validations" not in page and "cette page sert aux encadrants" not in page
