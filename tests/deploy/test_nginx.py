"""Debian's nginx in front of a real gunicorn, as in production: HTTPS with a self-signed
certificate, HTTP redirected, HSTS, static files served by nginx, a `Secure` session
cookie, the client's own address reaching the app (login records, request log) and the
login throttling counting that address, not nginx's.

nginx runs the shipped site file, deploy/nginx/incubateur.conf, with only its
placeholders replaced (ports, certificate, static folder, logs, upstream): each
replacement must find its text, so the test follows the file, and fails when a
placeholder changes without the test.

gunicorn runs with the project's gunicorn.conf.py and TRUSTED_PROXIES=1 (one proxy:
nginx), on the database of the suite's phase (its SQLite file, or its PostgreSQL database,
migrated by the `server` fixture); rows come from the factories, committed before the
requests. The module runs in both phases: the throttling counts in the database.

Clients come from addresses of their own: Linux routes all of 127.0.0.0/8 to the loopback
interface, so a client socket bound to 127.0.0.2 reaches nginx (listening on 127.0.0.1)
from 127.0.0.2, the address nginx appends to X-Forwarded-For.

Without nginx (or openssl) the module is skipped, saying what to install, except in CI
(CI=true) where it fails: `make test` installs nginx (scripts/system-deps.sh).
"""

from __future__ import annotations

import functools
import http.client
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from incubator.accounts.models import AuthSession, LoginAttempt
from incubator.audit.models import AuditEvent
from incubator.config import Defaults
from incubator.extensions import db
from tests.concurrency.live import Answer, Browser
from tests.factories import DEFAULT_PASSWORD, make_user

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "incubateur.conf"
VENV_BIN = Path(sys.executable).parent
STARTUP_TIMEOUT = 30  # seconds, for gunicorn and nginx to answer
CLIENT, OTHER_CLIENT = "127.0.0.2", "127.0.0.3"  # two machines, as nginx sees them
HSTS = "max-age=31536000"
NGINX_REQUEST_ID = re.compile(r"[0-9a-f]{32}")  # nginx's $request_id


# --------------------------------------------------------------------------- the stack


def required_tool(name: str, package: str) -> str:
    """The tool's path; if it is missing, skip (fail in CI) saying what to install."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path:
        return path
    message = (f"{name} introuvable : installez le paquet Debian {package} "
               "(scripts/system-deps.sh le fait, en root)")
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def replaced(text: str, old: str, new: str) -> str:
    if old not in text:
        raise AssertionError(f"{SITE.relative_to(ROOT)} ne contient plus « {old.strip()} » : "
                             "le test remplace ce texte, mettez-le à jour avec le fichier.")
    return text.replace(old, new)


def site_for_test(site: str, *, folder: Path, http_port: int, https_port: int,
                  upstream_port: int) -> str:
    """The shipped site with its placeholders replaced by the test's ports and files."""
    for old, new in [
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};"),
        # A container may have no IPv6: the test listens on 127.0.0.1 only.
        ("    listen [::]:80;\n", ""),
        ("    listen [::]:443 ssl http2;\n", ""),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        # Off port 443, the redirection must name the port.
        ("return 301 https://$host$request_uri;", f"return 301 https://$host:{https_port}$request_uri;"),
        ("/etc/ssl/certs/incubateur.crt", str(folder / "incubateur.crt")),
        ("/etc/ssl/private/incubateur.key", str(folder / "incubateur.key")),
        ("/srv/incubateur/static/", f"{folder / 'static'}/"),
        ("/var/log/nginx/", f"{folder / 'logs'}/"),
        ("/var/www/letsencrypt", str(folder / "letsencrypt")),
    ]:
        site = replaced(site, old, new)
    directives = "\n".join(line.split("#", 1)[0] for line in site.splitlines())  # not comments
    leftovers = [path for path in ("/etc/", "/srv/", "/var/", ":8000") if path in directives]
    assert not leftovers, (f"{SITE.relative_to(ROOT)} : chemins ou ports non remplacés par le test "
                           f"{leftovers} ; ajoutez leur remplacement dans site_for_test.")
    return site


def worker_user() -> str:
    for name in ("www-data", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    return "root"


def main_config(folder: Path, site_path: Path) -> str:
    """What /etc/nginx/nginx.conf gives a site on Debian, with the test's own files."""
    # As root, nginx's workers take the `user` of the configuration (Debian: www-data);
    # they read the static files, in the test's folder made readable for them.
    user = f"user {worker_user()};" if os.geteuid() == 0 else ""
    return f"""{user}
worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/logs/error.log;
events {{ worker_connections 128; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {folder}/logs/access.log;
    client_body_temp_path {folder}/temp/body;
    proxy_temp_path {folder}/temp/proxy;
    fastcgi_temp_path {folder}/temp/fastcgi;
    uwsgi_temp_path {folder}/temp/uwsgi;
    scgi_temp_path {folder}/temp/scgi;
    include {site_path};
}}
"""


class _FromAddress(urllib.request.HTTPSHandler):
    """HTTPS from a chosen local address, trusting the test's certificate."""

    handler_order = 499  # before the default HTTPS handler of build_opener

    def __init__(self, context: ssl.SSLContext, source: str):
        super().__init__(context=context)
        self.source = source

    def https_open(self, req):
        connection = functools.partial(http.client.HTTPSConnection, source_address=(self.source, 0))
        return self.do_open(connection, req, context=self._context)


@dataclass
class Stack:
    folder: Path
    https_url: str
    http_url: str
    gunicorn_url: str
    context: ssl.SSLContext
    https_port: int
    gunicorn_log: Path

    def browser(self, source: str = CLIENT) -> Browser:
        """A browser on the machine `source`, through nginx in HTTPS."""
        browser = Browser(self.https_url)
        browser.opener.add_handler(_FromAddress(self.context, source))
        return browser

    def app_records(self) -> list[dict]:
        """The app's request lines (JSON), from gunicorn's stderr."""
        records = []
        for line in self.gunicorn_log.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if record.get("logger") == "incubator.access":
                    records.append(record)
        return records

    def app_record(self, request_id: str) -> dict:
        """The app's line for one request (written as the response leaves: wait a little)."""
        deadline = time.monotonic() + 5
        while True:
            found = [r for r in self.app_records() if r.get("request_id") == request_id]
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"pas de ligne {request_id} dans le journal :\n{self.logs()}")
            time.sleep(0.05)

    def logs(self) -> str:
        parts = []
        for path in [self.gunicorn_log, *sorted((self.folder / "logs").glob("*.log"))]:
            if path.exists():
                text = path.read_text(encoding="utf-8", errors="replace")
                parts.append(f"---- {path.name} (fin)\n{text[-4000:]}")
        return "\n".join(parts)


def wait_until_answers(url: str, processes: dict[str, subprocess.Popen], logs,
                       context: ssl.SSLContext | None = None) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        for name, process in processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} s'est arrêté (code {process.returncode}) :\n{logs()}")
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as response:
                if response.status == 200:
                    return
        except OSError:  # refused, 502 while gunicorn starts...
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} ne répond pas après {STARTUP_TIMEOUT} s :\n{logs()}")
        time.sleep(0.1)


def stop(process: subprocess.Popen) -> None:
    """Quick shutdown (SIGINT, for nginx and gunicorn alike): nothing is left to finish."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def stack(server, database_url):
    """nginx (HTTPS, the shipped site) in front of gunicorn, on free ports; everything is
    stopped and removed afterwards."""
    nginx = required_tool("nginx", "nginx")
    openssl = required_tool("openssl", "openssl")
    # Not pytest's tmp_path (private to root): nginx's workers must read the static files.
    folder = Path(tempfile.mkdtemp(prefix="incubateur-nginx-"))
    folder.chmod(0o755)
    for sub in ("logs", "temp", "instance", "letsencrypt"):
        (folder / sub).mkdir()
    shutil.copytree(ROOT / "static", folder / "static")
    processes: dict[str, subprocess.Popen] = {}
    log_files = []
    try:
        subprocess.run(
            [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-addext", "keyUsage=critical,digitalSignature,keyCertSign",
             "-addext", "extendedKeyUsage=serverAuth",
             "-keyout", str(folder / "incubateur.key"), "-out", str(folder / "incubateur.crt")],
            check=True, capture_output=True, timeout=30,
        )
        http_port, https_port, upstream_port = free_port(), free_port(), free_port()
        site_path = folder / "incubateur.conf"
        site_path.write_text(site_for_test(SITE.read_text(encoding="utf-8"), folder=folder,
                                           http_port=http_port, https_port=https_port,
                                           upstream_port=upstream_port), encoding="utf-8")
        (folder / "nginx.conf").write_text(main_config(folder, site_path), encoding="utf-8")

        env = {name: value for name, value in os.environ.items() if not name.startswith("INCUBATEUR_")}
        env.update({
            "FLASK_APP": "wsgi:app",
            "SECRET_KEY": secrets.token_hex(32),
            "DATABASE_URL": database_url,
            "INCUBATEUR_INSTANCE_PATH": str(folder / "instance"),
            # As in production: one proxy (nginx), the session cookie Secure (the default).
            "INCUBATEUR_TRUSTED_PROXIES": "1",
            # One JSON object per line, static files included (DEBUG): read by the tests.
            "INCUBATEUR_LOG_FORMAT": "json",
            "INCUBATEUR_LOG_LEVEL": "DEBUG",
            "WEB_CONCURRENCY": "2",
            "GUNICORN_THREADS": "4",
        })
        gunicorn_log = folder / "gunicorn.log"
        log_files.append(open(gunicorn_log, "w"))
        stack = Stack(folder=folder, https_url=f"https://127.0.0.1:{https_port}",
                      http_url=f"http://127.0.0.1:{http_port}",
                      gunicorn_url=f"http://127.0.0.1:{upstream_port}",
                      context=ssl.create_default_context(cafile=str(folder / "incubateur.crt")),
                      https_port=https_port, gunicorn_log=gunicorn_log)
        processes["gunicorn"] = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "--config", "gunicorn.conf.py",
             "--bind", f"127.0.0.1:{upstream_port}", "--graceful-timeout", "5", "wsgi:app"],
            cwd=ROOT, env=env, stdout=log_files[-1], stderr=subprocess.STDOUT,
        )
        log_files.append(open(folder / "logs" / "nginx-stderr.log", "w"))
        processes["nginx"] = subprocess.Popen(
            [nginx, "-p", str(folder), "-c", str(folder / "nginx.conf"),
             "-e", str(folder / "logs" / "error.log")],
            stdout=log_files[-1], stderr=subprocess.STDOUT,
        )
        wait_until_answers(f"{stack.gunicorn_url}/healthz", processes, stack.logs)
        wait_until_answers(f"{stack.https_url}/healthz", processes, stack.logs, stack.context)
        yield stack
    finally:
        # nginx first: it closes its kept-alive connections, gunicorn then stops at once.
        for process in reversed(processes.values()):
            stop(process)
        for handle in log_files:
            handle.close()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def logs_on_failure(stack):
    """After each test, the end of the logs: pytest shows them when the test failed."""
    yield
    print(stack.logs())


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
    # nginx's request id reached the app, which sent it back.
    assert NGINX_REQUEST_ID.fullmatch(answer.headers["X-Request-ID"])
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
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "auth.login", AuditEvent.actor_id == user.id)) == 1
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
