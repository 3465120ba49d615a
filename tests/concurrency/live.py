"""A gunicorn server seen from outside, and the people who use it.

People are plain HTTP clients (urllib, a cookie jar each) that log in through the login
page and send the CSRF token the pages carry, in the header, like htmx does. Parallel
requests are released together by a barrier.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from email.message import Message
from pathlib import Path
from typing import Any, NamedTuple

from tests.factories import DEFAULT_PASSWORD

WORKERS = 3
THREADS = 4
REQUEST_TIMEOUT = 60
CSRF_RE = re.compile(r'"X-CSRFToken": "([^"]+)"')


class Answer(NamedTuple):
    status: int
    headers: Message
    text: str


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Keep the 303 itself: the tests look at what each POST answered."""

    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One person's browser: its own cookies, the CSRF token of the last page it loaded."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect())
        self.csrf_token = ""

    def request(self, method: str, path: str, data: dict[str, Any] | None = None, *,
                htmx: bool = False, timeout: float = REQUEST_TIMEOUT) -> Answer:
        body = urllib.parse.urlencode(data or {}, doseq=True).encode() if method == "POST" else None
        request = urllib.request.Request(self.base_url + path, data=body, method=method)
        if method == "POST":
            request.add_header("X-CSRFToken", self.csrf_token)
        if htmx:
            request.add_header("HX-Request", "true")
        try:
            with self.opener.open(request, timeout=timeout) as response:
                answer = Answer(response.status, response.headers, response.read().decode())
        except urllib.error.HTTPError as error:
            answer = Answer(error.code, error.headers, error.read().decode())
        match = CSRF_RE.search(answer.text)
        if match:
            self.csrf_token = match.group(1)
        return answer

    def get(self, path: str, **kwargs) -> Answer:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs) -> Answer:
        return self.request("POST", path, data, **kwargs)

    def log_in(self, email: str, password: str = DEFAULT_PASSWORD) -> Answer:
        self.get("/connexion")
        answer = self.post("/connexion", {"email": email, "password": password})
        if answer.status == 303:
            self.get("/")  # login starts a new session: take its CSRF token
        return answer


class LiveServer:
    def __init__(self, process: subprocess.Popen, base_url: str, log_path: Path):
        self.process = process
        self.base_url = base_url
        self.log_path = log_path
        self.check_log = True  # see the `live` fixture

    def browser(self) -> Browser:
        return Browser(self.base_url)

    def logged_in(self, *users) -> list[Browser]:
        """One browser per user, logged in (in parallel: password hashing is slow)."""

        def log_in(email: str) -> Browser:
            browser = self.browser()
            answer = browser.log_in(email)
            assert answer.status == 303, (email, answer.status, answer.text[:500])
            return browser

        emails = [user.email for user in users]  # read here: threads have no app context
        with ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(log_in, emails))

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def log_since(self, offset: int) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as handle:
            handle.seek(offset)
            return handle.read()

    def worker_pids(self) -> list[int]:
        """The master's children, read from /proc."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                pids.append(int(entry.name))
        return sorted(pids)

    def kill_workers(self) -> list[int]:
        pids = self.worker_pids()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return pids

    def wait_until_ready(self, timeout: float = 30, *, excluding: list[int] = ()) -> None:
        """Every worker running (none of `excluding`, killed) and the server answering."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("Le serveur gunicorn s'est arrêté :\n" + self.log()[-5000:])
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=2) as response:
                    workers = set(self.worker_pids()) - set(excluding)
                    if response.status == 200 and len(workers) >= WORKERS:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("Le serveur gunicorn ne répond pas :\n" + self.log()[-5000:])
            time.sleep(0.1)


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in parallel threads released together; their results, in order.
    A call that raised gives its exception as result."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait(timeout=30)
        try:
            return call()
        except Exception as exc:  # noqa: BLE001 - the test decides what is acceptable
            return exc

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(run, call) for call in calls]
        return [future.result(timeout=REQUEST_TIMEOUT * 2) for future in futures]


def statuses(answers) -> list[int | str]:
    return sorted(a.status if isinstance(a, Answer) else type(a).__name__ for a in answers)
