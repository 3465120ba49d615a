import re

import pytest
from playwright.sync_api import expect

from .conftest import assert_accessible, login, open_page

pytestmark = pytest.mark.e2e


def test_from_accepted_proposal_to_closed_project(page):
    login(page, "animation@demo.incubateur.fr")
    page.goto("/realisations?etat=framing")
    assert_accessible(page)
    page.locator("#results article h2 a").first.click()
    expect(page).to_have_url(re.compile(r"/projets/\d+$"))
    expect(page.locator(".card-meta")).to_contain_text("En cadrage")
    title = page.get_by_role("heading", level=1).inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Valider la lettre de mission").click()
    expect(page.get_by_text("Avant de valider, complétez")).to_be_visible()

    page.get_by_role("link", name="Modifier la lettre de mission").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lettre de mission")
    assert_accessible(page)
    page.get_by_label("Commanditaire (adresse électronique)").fill("admin@demo.incubateur.fr")
    page.get_by_label("Début").fill("2026-12-01")
    page.get_by_label("Fin prévue").fill("2027-06-30")
    # The team: an agent found by the search, chosen with the keyboard, then their role and hours.
    search = page.get_by_label("Ajouter un membre : rechercher un agent")
    search.fill("agent@demo")
    expect(page.locator("#agent-count")).to_have_text("1 agent trouvé")
    suggestion = page.locator("#agent-suggestions").get_by_role("link", name=re.compile("^Ajouter "))
    name = suggestion.inner_text().removeprefix("Ajouter ")
    search.press("Tab")
    expect(suggestion).to_be_focused()
    page.keyboard.press("Enter")
    role = page.get_by_label(f"Rôle : {name}")
    expect(role).to_be_focused()  # their new line (or their line, when already in the team)
    role.fill("référente terrain")
    page.get_by_label(f"Heures de décharge prévues : {name}").fill("40")
    assert_accessible(page)
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Lettre de mission enregistrée.")).to_be_visible()
    page.get_by_role("button", name="Valider la lettre de mission").click()
    expect(page.get_by_text("Lettre de mission validée : le projet démarre.")).to_be_visible()
    expect(page.locator(".card-meta")).to_contain_text("En cours")

    expect(page.get_by_role("region", name="Équipe")).to_contain_text(f"{name} — référente terrain, 40 h prévues")
    page.locator("#jalons summary").click()
    page.get_by_role("textbox", name="Jalon (obligatoire)").fill("Atelier avec les agents de terrain")
    page.get_by_label("Échéance").fill("2027-01-15")
    page.get_by_role("button", name="Ajouter le jalon").click()
    expect(page.locator("#jalons")).to_contain_text("Atelier avec les agents de terrain")
    page.get_by_role("button", name=re.compile("Marquer atteint")).first.click()
    expect(page.locator("#jalons")).to_contain_text("Atteint le")
    page.get_by_label("Où en est le projet ?").fill("L'atelier a réuni douze agents ; le prototype est prêt.")
    page.get_by_label("Avancement (%)").fill("60")
    page.get_by_role("button", name="Publier le point").click()
    expect(page.get_by_text("Point d'avancement publié.")).to_be_visible()
    assert_accessible(page)

    # A slow machine may still be settling the swapped page: fill only once it is idle,
    # and check every value before submitting (a lost keystroke would fail far from here).
    page.wait_for_load_state("networkidle")
    page.locator("#cloture summary").click()
    page.get_by_label("Terminé : objectifs atteints ou projet livré").check()
    retrospective = {
        "Ce qui a marché": "L'implication des agents de terrain dès le début.",
        "Ce qui n'a pas marché": "Le calendrier des congés d'hiver.",
        "Ce que d'autres peuvent réutiliser": "La trame de l'atelier participatif.",
        "Indicateurs atteints": "Douze agents associés, un prototype validé.",
    }
    for label, text in retrospective.items():
        page.get_by_label(label).fill(text)
    for label, text in retrospective.items():
        expect(page.get_by_label(label)).to_have_value(text)
    page.locator("#cloture").get_by_role("button", name="Clore le projet").click()
    expect(page.get_by_text("Projet clos ; son retour d'expérience est publié.")).to_be_visible()
    expect(page.locator("#retex")).to_contain_text("La trame de l'atelier participatif.")
    assert_accessible(page)
    page.goto("/realisations?etat=completed")
    expect(page.locator("#results")).to_contain_text(title)
    page.get_by_role("link", name=title).click()
    page.get_by_role("link", name="Version imprimable").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lettre de mission")
    assert_accessible(page)


def test_immersion_from_application_to_selection(page, browser, live_server):
    login(page, "agent@demo.incubateur.fr")
    page.goto("/immersions")
    assert_accessible(page)
    offer = page.locator("article", has_text="Une semaine à l'accueil unique")
    offer.get_by_role("link", name=re.compile("^Candidater")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Candidater")
    assert_accessible(page)
    start = page.get_by_label("Début souhaité").input_value()
    page.get_by_label("Votre motivation").fill("Je reçois des habitants au centre technique : je veux mieux les orienter.")
    page.get_by_label("Fin souhaitée").fill(start)  # a one-day internal immersion
    page.get_by_role("button", name="Envoyer ma candidature").click()
    expect(page.get_by_text("Candidature envoyée")).to_be_visible()
    expect(page.get_by_text("En attente de l'avis du N+1")).to_be_visible()

    manager = open_page(browser, live_server)
    login(manager, "encadrant@demo.incubateur.fr")
    manager.goto("/immersions")
    request = manager.locator("article", has_text="Camille Martin")
    request.get_by_role("button", name="Donner mon accord").click()
    expect(manager.get_by_text("Avis enregistré")).to_be_visible()
    assert_accessible(manager)

    host = open_page(browser, live_server)
    login(host, "collectif@demo.incubateur.fr")
    host.goto("/immersions")
    host.locator("li", has_text="Camille Martin").get_by_role("button", name=re.compile("^Retenir")).click()
    expect(host.get_by_text("Candidature retenue : l'immersion est programmée.")).to_be_visible()
    expect(host.get_by_role("heading", level=1)).to_contain_text("Immersion de Camille Martin")
    # Inside one employer: an internal sheet, not an agreement between two employers.
    host.get_by_role("link", name="Fiche d'immersion interne").click()
    expect(host.get_by_role("heading", level=1)).to_have_text("Fiche d'immersion interne")
    assert_accessible(host)

    page.goto("/immersions")
    expect(page.get_by_text("Retenue : immersion programmée")).to_be_visible()
    for other in (manager, host):
        other.context.close()
