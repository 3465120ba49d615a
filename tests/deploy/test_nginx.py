"""Debian's nginx in front of a real gunicorn, as in production (tests/deploy/stack.py):
HTTPS with a self-signed certificate, HTTP redirected, HSTS, static files served by nginx,
a `Secure` session cookie, the body size limit, the client's own address reaching the app
(login records, request log) and the login throttling counting that address, not nginx's.

The database is the one of the suite's phase (its SQLite file, or its PostgreSQL
database); rows come from the factories, committed before the requests. The module runs in
both phases: the throttling counts in the database.

Clients come from addresses of their own: Linux routes all of 127.0.0.0/8 to the loopback
interface, so a client socket bound to 127.0.0.2 reaches nginx (listening on 127.0.0.1)
from 127.0.0.2, the address nginx appends to X-Forwarded-For.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from incubator import create_app
from incubator.accounts.models import AuthSession, LoginAttempt
from incubator.audit.models import AuditEvent
from incubator.checks import check_trusted_proxies
from incubator.config import Defaults
from incubator.extensions import db
from tests.concurrency.live import Answer
from tests.conftest import app_config
from tests.factories import DEFAULT_PASSWORD, make_user

from .stack import CLIENT, ROOT

OTHER_CLIENT = "127.0.0.3"  # another machine
HSTS = "max-age=31536000"


def fresh() -> None:
    """End the test's snapshot: read what gunicorn committed."""
    db.session.rollback()
    db.session.expire_all()


def set_cookie(answer: Answer, name: str) -> list[str]:
    """The attributes of the Set-Cookie of `name`, lower case."""
    for header in answer.headers.get_all("Set-Cookie") or []:
        if header.startswith(f"{name}="):
            return [part.strip().lower() for part in header.split(";")[1:]]
    raise AssertionError(f"pas de cookie {name} : {answer.headers.get_all('Set-Cookie')}")


# --------------------------------------------------------------------------- the tests


def test_pages_are_served_over_https_with_one_hsts_header(stack):
    answer = stack.browser().get("/connexion")
    assert answer.status == 200
    assert "Connexion" in answer.text
    assert answer.headers["Server"] == "nginx"  # server_tokens off: no version
    # nginx's request id reached the app, which sent it back: the same in both logs.
    request_id = answer.headers["X-Request-ID"]
    assert stack.nginx_access_line(request_id).startswith(f"{CLIENT} - ")
    assert stack.app_record(request_id)["path"] == "/connexion"
    assert answer.headers["Content-Security-Policy"]  # the app's own headers pass through
    # One HSTS header: nginx's (the app's is hidden, two would be a mistake).
    assert answer.headers.get_all("Strict-Transport-Security") == [HSTS]
    # The same on an error nginx makes itself (always).
    missing = stack.browser().get("/static/absent.css")
    assert missing.status == 404
    assert missing.headers.get_all("Strict-Transport-Security") == [HSTS]


class _NoRedirectHTTP(urllib.request.HTTPRedirectHandler):
    """Keep the redirection itself."""

    def redirect_request(self, *args, **kwargs):
        return None


def test_http_is_redirected_to_https(stack):
    request = urllib.request.Request(f"{stack.http_url}/propositions?theme=3")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.build_opener(_NoRedirectHTTP()).open(request, timeout=10)
    assert refused.value.code == 301
    assert refused.value.headers["Location"] == \
        f"https://127.0.0.1:{stack.https_port}/propositions?theme=3"


def test_static_files_are_served_by_nginx(stack):
    def static_lines() -> int:
        return len([r for r in stack.app_records() if r["path"].startswith("/static/")])

    seen_by_gunicorn = static_lines()
    served = stack.browser().get("/static/css/app.css")
    assert served.status == 200
    assert served.text == (ROOT / "static" / "css" / "app.css").read_text(encoding="utf-8")
    assert served.headers["Content-Type"].startswith("text/css")
    # What only nginx sends: its cache header, and no X-Request-ID (the app sets one on
    # every response, static files included).
    assert served.headers["Cache-Control"] == "public, max-age=3600"
    assert "X-Request-ID" not in served.headers
    assert served.headers.get_all("Strict-Transport-Security") == [HSTS]
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    # Not fingerprinted, so revalidated: unchanged, nginx answers 304 without the file.
    request = urllib.request.Request(f"{stack.https_url}/static/css/app.css",
                                     headers={"If-None-Match": served.headers["ETag"]})
    with pytest.raises(urllib.error.HTTPError) as not_modified:
        urllib.request.urlopen(request, timeout=10, context=stack.context)
    assert not_modified.value.code == 304
    # Versioned third-party files are kept a year.
    vendor = stack.browser().get("/static/vendor/htmx-2.0.11/htmx.min.js")
    assert vendor.status == 200
    assert vendor.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # gunicorn never saw them: its log (DEBUG, static files included) has no line for
    # them, while a request made to gunicorn directly gets one.
    assert static_lines() == seen_by_gunicorn
    with urllib.request.urlopen(f"{stack.gunicorn_url}/static/css/app.css", timeout=10) as direct:
        assert direct.headers["Cache-Control"] == "no-cache"
        request_id = direct.headers["X-Request-ID"]
    assert stack.app_record(request_id)["path"] == "/static/css/app.css"


def test_session_cookie_is_secure_and_http_only(stack):
    user = make_user()
    db.session.commit()
    browser = stack.browser()
    browser.get("/connexion")
    answer = browser.post("/connexion", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert answer.status == 303, answer.text[:500]
    attributes = set_cookie(answer, Defaults.SESSION_COOKIE_NAME)
    assert "secure" in attributes and "httponly" in attributes and "samesite=lax" in attributes
    # The browser sends it back over HTTPS: logged in.
    home = browser.get("/")
    assert home.status == 200
    assert home.headers["Cache-Control"] == "no-store"


def test_the_client_address_reaches_the_app(stack):
    """nginx appends the address it saw (127.0.0.2) to X-Forwarded-For, the app trusts that
    one only (TRUSTED_PROXIES=1): not nginx's 127.0.0.1, nor what the client claims."""
    user = make_user()
    db.session.commit()
    browser = stack.browser(CLIENT)
    browser.opener.addheaders.append(("X-Forwarded-For", "203.0.113.7"))  # a lie
    browser.get("/connexion")
    answer = browser.post("/connexion", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert answer.status == 303, answer.text[:500]
    fresh()
    assert db.session.scalar(select(LoginAttempt.ip_address).where(LoginAttempt.email == user.email)) == CLIENT
    assert db.session.scalar(select(AuthSession.ip_address).where(AuthSession.user_id == user.id)) == CLIENT
    [sign_in] = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "auth.login", AuditEvent.actor_id == user.id)).all()
    assert sign_in.data["address"] == CLIENT  # the audit log's sign-in entry names the client
    assert stack.nginx_access_line(answer.headers["X-Request-ID"]).startswith(f"{CLIENT} - ")
    line = stack.app_record(answer.headers["X-Request-ID"])
    assert (line["method"], line["path"], line["status"], line["client"]) == \
        ("POST", "/connexion", 303, CLIENT)
    assert str(line["user_id"]) == str(user.id)


def test_failures_from_one_address_do_not_lock_out_another(stack):
    """25 failed logins from 127.0.0.2 (5 on each of 5 accounts): those accounts are
    locked (5 failures lock an account, wherever they come from, until the window ends),
    every other account still logs in at once, from another machine and from 127.0.0.2
    itself (failures from an address only slow it down, beyond 100)."""
    targets = [make_user() for _ in range(5)]
    colleague, neighbour = make_user(), make_user()
    db.session.commit()
    emails = [user.email for user in targets]  # read here: threads have no app context

    def guess(email: str) -> list[int]:
        browser = stack.browser(CLIENT)
        browser.get("/connexion")
        return [browser.post("/connexion", {"email": email, "password": f"essai-{n}"}).status
                for n in range(5)]

    with ThreadPoolExecutor(max_workers=len(emails)) as pool:
        assert list(pool.map(guess, emails)) == [[422] * 5] * 5
    fresh()
    failures = select(func.count()).select_from(LoginAttempt).where(LoginAttempt.succeeded.is_(False))
    assert db.session.scalar(failures.where(LoginAttempt.ip_address == CLIENT)) == 25
    assert db.session.scalar(failures.where(LoginAttempt.ip_address != CLIENT)) == 0

    def log_in(source: str, user) -> int:
        browser = stack.browser(source)
        browser.get("/connexion")
        return browser.post("/connexion", {"email": user.email, "password": DEFAULT_PASSWORD}).status

    # The attacked account, with its right password: refused from the guessing machine
    # (address and account) and, the account limit being reached, from any other.
    assert log_in(CLIENT, targets[0]) == 429
    assert log_in(OTHER_CLIENT, targets[0]) == 429
    # Everyone else gets in, from elsewhere or from the same address (one institution
    # behind one address is never locked out by someone else's mistakes).
    assert log_in(OTHER_CLIENT, colleague) == 303
    assert log_in(CLIENT, neighbour) == 303
    fresh()
    assert db.session.scalar(select(AuthSession.ip_address).where(AuthSession.user_id == colleague.id)) == OTHER_CLIENT


def test_bodies_over_the_app_limit_are_refused_by_nginx(stack):
    """client_max_body_size matches MAX_CONTENT_LENGTH: nginx answers 413 from the headers,
    without reading the body or bothering gunicorn."""
    connection = http.client.HTTPSConnection("127.0.0.1", stack.https_port, context=stack.context,
                                             timeout=10)
    try:
        connection.putrequest("POST", "/admin/import")
        connection.putheader("Content-Type", "text/csv")
        connection.putheader("Content-Length", str(Defaults.MAX_CONTENT_LENGTH + 1))
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 413
        assert response.getheader("Server") == "nginx"
        assert response.getheader("X-Request-ID") is None
    finally:
        connection.close()


def test_flask_check_sees_one_proxy_through_nginx(stack, database_url, monkeypatch):
    """`flask check` of the same installation (same SECRET_KEY), probing through nginx over
    HTTPS: one proxy, so TRUSTED_PROXIES=1 is right, and 0 or 2 are named as wrong."""
    monkeypatch.setenv("SSL_CERT_FILE", str(stack.folder / "incubateur.crt"))
    for name in ("https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)

    def check(proxies: int) -> list[str]:
        app = create_app(app_config(database_url, SECRET_KEY=stack.secret_key, TRUSTED_PROXIES=proxies))
        return [f"{f.level}: {f.message}" for f in check_trusted_proxies(app, stack.https_url)]

    assert check(1) == []
    [too_low] = check(0)
    assert too_low.startswith("erreur: TRUSTED_PROXIES = 0, mais") and "Mettez TRUSTED_PROXIES=1" in too_low
    [too_high] = check(2)
    assert "seulement 1 mandataire(s)" in too_high
