"""A minimal HTTP client for the load run: the session cookie and the CSRF token the pages
carry, as a browser using the app would.

By default each request opens its own connection, as nginx does in front of gunicorn (its
default upstream protocol is HTTP/1.0 without keep-alive, the setup gunicorn documents):
the kernel then hands each request to whichever worker accepts first. With keep-alive
connections, each client stays on one worker for the whole run, and three clients out of
four on the same process made the measure depend on that draw rather than on the app."""

from __future__ import annotations

import http.client
import re
import time
from urllib.parse import urlencode

CSRF_HEADER = re.compile(r'"X-CSRFToken": "([^"]+)"')


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes, seconds: float):
        self.status, self.headers, self.body, self.seconds = status, headers, body, seconds

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def queries(self) -> int | None:
        value = self.headers.get("x-query-count")
        return int(value) if value is not None else None

    @property
    def timing(self) -> dict[str, float]:
        """The Server-Timing header's parts, in ms: {"total": 12.3, "sql": 4.1, ...}."""
        parts = {}
        for part in self.headers.get("server-timing", "").split(","):
            name, _, duration = part.strip().partition(";dur=")
            if name and duration:
                parts[name] = float(duration)
        return parts


class Client:
    def __init__(self, host: str, port: int, timeout: float = 120, keep_alive: bool = False):
        self.host, self.port, self.timeout, self.keep_alive = host, port, timeout, keep_alive
        self.connection: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def request(self, method: str, path: str, data: dict | None = None, *, htmx: bool = False,
                read: bool = True) -> Response:
        headers = {"Accept": "text/html"}
        body = None
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method != "GET":
            headers["X-CSRFToken"] = self.csrf
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urlencode(data or {}, doseq=True)
        if htmx:
            headers["HX-Request"] = "true"
        if not self.keep_alive:
            headers["Connection"] = "close"
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            started = time.perf_counter()
            try:
                self.connection.request(method, path, body=body, headers=headers)
                raw = self.connection.getresponse()
                payload = raw.read() if read else _drain(raw)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    raise
                continue
            seconds = time.perf_counter() - started
            break
        response_headers = {k.lower(): v for k, v in raw.getheaders()}
        for name, value in raw.getheaders():
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, cookie = pair.partition("=")
                self.cookies[key.strip()] = cookie.strip()
        if not self.keep_alive or raw.getheader("Connection", "").lower() == "close":
            self.connection.close()
            self.connection = None
        return Response(raw.status, response_headers, payload, seconds)

    def login(self, email: str, password: str) -> None:
        page = self.request("GET", "/connexion")
        token = CSRF_HEADER.search(page.text)
        if not token:
            raise RuntimeError("Jeton CSRF introuvable sur /connexion")
        self.csrf = token.group(1)
        response = self.request("POST", "/connexion", {"email": email, "password": password})
        if response.status != 303:
            raise RuntimeError(f"Connexion refusée pour {email} ({response.status})")
        home = self.request("GET", "/")
        header = CSRF_HEADER.search(home.text)
        if not header:
            raise RuntimeError("Jeton CSRF introuvable après la connexion")
        self.csrf = header.group(1)


def _drain(raw) -> bytes:
    """Read a large (streamed) body without keeping it: its size only."""
    size = 0
    while chunk := raw.read(1 << 16):
        size += len(chunk)
    return str(size).encode()
