"""The session's time limits under the person's control (RGAA 13.1, WCAG 2.2.1): the page
carries the time left, every signed-in answer too; « Rester connecté » starts the idle clock
again; a poll is not activity; after the end, signing in again leads back to the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from incubator.accounts.models import AuthSession
from incubator.extensions import db
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.helpers import text

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
IDLE, TOTAL = 4 * 3600, 10 * 3600


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def left(response) -> tuple[int, int]:
    idle, end = response.headers["X-Session-Time-Left"].replace("idle=", "").replace("end=", "").split(", ")
    return int(idle), int(end)


def test_the_page_carries_the_time_left_and_the_warning_lead(client, login, clock):
    login(client, make_user())
    clock.shift(timedelta(hours=1))
    response = client.get("/propositions")
    page = text(response)
    # An hour after sign-in, the page itself is activity: the idle clock starts again.
    assert f'data-idle-left="{IDLE}" data-end-left="{TOTAL - 3600}"' in page
    assert 'data-warn-before="120"' in page and 'role="alertdialog"' in page
    assert '<form method="post" action="/session/prolonger" data-hx-boost="false" data-session-extend>' in page
    assert '<input type="hidden" name="next" value="/propositions">' in page
    assert ">Rester connecté</button>" in page
    assert left(response) == (IDLE, TOTAL - 3600)


def test_an_anonymous_page_has_no_warning_nor_time_left(client):
    response = client.get("/connexion")
    assert "session-warning" not in text(response) and "X-Session-Time-Left" not in response.headers


def test_staying_signed_in_starts_the_idle_clock_again(client, login, clock):
    login(client, make_user())
    clock.shift(timedelta(hours=3, minutes=58))
    # The notification counter polls by itself: not activity, the clock runs on.
    response = client.get("/notifications/compteur", headers={"HX-Request": "true"})
    assert response.status_code == 200 and left(response) == (120, TOTAL - (3 * 3600 + 58 * 60))
    response = client.post("/session/prolonger", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.get_json() == {"idle": IDLE, "end": TOTAL - (3 * 3600 + 58 * 60)}
    [auth] = db.session.query(AuthSession).all()
    assert auth.last_seen_at.replace(tzinfo=UTC) == datetime.now(UTC)
    clock.shift(timedelta(hours=3, minutes=59))
    assert client.get("/").status_code == 200


def test_a_poll_does_not_keep_the_session_alive(client, login, clock):
    login(client, make_user())
    clock.shift(timedelta(hours=3, minutes=58))
    client.get("/notifications/compteur", headers={"HX-Request": "true"})
    clock.shift(timedelta(minutes=3))
    assert client.get("/").status_code == 302


def test_the_plain_form_goes_back_to_its_page(client, login, clock):
    login(client, make_user())
    response = client.post("/session/prolonger", data={"next": "/immersions"})
    assert response.status_code == 303 and response.headers["Location"] == "/immersions"
    assert "Votre session est prolongée." in text(client.get("/immersions"))
    response = client.post("/session/prolonger", data={"next": "https://ailleurs.example/"})
    assert response.headers["Location"] == "/"


def test_refused_anonymously_and_without_the_csrf_token(client, login, clock):
    response = client.post("/session/prolonger", headers={"Accept": "application/json"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/connexion")
    login(client, make_user())
    assert client.post("/session/prolonger", csrf=False).status_code == 400
    assert client.get("/session/prolonger").status_code == 405


def test_the_total_limit_is_not_extended(client, login, clock):
    login(client, make_user())
    for hours in (3, 3, 3):  # activity keeps the idle clock going
        clock.shift(timedelta(hours=hours))
        assert client.get("/").status_code == 200
    clock.shift(timedelta(minutes=59))
    response = client.post("/session/prolonger", headers={"Accept": "application/json"})
    assert response.get_json() == {"idle": IDLE, "end": 60}
    clock.shift(timedelta(minutes=2))
    assert client.get("/").status_code == 302


def test_after_the_end_signing_in_again_leads_back_to_the_page(client, login, clock):
    user = make_user()
    login(client, user)
    clock.shift(timedelta(hours=10, minutes=1))
    response = client.get("/immersions?page=2")
    assert response.headers["Location"] == "/connexion?next=/immersions?page%3D2"
    # An htmx request (a poll, a search) leads back to the page it came from, not to itself.
    response = client.get("/notifications/compteur", headers={
        "HX-Request": "true", "HX-Current-URL": "http://localhost/propositions?q=parc"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/connexion?next=/propositions?q%3Dparc"
    response = client.get("/notifications/compteur", headers={
        "HX-Request": "true", "HX-Current-URL": "https://ailleurs.example/piege"})
    assert response.headers["HX-Redirect"] == "/connexion?next=/notifications/compteur"
    response = client.post("/connexion?next=/propositions?q%3Dparc",
                           data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/propositions?q=parc"
