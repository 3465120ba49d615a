"""TRUSTED_PROXIES: behind n reverse proxies, the client's address is the one they forwarded;
with 0 (the default), X-Forwarded-* headers are ignored."""

import pytest
from sqlalchemy import select

from incubator import create_app
from incubator.accounts.models import AuthSession, LoginAttempt
from incubator.extensions import db
from tests.conftest import Client, app_config
from tests.factories import DEFAULT_PASSWORD, make_user


@pytest.fixture(scope="module")
def behind_one_proxy(server, database_url):
    proxied = create_app(app_config(database_url, TRUSTED_PROXIES=1))
    proxied.test_client_class = Client
    return proxied


def recorded_addresses(user) -> tuple[str, str]:
    attempt = db.session.scalar(select(LoginAttempt.ip_address).where(LoginAttempt.email == user.email))
    session = db.session.scalar(select(AuthSession.ip_address).where(AuthSession.user_id == user.id))
    return attempt, session


def test_forwarded_address_is_ignored_without_trusted_proxies(client, server):
    assert server.config["TRUSTED_PROXIES"] == 0
    user = make_user()
    response = client.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD},
                           headers={"X-Forwarded-For": "203.0.113.7"})
    assert response.status_code == 303
    assert recorded_addresses(user) == ("127.0.0.1", "127.0.0.1")  # the socket's peer


def test_forwarded_address_is_used_behind_one_trusted_proxy(behind_one_proxy):
    user = make_user()
    response = behind_one_proxy.test_client().post(
        "/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"})
    assert response.status_code == 303
    assert recorded_addresses(user) == ("203.0.113.7", "203.0.113.7")


def test_only_the_address_the_trusted_proxy_saw_counts(behind_one_proxy):
    """A client may send its own X-Forwarded-For: the proxy appends the address it saw, the
    right-most one, and only that one is trusted."""
    user = make_user()
    response = behind_one_proxy.test_client().post(
        "/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.7"})
    assert response.status_code == 303
    assert recorded_addresses(user) == ("203.0.113.7", "203.0.113.7")


def test_throttling_counts_the_forwarded_addresses(behind_one_proxy, monkeypatch):
    """Behind the proxy, failures on an account from one client block that client only
    (pair limit), not the agents whose requests arrive through the same proxy."""
    monkeypatch.setitem(behind_one_proxy.config, "LOGIN_MAX_FAILURES_PER_ACCOUNT", 8)
    monkeypatch.setitem(behind_one_proxy.config, "LOGIN_MAX_FAILURES_PER_ADDRESS_AND_ACCOUNT", 3)
    user = make_user()
    client = behind_one_proxy.test_client()
    guesser, agent = {"X-Forwarded-For": "198.51.100.9"}, {"X-Forwarded-For": "203.0.113.7"}
    for _ in range(3):
        assert client.post("/connexion", data={"email": user.email, "password": "mauvais"},
                           headers=guesser).status_code == 422
    assert client.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD},
                       headers=guesser).status_code == 429
    assert client.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD},
                       headers=agent).status_code == 303
