"""`flask check` compares TRUSTED_PROXIES with the forwarding headers a probe really arrives
with: the application served on a real socket, behind zero, one or two small forwarding
proxies (each adds the address it saw to X-Forwarded-For, as nginx does)."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from werkzeug.serving import make_server

from incubator import create_app
from incubator.checks import (
    ERROR,
    PROXY_PROBE_HEADER,
    WARNING,
    check_trusted_proxies,
    proxy_probe_token,
)
from tests.conftest import app_config

KEY = "c0ffee" * 6  # 36 characters, the same on the server and in `flask check`


@contextmanager
def serving(server) -> Iterator[str]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def application(database_url) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, create_app(app_config(database_url, SECRET_KEY=KEY)), threaded=True)
    with serving(server) as url:
        yield url


@contextmanager
def forwarding_proxy(upstream: str, *, forward_proto: bool = True) -> Iterator[str]:
    host, port = upstream.removeprefix("http://").split(":")

    class Forward(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            headers = {k: v for k, v in self.headers.items() if k.lower() not in {"host", "connection"}}
            chain = [headers.pop(k) for k in list(headers) if k.lower() == "x-forwarded-for"]
            headers["X-Forwarded-For"] = ", ".join([*chain, self.client_address[0]])
            if forward_proto:
                headers.setdefault("X-Forwarded-Proto", "https")
            connection = http.client.HTTPConnection(host, int(port), timeout=5)
            connection.request("GET", self.path, headers=headers)
            answer = connection.getresponse()
            body = answer.read()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in {"transfer-encoding", "connection", "content-length"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            connection.close()

        def log_message(self, *args) -> None:
            pass

    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Forward)) as url:
        yield url


def checking(database_url, proxies: int, key: str = KEY):
    """The application `flask check` runs in, with its own TRUSTED_PROXIES."""
    return create_app(app_config(database_url, SECRET_KEY=key, TRUSTED_PROXIES=proxies))


def verdict(database_url, url: str, proxies: int) -> list[tuple[str, str]]:
    return [(f.level, f.message) for f in check_trusted_proxies(checking(database_url, proxies), url)]


def test_directly_reached_only_zero_is_right(database_url):
    with application(database_url) as url:
        assert verdict(database_url, url, 0) == []
        [(level, message)] = verdict(database_url, url, 1)
    assert level == ERROR
    assert "TRUSTED_PROXIES = 1, mais la requête de contrôle" in message
    assert "sans en-tête X-Forwarded-For" in message and "Mettez TRUSTED_PROXIES=0" in message


def test_behind_one_proxy_only_one_is_right(database_url):
    with application(database_url) as app_url, forwarding_proxy(app_url) as url:
        assert verdict(database_url, url, 1) == []
        [(too_low, low_message)] = verdict(database_url, url, 0)
        [(too_high, high_message)] = verdict(database_url, url, 2)
    assert too_low == too_high == ERROR
    assert "TRUSTED_PROXIES = 0, mais" in low_message and "passée par 1 mandataire(s)" in low_message
    assert "Mettez TRUSTED_PROXIES=1" in low_message
    assert "seulement 1 mandataire(s)" in high_message and "Mettez TRUSTED_PROXIES=1" in high_message


def test_behind_two_proxies_only_two_is_right(database_url):
    with application(database_url) as app_url, forwarding_proxy(app_url) as inner, forwarding_proxy(inner) as url:
        assert verdict(database_url, url, 2) == []
        [(level, message)] = verdict(database_url, url, 1)
    assert level == ERROR
    assert "2 mandataires ont relayé" in message and "Mettez TRUSTED_PROXIES=2" in message


def test_a_proxy_that_drops_the_scheme_is_named(database_url):
    with application(database_url) as app_url, forwarding_proxy(app_url, forward_proto=False) as url:
        [(level, message)] = verdict(database_url, url, 1)
    assert level == ERROR and message.startswith("X-Forwarded-Proto absent")


def test_what_cannot_be_checked_is_a_warning(database_url):
    with application(database_url) as url:
        [(level, message)] = verdict_with_key(database_url, url, "autre-clé-" + "9" * 30)
    assert level == WARNING and "même SECRET_KEY" in message
    with application(database_url) as url:
        pass  # stopped: nothing listens there any more
    [(level, message)] = verdict(database_url, url, 1)
    assert level == WARNING and message.startswith("TRUSTED_PROXIES non vérifié")


def verdict_with_key(database_url, url: str, key: str) -> list[tuple[str, str]]:
    return [(f.level, f.message) for f in check_trusted_proxies(checking(database_url, 0, key), url)]


def test_without_base_url_zero_proxies_need_no_probe_but_more_do(database_url):
    assert check_trusted_proxies(checking(database_url, 0)) == []  # BASE_URL on this machine
    [finding] = check_trusted_proxies(checking(database_url, 1))
    assert finding.level == WARNING and "sans BASE_URL" in finding.message


def test_healthz_tells_the_headers_only_to_a_signed_probe(client, app):
    plain = client.get("/healthz", headers={"X-Forwarded-For": "203.0.113.9"})
    assert plain.status_code == 200 and plain.text == "ok\n"
    forged = client.get("/healthz", headers={PROXY_PROBE_HEADER: "sonde.fausse.signature"})
    assert forged.text == "ok\n"
    probe = client.get("/healthz", headers={PROXY_PROBE_HEADER: proxy_probe_token(app),
                                            "X-Forwarded-For": "203.0.113.9, 10.0.0.2"})
    assert probe.json == {"forwarded_for": ["203.0.113.9", "10.0.0.2"], "forwarded_proto": "",
                          "peer": "127.0.0.1"}
    assert probe.headers["Cache-Control"] == "no-store"


def test_the_command_names_the_problem_and_fails(database_url):
    with application(database_url) as app_url, forwarding_proxy(app_url) as url:
        result = checking(database_url, 0).test_cli_runner().invoke(args=["check", "--url", url])
    assert result.exit_code == 1
    assert "ERREUR : TRUSTED_PROXIES = 0, mais la requête de contrôle" in result.output


@pytest.fixture(autouse=True)
def _no_proxy_environment(monkeypatch):
    """urllib honours http_proxy: the probe must reach the servers of the test."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
