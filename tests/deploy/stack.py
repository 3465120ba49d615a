"""Debian's nginx, configured from the shipped site file, in front of a real gunicorn:
the stack tests/deploy/test_nginx.py talks to, from client addresses of its own.

nginx runs deploy/nginx/incubateur.conf with only its placeholders replaced (ports,
certificate, static folder, logs, upstream): each replacement must find its text, so the
test follows the file, and fails when a placeholder changes without the test. A
self-signed certificate (openssl) stands for the real one.

gunicorn runs with the project's gunicorn.conf.py and TRUSTED_PROXIES=1 (one proxy:
nginx), the session cookie Secure (the default), and JSON logs at DEBUG (static files
included), which the tests read.

Without nginx (or openssl), the tests are skipped, saying what to install, except in CI
(CI=true) where they fail: `make test` installs nginx (scripts/system-deps.sh).
"""

from __future__ import annotations

import functools
import http.client
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.concurrency.live import Browser

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "incubateur.conf"
VENV_BIN = Path(sys.executable).parent
STARTUP_TIMEOUT = 30  # seconds, for gunicorn and nginx to answer
CLIENT = "127.0.0.2"  # the default client machine, as nginx sees it


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
        ("/opt/incubateur/app/static/", f"{folder / 'static'}/"),
        ("/var/log/nginx/", f"{folder / 'logs'}/"),
        ("/var/www/letsencrypt", str(folder / "letsencrypt")),
    ]:
        site = replaced(site, old, new)
    directives = "\n".join(line.split("#", 1)[0] for line in site.splitlines())  # not comments
    leftovers = [path for path in ("/etc/", "/opt/", "/var/", ":8000") if path in directives]
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
    secret_key: str

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
        return self._waiting_for(
            lambda: next((r for r in self.app_records() if r.get("request_id") == request_id), None),
            f"pas de ligne {request_id} dans le journal de l'application")

    def nginx_access_line(self, request_id: str) -> str:
        """nginx's access log line for one request (log_format incubateur: its id last)."""
        path = self.folder / "logs" / "incubateur.access.log"
        return self._waiting_for(
            lambda: next((line for line in path.read_text(encoding="utf-8").splitlines()
                          if line.endswith(f" {request_id}")), None),
            f"pas de ligne {request_id} dans le journal de nginx")

    def _waiting_for(self, find, failure: str):
        """What `find` returns once it is not None (logs are written as responses leave)."""
        deadline = time.monotonic() + 5
        while (found := find()) is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"{failure} :\n{self.logs()}")
            time.sleep(0.05)
        return found

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



@contextmanager
def running_stack(database_url: str) -> Iterator[Stack]:
    """nginx (HTTPS, the shipped site) in front of gunicorn (on `database_url`, migrated),
    on free ports; everything is stopped and removed afterwards."""
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

        secret_key = secrets.token_hex(32)
        env = {name: value for name, value in os.environ.items() if not name.startswith("INCUBATEUR_")}
        env.update({
            "FLASK_APP": "wsgi:app",
            "SECRET_KEY": secret_key,
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
                      https_port=https_port, gunicorn_log=gunicorn_log, secret_key=secret_key)
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
