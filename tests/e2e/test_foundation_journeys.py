import re

import pytest
from playwright.sync_api import expect

from .conftest import assert_accessible, login

pytestmark = pytest.mark.e2e


def test_login_through_the_form_then_home_and_logout(page):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/connexion\?next=/"))
    assert_accessible(page)
    # A wrong password: the message is shown, and the page stays accessible.
    page.get_by_label("Adresse électronique ou identifiant").fill("agent@demo.incubateur.fr")
    page.get_by_label("Mot de passe").fill("pas-le-bon")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_text("Adresse électronique, identifiant ou mot de passe incorrect.")).to_be_visible()
    assert_accessible(page)

    login(page, "agent@demo.incubateur.fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Camille")
    expect(page.get_by_text("Ville de Belleville-sur-Loire").first).to_be_visible()
    assert_accessible(page)
    # An agent has no administration entry, and the server refuses the page.
    expect(page.get_by_role("link", name="Administration")).to_have_count(0)
    page.goto("/admin/")
    expect(page.get_by_role("heading", name="Accès refusé")).to_be_visible()

    page.goto("/")
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_text("Vous êtes déconnecté·e.")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/connexion"))


def test_admin_searches_agents_and_creates_an_org_unit(page):
    login(page, "admin@demo.incubateur.fr")
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Administration").click()
    page.get_by_role("link", name="Agents", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agents")
    assert_accessible(page)
    # Active search (htmx): the results follow the typing, and the URL reflects it.
    page.get_by_label("Rechercher").fill("benali")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results")).to_contain_text("Karim")
    expect(page).to_have_url(re.compile(r"q=benali"))

    page.goto("/admin/services/nouveau")
    assert_accessible(page)
    page.get_by_role("button", name="Créer").click()  # empty: errors next to the fields
    expect(page.locator(".field-errors").get_by_text("Indiquez un nom.")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Nom").fill("Mission transition écologique")
    page.get_by_label("Code").fill("DGS-TE")
    page.get_by_label("Rattachée à").select_option(label="Direction générale des services (DGS)")
    page.get_by_role("button", name="Créer").click()
    expect(page.get_by_text("« Mission transition écologique » a été créé.")).to_be_visible()
    expect(page.get_by_role("link", name="Mission transition écologique")).to_be_visible()
    assert_accessible(page)


def test_admin_pages_are_accessible(page):
    login(page, "admin@demo.incubateur.fr")
    for path in ("/admin/", "/admin/services", "/admin/collectif", "/admin/import",
                 "/admin/journal", "/admin/agents/nouveau", "/admin/collectivites",
                 "/mon-compte", "/accessibilite", "/donnees-personnelles"):
        page.goto(path)
        assert_accessible(page)


def test_works_without_javascript(browser, live_server):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    page.goto("/connexion")
    page.get_by_label("Adresse électronique ou identifiant").fill("admin@demo.incubateur.fr")
    page.get_by_label("Mot de passe").fill("incubateur-demo")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Claire")
    page.goto("/admin/agents")
    page.get_by_label("Rechercher").fill("lefèvre")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.locator("#results tbody tr")).to_have_count(1)
    context.close()
