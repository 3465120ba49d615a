"""The header's notification count comes with every page (issue 19, item 5): read by the
session's own query, so the page costs no extra query and never waits for an htmx call."""

import re

from incubator.extensions import db
from tests.factories import make_notification, make_user
from tests.helpers import text


def counter(page: str) -> str:
    found = re.search(r'<a href="/notifications" id="notification-counter"[^>]*>(.*?)</a>', page, re.S)
    assert found, "the header has no notification counter"
    return found.group(1)


def test_count_is_in_the_page_without_an_htmx_call(client, login):
    user = make_user()
    for n in range(3):
        make_notification(user, subject=f"s{n}", body="b")
    db.session.commit()
    login(client, user)
    page = text(client.get("/propositions"))
    assert '3<span class="visually-hidden"> non lues</span>' in counter(page)
    # htmx refreshes it every minute only: no request on load, which moved the header.
    tag = re.search(r'<a href="/notifications" id="notification-counter"[^>]*>', page).group(0)
    assert 'data-hx-trigger="every 60s"' in tag and "load" not in tag


def test_count_follows_reading(client, login):
    user = make_user()
    make_notification(user, subject="s", body="b")
    db.session.commit()
    login(client, user)
    assert "1<span" in counter(text(client.get("/")))
    assert client.post("/notifications/tout-lu").status_code == 303
    assert "non lue" not in counter(text(client.get("/")))
    assert "non lue" not in text(client.get("/notifications/compteur"))


def test_the_count_costs_no_query(client, login, count_queries):
    """Same number of queries with no notification and with many: the count is a column of
    the session's query, not a query of its own."""
    user = make_user()
    db.session.commit()
    login(client, user)
    client.get("/propositions")
    with count_queries() as empty:
        client.get("/propositions")
    for n in range(12):
        make_notification(user, subject=f"s{n}", body="b")
    db.session.commit()
    with count_queries() as full:
        page = text(client.get("/propositions"))
    assert "12<span" in counter(page)
    assert full.count == empty.count
    assert not any("notifications" in s.lower() and "auth_sessions" not in s.lower() for s in full.statements)


def test_menu_disclosure_for_phones_carries_the_navigation(client, login):
    user = make_user()
    db.session.commit()
    login(client, user)
    page = text(client.get("/mon-temps"))
    menu = re.search(r'<details class="nav-menu narrow-only">(.*?)</details>', page, re.S).group(1)
    assert "<summary" in menu and ">Menu<" in menu
    assert 'page actuelle : </span>Mon temps' in menu
    assert '<a href="/mon-temps" aria-current="page">Mon temps</a>' in menu
    assert "Se déconnecter" in menu
