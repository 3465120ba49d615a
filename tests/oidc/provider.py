"""The test OpenID Connect provider (tests/oidc/provider/server.mjs, npm package
oidc-provider) as a process: installed by scripts/oidc-provider.sh when missing, started on
a free port of 127.0.0.1, and driven like a browser would (requests) for the tests that
use the HTTP client. Shared by tests/oidc and the browser journey (tests/e2e)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_DIR = Path(__file__).resolve().parent / "provider"
CLIENT_ID = "incubateur-tests"
# Digits only, like some real secrets: read from the environment, it must stay text.
CLIENT_SECRET = "20261130123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_node() -> None:
    """node and npm, and the provider installed: outside CI a missing node skips; in CI
    (CI=true) it fails, never skipping."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        message = (f"{' et '.join(missing)} introuvable(s) : les tests de connexion unique démarrent "
                   "un vrai fournisseur OpenID Connect (Node.js 20+, npm ; sudo apt-get install nodejs npm).")
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").exists():
        subprocess.run(["bash", str(ROOT / "scripts" / "oidc-provider.sh")], check=True)


class ProviderProcess:
    # It starts in about a second. Once in a CI run, beside the browsers and validators of
    # the other worker, it had not answered after 30 s: a second try, on another port.
    ATTEMPTS, SECONDS = 2, 45

    def __init__(self, redirect_uris: list[str], post_logout_redirect_uris: list[str]):
        require_node()
        env = {**os.environ, "CLIENT_ID": CLIENT_ID, "CLIENT_SECRET": CLIENT_SECRET,
               "REDIRECT_URIS": " ".join(redirect_uris),
               "POST_LOGOUT_REDIRECT_URIS": " ".join(post_logout_redirect_uris)}
        failures = []
        for _attempt in range(self.ATTEMPTS):
            last = self._start(env)
            if last is None:
                return
            failures.append(f"port {self.port} ({last}) :\n{self.log()}")
        raise RuntimeError("Le fournisseur OpenID Connect de test n'a pas démarré :\n" + "\n".join(failures))

    def _start(self, env: dict[str, str]) -> str | None:
        """None once the provider answers; else, stopped, the last thing its address did."""
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(tempfile.mkstemp(prefix="oidc-provider-", suffix=".log")[1])
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(["node", "server.mjs"], cwd=PROVIDER_DIR, stdout=self._log,
                                        stderr=subprocess.STDOUT, env={**env, "PORT": str(self.port)})
        deadline = time.monotonic() + self.SECONDS
        last = "aucune réponse"
        while True:
            try:
                response = requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=1)
                if response.ok:
                    return None
                last = f"HTTP {response.status_code}"
            except requests.RequestException as error:
                last = type(error).__name__
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                return last
            time.sleep(0.2)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._log.close()

    # Test controls (server.mjs).
    def set_accounts(self, accounts: dict[str, dict]) -> None:
        requests.post(f"{self.issuer}/__test__/accounts", json=accounts, timeout=5).raise_for_status()

    def publish_rogue_keys(self, rogue: bool) -> None:
        requests.post(f"{self.issuer}/__test__/jwks", json={"rogue": rogue}, timeout=5).raise_for_status()

    # A person at the provider, with a browser of their own (its cookies).
    def sign_in(self, authorization_url: str, login: str | None, *, browser: requests.Session | None = None,
                cancel: bool = False) -> str:
        """Follow the authorization request through the provider's login page, type `login`
        (or cancel), and return the address the provider sends back to (the callback)."""
        browser = browser or requests.Session()
        response = self._follow(browser, browser.get(authorization_url, allow_redirects=False))
        if response.headers.get("Location"):  # already signed in at the provider
            return response.headers["Location"]
        action = re.search(r'<form method="post" action="([^"]+)"', response.text)
        assert action, f"page de connexion du fournisseur attendue :\n{response.text[:1000]}"
        if cancel:
            link = re.search(r'<a href="([^"]+/abort)"', response.text).group(1)
            response = browser.get(urljoin(response.url, link), allow_redirects=False)
        else:
            response = browser.post(urljoin(response.url, unescape(action.group(1))), data={"login": login},
                                    allow_redirects=False)
        response = self._follow(browser, response)
        return response.headers["Location"]

    def log_out(self, logout_url: str, *, browser: requests.Session) -> str:
        """Follow the provider's logout (its page sends a form by itself): the return address."""
        response = self._follow(browser, browser.get(logout_url, allow_redirects=False))
        form = re.search(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', response.text, re.S)
        assert form, f"page de déconnexion du fournisseur attendue :\n{response.text[:1000]}"
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(2)))
        response = self._follow(browser, browser.post(urljoin(response.url, unescape(form.group(1))),
                                                      data=fields, allow_redirects=False))
        return response.headers["Location"]

    def _follow(self, browser: requests.Session, response: requests.Response) -> requests.Response:
        """Redirects within the provider; stops at one leaving it (or at a page)."""
        while response.is_redirect:
            target = urljoin(response.url, response.headers["Location"])
            if not target.startswith(self.issuer):
                response.headers["Location"] = target
                return response
            response = browser.get(target, allow_redirects=False)
        return response
