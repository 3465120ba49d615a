"""Browser journeys: a real gunicorn server on a demo database, driven by Debian's
Chromium through Playwright, with an axe-core accessibility check on the pages visited.

These tests fail (never skip) when the browser or the server cannot be started.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from . import validators

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
ARTIFACTS = ROOT / "test-artifacts"
DEMO_PASSWORD = "incubateur-demo"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_instance(tmp_path_factory) -> Path:
    """The instance folder of the live server (its database, and instance/mail/ where the
    emails are written: see flask_command)."""
    return tmp_path_factory.mktemp("instance")


def live_env(instance: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "FLASK_APP": "wsgi:app",
        "INCUBATEUR_INSTANCE_PATH": str(instance),
        "SECRET_KEY": "e2e-secret-key",
        "INCUBATEUR_SESSION_COOKIE_SECURE": "false",
    }
    env.pop("DATABASE_URL", None)
    return env


def flask_command(instance: Path, *args: str) -> str:
    """Run `flask …` on the live server's instance (e.g. `notifications send`)."""
    return subprocess.run([str(VENV_BIN / "flask"), *args], cwd=ROOT, env=live_env(instance), check=True,
                          capture_output=True, text=True).stdout


@pytest.fixture(scope="session")
def live_server(live_instance):
    instance = live_instance
    env = live_env(instance)
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run([str(VENV_BIN / "flask"), *command], cwd=ROOT, env=env, check=True,
                       capture_output=True)
    port = _free_port()
    log = open(instance / "gunicorn.log", "w")
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--worker-class", "gthread", "--threads", "4", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("Le serveur gunicorn n'a pas démarré :\n"
                               + (instance / "gunicorn.log").read_text())
        time.sleep(0.2)
    yield base_url
    process.terminate()
    process.wait(timeout=10)
    log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"Chromium introuvable ({CHROMIUM}) : installez le paquet Debian chromium.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             headless=True)
        yield browser
        browser.close()


def open_page(browser, live_server, *, width: int = 1280):
    """A fresh browser context (a person) and its page; confirmation dialogs are accepted."""
    context = browser.new_context(base_url=live_server, locale="fr-FR",
                                  viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("dialog", lambda dialog: dialog.accept())
    validators.follow(page)
    return page


@pytest.fixture
def page(browser, live_server, request):
    page = open_page(browser, live_server)
    context = page.context
    problems: list[str] = []
    # HTTP errors the journey expects (403, 422) show up as "Failed to load resource";
    # what must never happen is a script error or a CSP violation.
    page.on("console", lambda m: problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.csp_and_script_problems = problems
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert not problems, f"Erreurs JavaScript ou CSP dans la page : {problems}"


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)


def login(page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/connexion")
    page.get_by_label("Adresse électronique ou identifiant").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/")


def assert_accessible(page) -> None:
    """The validators of tests/e2e/validators.py on the page as it is now (axe-core at 1280
    and 320 px, pa11y, reflow, focus indicators; its served HTML kept for the Nu Html
    Checker). Their findings are collected: the test fails at its end with all of them
    (validator_findings), so one journey reports every page it checks."""
    validators.check_page(page)


@pytest.fixture(autouse=True)
def validator_findings():
    validators.start_test()
    yield
    findings = validators.findings_of_test()
    if findings and not validators.REPORT_ONLY:
        pages = len({(f.url, f.user) for f in findings})
        pytest.fail(validators.report(findings, pages), pytrace=False)


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the controller (or the only process)
        validators.reset_output()


def pytest_sessionfinish(session, exitstatus):
    validators.save_page_count()
    if hasattr(session.config, "workerinput"):
        return  # the controller runs the Nu Html Checker once the workers are done
    vnu_started = time.monotonic()
    findings = validators.run_vnu()
    vnu_seconds = time.monotonic() - vnu_started
    vnu_found = bool(findings)
    findings = validators.all_findings() + findings
    pages, seconds = validators.checked_pages()
    text = validators.report(findings, pages, seconds) + f"\nNu Html Checker : {vnu_seconds:.0f} s."
    (validators.OUTPUT / "report.txt").write_text(text + "\n", encoding="utf-8")
    session.config.validators_report = text
    if vnu_found and not validators.REPORT_ONLY and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, config):
    text = getattr(config, "validators_report", None)
    if text:
        terminalreporter.section("Validateurs (issue 20)")
        terminalreporter.write_line(text)
        terminalreporter.write_line(f"(aussi dans {validators.OUTPUT / 'report.txt'})")
