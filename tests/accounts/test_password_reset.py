"""« Mot de passe oublié » through the real app: the same answer whether or not the account
exists, a single-use link valid an hour, ended by any password change, throttled per
address and per client, refused to a deactivated agent; every session ends on reset."""

import re
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import func, select

from incubator.accounts.models import AccountRequest, AccountToken, AuthSession
from incubator.audit.models import AuditEvent
from incubator.extensions import db
from incubator.notifications.models import OutboxMessage
from tests.factories import DEFAULT_PASSWORD, make_account_request, make_user
from tests.helpers import field_errors, text

NEW_PASSWORD = "une grange bleue au bord du canal"
LINK = re.compile(r"http://127\.0\.0\.1:5000/mot-de-passe-oublie/([A-Za-z0-9_-]{43})")
# In UTC: a day count across the change to summer time (29 March) stays 24-hour days.
MONDAY_MORNING = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def ask(client, email, **kwargs):
    return client.post("/mot-de-passe-oublie", data={"email": email}, **kwargs)


def emails_to(address):
    """The messages to `address`, in the order they were written (PostgreSQL returns rows
    in no set order without one: an updated row moves in its table)."""
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == address)
                                   .order_by(OutboxMessage.id)))


def link_sent_to(address) -> str:
    (message,) = emails_to(address)
    return LINK.search(message.text).group(1)


def choose(client, token, password=NEW_PASSWORD, confirm=None):
    return client.post(f"/mot-de-passe-oublie/{token}",
                       data={"password": password, "confirm_password": confirm or password})


def test_the_login_page_links_to_the_reset_page(client):
    page = text(client.get("/connexion"))
    assert 'href="/mot-de-passe-oublie"' in page and "Mot de passe oublié ?" in page
    response = client.get("/mot-de-passe-oublie")
    assert response.status_code == 200 and "Recevoir un lien" in text(response)


def test_known_and_unknown_addresses_get_the_same_answer(make_client):
    make_user(email="lea.petit@ville.fr")
    answers = []
    for address in ("lea.petit@ville.fr", "personne@ville.fr"):
        client = make_client()
        response = ask(client, address)
        page = client.get(response.headers["Location"])
        csrf = re.compile(r'value="[^"]*"|"X-CSRFToken": "[^"]*"')
        answers.append((response.status_code, response.headers["Location"], csrf.sub("", text(page))))
    assert answers[0] == answers[1]
    assert answers[0][0] == 303
    assert "Si un compte actif correspond à cette adresse" in answers[0][2]
    # Only the real account gets an email; both requests are counted for throttling.
    assert len(emails_to("lea.petit@ville.fr")) == 1 and emails_to("personne@ville.fr") == []
    assert db.session.scalar(select(func.count()).select_from(AccountRequest)) == 2


def test_the_link_sets_a_new_password_once_and_ends_every_session(client, make_client, login):
    user = make_user(email="lea.petit@ville.fr")
    elsewhere = make_client()
    login(elsewhere, user)
    ask(client, "Lea.Petit@ville.fr ")
    token = link_sent_to("lea.petit@ville.fr")
    stored = db.session.scalar(select(AccountToken))
    assert stored.purpose == "reset" and token not in stored.token_hash and len(stored.token_hash) == 64
    page = client.get(f"/mot-de-passe-oublie/{token}")
    assert page.status_code == 200 and "Nouveau mot de passe" in text(page)
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"

    response = choose(client, token)
    assert response.status_code == 303 and response.headers["Location"] == "/connexion"
    assert "Votre mot de passe a été modifié" in text(client.get("/connexion"))
    assert db.session.scalar(select(func.count()).select_from(AuthSession).where(
        AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None))) == 0
    assert elsewhere.get("/").status_code == 302  # the other session is over
    assert client.post("/connexion", data={"email": user.email, "password": NEW_PASSWORD}).status_code == 303
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "auth.password_reset"))

    # Used: the same link no longer works, and says so without saying why.
    again = make_client()
    assert "Ce lien n'est pas ou plus valable" in text(again.get(f"/mot-de-passe-oublie/{token}"))
    refused = choose(again, token, password="encore une autre phrase longue")
    assert refused.status_code == 422 and "Ce lien n'est pas ou plus valable" in text(refused)


def test_the_new_password_follows_the_password_rules(client):
    make_user(email="lea.petit@ville.fr", first_name="Léa", last_name="Petit")
    ask(client, "lea.petit@ville.fr")
    token = link_sent_to("lea.petit@ville.fr")
    response = choose(client, token, password="motdepasse")
    assert response.status_code == 422 and "au moins 12 caractères" in field_errors(text(response), "password")
    response = choose(client, token, password="lea petit au bord du canal")
    assert "ni votre prénom" in field_errors(text(response), "password")
    response = choose(client, token, password=NEW_PASSWORD, confirm="autre chose encore bien long")
    assert "diffèrent" in field_errors(text(response), "confirm_password")
    # Refused input does not use the link.
    assert choose(client, token).status_code == 303


def test_the_link_expires_after_an_hour(make_client):
    make_user(email="lea.petit@ville.fr")
    with time_machine.travel(MONDAY_MORNING):
        ask(make_client(), "lea.petit@ville.fr")
    token = link_sent_to("lea.petit@ville.fr")
    with time_machine.travel(MONDAY_MORNING + timedelta(minutes=59)):
        assert "Nouveau mot de passe" in text(make_client().get(f"/mot-de-passe-oublie/{token}"))
    with time_machine.travel(MONDAY_MORNING + timedelta(minutes=61)):
        client = make_client()
        assert "Ce lien n'est pas ou plus valable" in text(client.get(f"/mot-de-passe-oublie/{token}"))
        assert choose(client, token).status_code == 422


def test_any_password_change_ends_the_link(client, make_client, login):
    user = make_user(email="lea.petit@ville.fr")
    ask(client, "lea.petit@ville.fr")
    token = link_sent_to("lea.petit@ville.fr")
    own = make_client()
    login(own, user)
    own.post("/mon-compte", data={"current_password": DEFAULT_PASSWORD, "new_password": "la mer est calme ce matin",
                                  "confirm_password": "la mer est calme ce matin"})
    assert choose(client, token).status_code == 422
    # The same after an administrator sets it.
    admin = make_user(org_unit=user.org_unit, roles=["admin"])
    ask(client, "lea.petit@ville.fr")
    token = LINK.search(emails_to("lea.petit@ville.fr")[-1].text).group(1)
    admin_client = make_client()
    login(admin_client, admin)
    admin_client.post(f"/admin/agents/{user.id}/mot-de-passe", data={"password-password": "trois chats gris sur un mur"})
    assert choose(client, token).status_code == 422


def test_a_new_link_ends_the_previous_one(make_client):
    make_user(email="lea.petit@ville.fr")
    ask(make_client(), "lea.petit@ville.fr")
    ask(make_client(), "lea.petit@ville.fr")
    first, second = (LINK.search(m.text).group(1) for m in emails_to("lea.petit@ville.fr"))
    assert choose(make_client(), first).status_code == 422
    assert choose(make_client(), second).status_code == 303


def test_a_deactivated_agent_gets_no_link_and_cannot_use_an_older_one(client, make_client, login):
    user = make_user(email="lea.petit@ville.fr")
    ask(client, "lea.petit@ville.fr")
    token = link_sent_to("lea.petit@ville.fr")
    user.is_active = False
    response = ask(make_client(), "lea.petit@ville.fr")
    assert response.status_code == 303  # the same answer as for anyone
    assert len(emails_to("lea.petit@ville.fr")) == 1
    assert "Ce lien n'est pas ou plus valable" in text(make_client().get(f"/mot-de-passe-oublie/{token}"))
    assert choose(make_client(), token).status_code == 422


def test_requests_are_throttled_per_address_whether_or_not_it_has_an_account(app, make_client):
    make_user(email="lea.petit@ville.fr")
    limit = app.config["PASSWORD_RESET_MAX_PER_EMAIL"]
    for address in ("lea.petit@ville.fr", "personne@ville.fr"):
        for n in range(limit):
            assert ask(make_client(), address, environ_base={"REMOTE_ADDR": f"10.0.0.{n}"}).status_code == 303
        refused = ask(make_client(), address, environ_base={"REMOTE_ADDR": "10.0.1.1"})
        assert refused.status_code == 429 and "Trop de demandes" in text(refused)
    assert len(emails_to("lea.petit@ville.fr")) == limit
    # Another address from the same clients still goes through.
    assert ask(make_client(), "autre@ville.fr", environ_base={"REMOTE_ADDR": "10.0.1.1"}).status_code == 303


def test_requests_are_throttled_per_client(app, make_client):
    make_user(email="lea.petit@ville.fr")
    for n in range(app.config["PASSWORD_RESET_MAX_PER_CLIENT"]):
        make_account_request(f"inconnu{n}@ville.fr", ip_address="192.0.2.7")
    refused = ask(make_client(), "lea.petit@ville.fr", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert refused.status_code == 429 and emails_to("lea.petit@ville.fr") == []
    assert ask(make_client(), "lea.petit@ville.fr", environ_base={"REMOTE_ADDR": "192.0.2.8"}).status_code == 303


def test_old_requests_no_longer_count(app, make_client):
    make_user(email="lea.petit@ville.fr")
    with time_machine.travel(MONDAY_MORNING):
        for _ in range(app.config["PASSWORD_RESET_MAX_PER_EMAIL"]):
            ask(make_client(), "lea.petit@ville.fr")
        assert ask(make_client(), "lea.petit@ville.fr").status_code == 429
    with time_machine.travel(MONDAY_MORNING + app.config["PASSWORD_RESET_THROTTLE_WINDOW"] + timedelta(minutes=1)):
        assert ask(make_client(), "lea.petit@ville.fr").status_code == 303


def test_the_email_has_an_absolute_link_and_no_token_elsewhere(client):
    make_user(email="lea.petit@ville.fr", first_name="Léa")
    ask(client, "lea.petit@ville.fr")
    (message,) = emails_to("lea.petit@ville.fr")
    token = LINK.search(message.text).group(1)
    assert message.subject == "[Incubateur] Choisir un nouveau mot de passe" and token not in message.subject
    assert f"http://127.0.0.1:5000/mot-de-passe-oublie/{token}" in message.html
    assert "Bonjour Léa" in message.text and "60 minutes" in message.text


def test_a_bad_address_is_refused_next_to_the_field(client):
    response = ask(client, "")
    assert response.status_code == 422 and "Indiquez votre adresse électronique." in text(response)
    assert db.session.scalar(select(func.count()).select_from(AccountRequest)) == 0
