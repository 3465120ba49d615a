"""Single sign-on in a real browser: the demo server configured with the test OpenID Connect
provider (tests/oidc/provider.py, oidc-provider configured like ProConnect). The
administration tells which email domain is the city's; an agent signs in through the
provider's button, then signs out through the provider and back."""

from __future__ import annotations

import os
import re
import subprocess
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.oidc.provider import CLIENT_ID, CLIENT_SECRET, ProviderProcess, free_port

from .conftest import ROOT, VENV_BIN, assert_accessible, login

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def sso_server(tmp_path_factory):
    """gunicorn on a demo database, with ProConnect (the test provider) configured."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    provider = ProviderProcess([f"{base_url}/connexion/oidc/retour"], [f"{base_url}/deconnexion/retour"])
    instance = tmp_path_factory.mktemp("instance-sso")
    env = {**os.environ, "FLASK_APP": "wsgi:app", "INCUBATEUR_INSTANCE_PATH": str(instance),
           "SECRET_KEY": "e2e-secret-key", "INCUBATEUR_SESSION_COOKIE_SECURE": "false",
           "INCUBATEUR_OIDC_ISSUER": provider.issuer, "INCUBATEUR_OIDC_CLIENT_ID": CLIENT_ID,
           "INCUBATEUR_OIDC_CLIENT_SECRET": CLIENT_SECRET, "INCUBATEUR_OIDC_NAME": "ProConnect"}
    env.pop("DATABASE_URL", None)
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run([str(VENV_BIN / "flask"), *command], cwd=ROOT, env=env, check=True, capture_output=True)
    log = open(instance / "gunicorn.log", "w")
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--worker-class", "gthread", "--threads", "4", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
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
            provider.stop()
            raise RuntimeError("Le serveur gunicorn n'a pas démarré :\n" + (instance / "gunicorn.log").read_text())
        time.sleep(0.2)
    yield base_url, provider
    process.terminate()
    process.wait(timeout=10)
    log.close()
    provider.stop()


def test_agent_signs_in_and_out_through_the_provider(browser, sso_server):
    base_url, provider = sso_server
    context = browser.new_context(base_url=base_url, locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and base_url in page.url
            and not m.text.startswith("Failed to load resource") else None)
    try:
        # The administration says which addresses are the city's agents'.
        login(page, "admin@demo.incubateur.fr")
        page.goto("/admin/")
        page.get_by_role("link", name="Régler la connexion des agents").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Connexion des agents")
        assert_accessible(page)
        page.get_by_label("Domaines des adresses des agents").fill("demo.incubateur.fr")
        page.get_by_role("button", name="Enregistrer").click()
        expect(page.get_by_text("Les réglages de connexion ont été enregistrés.")).to_be_visible()
        page.get_by_role("button", name="Se déconnecter").click()  # a password session: local logout
        expect(page.get_by_text("Vous êtes déconnecté·e.")).to_be_visible()

        # The agent: the provider's button above the form.
        page.goto("/propositions")
        expect(page).to_have_url(re.compile(r"/connexion\?next="))
        assert_accessible(page)
        page.get_by_role("button", name="S'identifier avec ProConnect").click()
        expect(page).to_have_url(re.compile(re.escape(provider.issuer) + r"/interaction/"))
        page.get_by_label("Adresse électronique").fill("agent@demo.incubateur.fr")
        page.get_by_role("button", name="Continuer").click()
        expect(page).to_have_url(re.compile(re.escape(base_url) + r"/propositions"))
        expect(page.get_by_text("Bienvenue, Camille.")).to_be_visible()
        assert_accessible(page)

        # Logout through the provider, back to /deconnexion/retour, signed out.
        page.get_by_role("button", name="Se déconnecter").click()
        expect(page).to_have_url(re.compile(re.escape(base_url) + r"/connexion$"))
        expect(page.get_by_text("Vous êtes déconnecté·e.")).to_be_visible()
        page.goto("/")
        expect(page).to_have_url(re.compile(r"/connexion\?next="))
        # The provider's session ended too: its button asks for the login again.
        page.get_by_role("button", name="S'identifier avec ProConnect").click()
        expect(page.get_by_label("Adresse électronique")).to_be_visible()
        page.get_by_role("link", name="Annuler").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Connexion annulée")
        assert_accessible(page)
    except Exception:
        print(provider.log()[-5000:])
        raise
    finally:
        context.close()
    assert not problems, f"Erreurs JavaScript ou CSP dans la page : {problems}"

