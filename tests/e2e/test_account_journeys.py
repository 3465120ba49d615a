"""« Mot de passe oublié » in a real browser, through to signing in with the new password:
the email is read where the worker writes it without an SMTP server (instance/mail/)."""

import email
import re
from email import policy

import pytest
from playwright.sync_api import expect

from .conftest import assert_accessible, flask_command, login

pytestmark = pytest.mark.e2e

# An account no other journey signs in with: its password changes here.
ACCOUNT = "admin@ccas.demo.incubateur.fr"
NEW_PASSWORD = "le heron gris traverse la Loire"


def _reset_path(instance) -> str:
    """The path of the reset link in the last email sent to ACCOUNT."""
    flask_command(instance, "notifications", "send")
    for path in sorted((instance / "mail").glob("*.eml"), reverse=True):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["To"] == ACCOUNT:
            body = message.get_body(preferencelist=("plain",)).get_content()
            return re.search(r"https?://[^/\s]+(/mot-de-passe-oublie/[A-Za-z0-9_-]+)", body).group(1)
    raise AssertionError("aucun courriel de réinitialisation")


def test_forgotten_password_through_to_signing_in(page, live_instance):
    page.goto("/connexion")
    page.get_by_role("link", name="Mot de passe oublié ?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mot de passe oublié")
    assert_accessible(page)
    page.get_by_label("Adresse électronique professionnelle").fill(ACCOUNT)
    page.get_by_role("button", name="Recevoir un lien").click()
    expect(page.get_by_text("Si un compte actif correspond à cette adresse")).to_be_visible()
    assert_accessible(page)

    path = _reset_path(live_instance)
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choisir un nouveau mot de passe")
    assert_accessible(page)
    # Too short: refused next to the field, the link still valid.
    page.get_by_label("Nouveau mot de passe").fill("court")
    page.get_by_label("Le même mot de passe, une seconde fois").fill("court")
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(page.locator(".field-errors").get_by_text("Le mot de passe doit compter au moins 12 caractères.")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Nouveau mot de passe").fill(NEW_PASSWORD)
    page.get_by_label("Le même mot de passe, une seconde fois").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(page.get_by_text("Votre mot de passe a été modifié")).to_be_visible()

    login(page, ACCOUNT, NEW_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Françoise")
    # The link served once.
    page.goto(path)
    expect(page.get_by_text("Ce lien n'est pas ou plus valable")).to_be_visible()
    assert_accessible(page)
