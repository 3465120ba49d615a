from datetime import timedelta

from sqlalchemy import func, select

from incubator.accounts.models import AuthSession, LoginAttempt
from incubator.audit.models import AuditEvent
from incubator.extensions import db
from incubator.timeutil import utcnow
from tests.factories import DEFAULT_PASSWORD, make_login_attempt, make_user
from tests.helpers import text


def test_login_page_is_public_and_french(client):
    response = client.get("/connexion")
    assert response.status_code == 200
    page = text(response)
    assert '<html lang="fr">' in page
    assert "Adresse électronique ou identifiant" in page and "Mot de passe oublié ?" in page


def test_anonymous_is_sent_to_login_with_next(client):
    response = client.get("/mon-compte")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion?next=/mon-compte")


def test_anonymous_htmx_request_gets_hx_redirect(client):
    response = client.get("/mon-compte", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/connexion")


def test_login_success_opens_server_session_and_audits(client):
    user = make_user(email="Camille@Example.fr")
    response = client.post("/connexion", data={"email": " camille@example.FR ", "password": DEFAULT_PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(AuthSession).where(AuthSession.user_id == user.id)) == 1
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.actor_id == user.id)) == "auth.login"


def test_login_follows_only_local_next(client):
    user = make_user()
    response = client.post("/connexion?next=/mon-compte", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.headers["Location"] == "/mon-compte"
    client.post("/deconnexion")
    for hostile in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post("/connexion", query_string={"next": hostile},
                               data={"email": user.email, "password": DEFAULT_PASSWORD})
        assert response.headers["Location"] == "/", hostile
        client.post("/deconnexion")


def test_wrong_password_is_refused_with_a_message_next_to_the_form(client):
    user = make_user()
    response = client.post("/connexion", data={"email": user.email, "password": "pas-le-bon-mot"})
    assert response.status_code == 422
    assert "Adresse électronique, identifiant ou mot de passe incorrect." in text(response)
    assert client.get("/").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt).where(LoginAttempt.succeeded.is_(False))) == 1


def test_unknown_account_gets_the_same_message(client):
    response = client.post("/connexion", data={"email": "personne@example.fr", "password": "whatever-long"})
    assert response.status_code == 422
    assert "Adresse électronique, identifiant ou mot de passe incorrect." in text(response)


def test_empty_fields_are_refused_next_to_each_field(client):
    response = client.post("/connexion", data={"email": "", "password": ""})
    assert response.status_code == 422
    page = text(response)
    assert "Indiquez votre adresse électronique ou votre identifiant." in page
    assert "Indiquez votre mot de passe." in page
    assert 'aria-invalid="true"' in page


def test_login_is_refused_without_csrf_token(client):
    user = make_user()
    response = client.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD}, csrf=False)
    assert response.status_code == 400
    assert "jeton de sécurité" in text(response)
    assert client.get("/").status_code == 302


def test_throttling_per_account_after_five_failures(client, server):
    user = make_user()
    for _ in range(5):
        assert client.post("/connexion", data={"email": user.email, "password": "mauvais"}).status_code == 422
    # Even the right password is now refused, without being checked.
    response = client.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 429
    assert "Trop de tentatives" in text(response)
    # Another account from the same address is not blocked yet.
    other = make_user()
    assert client.post("/connexion", data={"email": other.email, "password": DEFAULT_PASSWORD}).status_code == 303


def test_throttling_is_stored_in_database_so_other_workers_see_it(make_client):
    user = make_user()
    first, second = make_client(), make_client()
    for _ in range(3):
        first.post("/connexion", data={"email": user.email, "password": "mauvais"})
    for _ in range(2):
        second.post("/connexion", data={"email": user.email, "password": "mauvais"})
    assert second.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 429
    assert first.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 429


def test_throttling_expires_after_the_window(client):
    user = make_user()
    old = utcnow() - timedelta(minutes=16)
    for _ in range(5):
        make_login_attempt(user.email, attempted_at=old)
    assert client.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 303


def test_failures_on_many_accounts_from_one_address_do_not_lock_it_out(client, server, monkeypatch):
    """An institution behind one address: 25 failures there, on 25 accounts, leave the
    others free to log in, and even the accounts that failed are not refused."""
    delays = []
    monkeypatch.setattr("incubator.accounts.services.slow_down", delays.append)
    for n in range(25):
        response = client.post("/connexion", data={"email": f"x{n}@example.fr", "password": "mauvais"})
        assert response.status_code == 422, n
    user = make_user()
    assert client.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 303
    assert delays == []  # under the per-address limit (100 by default): not even slowed down
    assert server.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] >= 100


def test_many_failures_from_one_address_only_slow_it_down(client, server, monkeypatch):
    """Over the per-address limit, each login from the address waits (whatever the account,
    known or not, before its password is checked), and a correct password still gets in."""
    monkeypatch.setitem(server.config, "LOGIN_ADDRESS_DELAY_SECONDS", 0)
    delays = []

    def wait(seconds):
        # The request waits outside any transaction: on SQLite it would hold the write lock.
        assert not db.session().in_transaction()
        delays.append(seconds)

    monkeypatch.setattr("incubator.accounts.services.slow_down", wait)
    limit = server.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    for n in range(limit - 1):
        make_login_attempt(f"x{n}@example.fr")
    make_login_attempt("ailleurs@example.fr", ip_address="10.9.9.9")
    user = make_user()
    client.post("/connexion", data={"email": "x-dernier@example.fr", "password": "mauvais"})
    assert delays == []  # the limit is reached by this failure, not before
    assert client.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 303
    assert delays == [0]
    client.post("/deconnexion")
    assert client.post("/connexion", data={"email": "inconnu@example.fr", "password": "mauvais"}).status_code == 422
    assert delays == [0, 0]
    # Another address is not slowed down.
    client.post("/connexion", data={"email": user.email, "password": "mauvais"},
                environ_base={"REMOTE_ADDR": "10.1.1.1"})
    assert delays == [0, 0]


def test_failures_on_one_account_from_many_addresses_block_it(client):
    user = make_user()
    for n in range(25):
        response = client.post("/connexion", data={"email": user.email, "password": "mauvais"},
                               environ_base={"REMOTE_ADDR": f"10.0.0.{n}"})
        assert response.status_code == (422 if n < 5 else 429), n
    response = client.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.0.1.1"})
    assert response.status_code == 429
    assert "Trop de tentatives de connexion. Par sécurité, réessayez dans 15 minutes" in text(response)
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 5  # refusals unchecked


def test_failures_on_an_account_from_one_address_block_that_pair_first(client, server, monkeypatch):
    monkeypatch.setitem(server.config, "LOGIN_MAX_FAILURES_PER_ACCOUNT", 8)
    monkeypatch.setitem(server.config, "LOGIN_MAX_FAILURES_PER_ADDRESS_AND_ACCOUNT", 3)
    user, other = make_user(), make_user()
    x, y = {"REMOTE_ADDR": "10.0.0.1"}, {"REMOTE_ADDR": "10.0.0.2"}
    for _ in range(3):
        assert client.post("/connexion", data={"email": user.email, "password": "mauvais"}, environ_base=x).status_code == 422
    # From X the account is refused, even with the right password...
    response = client.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD}, environ_base=x)
    assert response.status_code == 429 and "Trop de tentatives" in text(response)
    # ...another account from X is not...
    assert client.post("/connexion", data={"email": other.email, "password": DEFAULT_PASSWORD},
                       environ_base=x).status_code == 303
    client.post("/deconnexion")
    # ...and from Y the account still works, with its own tries (3 from X + 2 from Y < 8).
    for _ in range(2):
        assert client.post("/connexion", data={"email": user.email, "password": "mauvais"}, environ_base=y).status_code == 422
    assert make_client_login(client, user, y) == 303
    client.post("/deconnexion")
    # The success restarts both counts; spread over addresses, failures then reach the
    # account's limit and block it everywhere.
    for n in range(8):
        assert client.post("/connexion", data={"email": user.email, "password": "mauvais"},
                           environ_base={"REMOTE_ADDR": f"10.0.1.{n // 2}"}).status_code == 422
    assert make_client_login(client, user, {"REMOTE_ADDR": "10.0.2.1"}) == 429


def make_client_login(client, user, environ_base) -> int:
    return client.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD},
                       environ_base=environ_base).status_code


def test_deactivated_account_cannot_log_in(client):
    user = make_user(is_active=False)
    response = client.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 422
    assert "Ce compte est désactivé" in text(response)


def test_session_is_renewed_at_login(client, login):
    user = make_user()
    with client.session_transaction() as session:
        session["planted"] = "by-attacker"
    login(client, user)
    with client.session_transaction() as session:
        assert "planted" not in session
        first_token = session["auth_token"]
    client.post("/deconnexion")
    login(client, user)
    with client.session_transaction() as session:
        assert session["auth_token"] != first_token


def test_logout_revokes_the_server_session_even_if_the_cookie_is_replayed(client, login, make_client):
    user = make_user()
    login(client, user)
    cookie = client.get_cookie("incubateur_session")
    assert client.post("/deconnexion").status_code == 303
    assert client.get("/").status_code == 302
    replay = make_client()
    replay.set_cookie("incubateur_session", cookie.value)
    assert replay.get("/").status_code == 302


def test_logout_requires_post_and_csrf(client, login):
    user = make_user()
    login(client, user)
    assert client.get("/deconnexion").status_code == 405
    assert client.post("/deconnexion", csrf=False).status_code == 400
    assert client.get("/").status_code == 200


def test_idle_session_expires(client, login):
    user = make_user()
    login(client, user)
    db.session.query(AuthSession).update({"last_seen_at": utcnow() - timedelta(hours=5)})
    assert client.get("/").status_code == 302


def test_session_cookie_flags(client, server):
    user = make_user()
    response = client.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    # Production default: Secure (tests run over plain HTTP, see core/test_config.py).
    assert server.config["SESSION_COOKIE_NAME"] in cookie
