"""Two coordinators acting on the same item at the same time: one decision, a clear
message for the other. Requests run in parallel threads on the real database."""

import threading

from sqlalchemy import func, select

from incubator import create_app
from incubator.extensions import db
from incubator.review import voting
from incubator.review.models import AgendaItem, Decision, Vote
from tests.conftest import app_config
from tests.factories import DEFAULT_PASSWORD, make_proposal, make_session, make_settings, make_user

RATIONALE = ("Le collectif retient la proposition : elle répond à un besoin réel des usagers, "
             "reste faisable avec les moyens actuels et a été bien évaluée.")


def _parallel(database_url, users, method_path_data):
    """Log each user in on its own client, then fire all requests at once."""
    app = create_app(app_config(database_url, WTF_CSRF_ENABLED=False))
    clients = []
    for user in users:
        client = app.test_client()
        assert client.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 303
        clients.append(client)
    barrier = threading.Barrier(len(clients))
    results = [None] * len(clients)

    def run(index, client):
        path, data = method_path_data
        barrier.wait()
        response = client.post(path, data=data)
        results[index] = (response.status_code, response.get_data(as_text=True))

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _closed_item():
    coordinator = make_user(roles=["coordinator"], collective=True)
    second = make_user(org_unit=coordinator.org_unit, roles=["coordinator"], collective=True)
    make_settings(coordinator.institution)
    proposal = make_proposal(author=make_user(org_unit=coordinator.org_unit), state="in_review")
    session = make_session(coordinator.institution, created_by=coordinator)
    item = voting.schedule(coordinator, session, proposal)
    voting.set_attendance(coordinator, session, present_ids=[coordinator.id, second.id])
    voting.open_vote(coordinator, item)
    voting.cast_vote(coordinator, item, choice="for")
    return coordinator, second, proposal, item


def test_two_coordinators_publish_at_once_one_decision(database_url):
    coordinator, second, proposal, item = _closed_item()
    voting.close_vote(coordinator, item)
    db.session.commit()
    results = _parallel(database_url, [coordinator, second, coordinator, second],
                        (f"/arbitrage/points/{item.id}/publier", {"outcome": "accepted", "rationale": RATIONALE}))
    statuses = sorted(status for status, _ in results)
    assert statuses == [303, 409, 409, 409], statuses
    assert any("déjà publiée" in body or "vient de publier" in body for status, body in results if status == 409)
    db.session.rollback()  # end the test's own snapshot: read what the requests committed
    assert db.session.scalar(select(func.count()).select_from(Decision).where(Decision.item_id == item.id)) == 1
    assert db.session.get(AgendaItem, item.id).status == "decided"


def test_two_coordinators_close_at_once_one_result(database_url):
    coordinator, second, proposal, item = _closed_item()
    db.session.commit()
    results = _parallel(database_url, [coordinator, second, second],
                        (f"/arbitrage/points/{item.id}/clore", {}))
    assert sorted(status for status, _ in results) == [303, 409, 409]
    db.session.rollback()  # end the test's own snapshot: read what the requests committed
    assert db.session.get(AgendaItem, item.id).status == "closed"


def test_double_click_on_a_vote_stores_one_vote(database_url):
    coordinator, second, proposal, item = _closed_item()
    db.session.commit()
    results = _parallel(database_url, [second] * 4, (f"/arbitrage/points/{item.id}/voter", {"choice": "against"}))
    assert all(status == 303 for status, _ in results), [s for s, _ in results]
    db.session.rollback()  # end the test's own snapshot: read what the requests committed
    assert db.session.scalar(select(func.count()).select_from(Vote).where(
        Vote.item_id == item.id, Vote.user_id == second.id)) == 1
