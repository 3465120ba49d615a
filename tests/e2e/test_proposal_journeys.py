import re

import pytest
from playwright.sync_api import expect

from .conftest import assert_accessible, login

pytestmark = pytest.mark.e2e


def test_agent_proposes_finds_supports_and_comments(page):
    login(page, "agent@demo.incubateur.fr")
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Propositions", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Propositions")
    assert_accessible(page)

    page.get_by_role("link", name="Proposer une initiative").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Proposer une initiative")
    page.get_by_label("Titre").press_sequentially("Carnet numérique des bâtiments scolaires", delay=10)
    # The similar proposal of the demo appears while typing.
    hint = page.locator("#similar")
    expect(hint).to_contain_text("Des propositions proches existent déjà")
    expect(hint).to_contain_text("Un carnet de santé numérique des bâtiments")
    assert_accessible(page)

    page.get_by_label("Le problème").fill("Les interventions dans les écoles ne sont pas tracées.")
    page.get_by_label("Ce qui est proposé").fill("Un carnet par école, partagé avec les directeurs.")
    page.get_by_label("Pour qui, et quelle valeur").fill("Les directeurs d'école et les agents techniques.")
    page.get_by_label("Le gain par rapport à aujourd'hui").fill("Des interventions plus rapides.")
    page.get_by_label("Ce qu'il faut").fill("Quelques heures par mois.")
    page.get_by_label("Thème").select_option(label="Bâtiments et patrimoine")
    page.get_by_role("button", name="Déposer la proposition").click()
    expect(page.get_by_text("Proposition déposée")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Carnet numérique des bâtiments scolaires")
    expect(page.locator(".state-box")).to_contain_text("Déposée")
    expect(page.locator(".timeline")).to_contain_text("Déposée par Camille Martin (version 1).")
    assert_accessible(page)

    # Found on the board with the search.
    page.goto("/propositions")
    page.get_by_label("Rechercher").fill("carnet scolaires")
    expect(page.locator("#results")).to_contain_text("Carnet numérique des bâtiments scolaires")
    expect(page).to_have_url(re.compile(r"q=carnet"))

    # Back someone else's proposal: the count changes in place.
    page.get_by_label("Rechercher").fill("permanence numérique")
    page.locator("#results").get_by_role("link", name="Une permanence numérique à la médiathèque").click()
    support = page.locator("#soutiens")
    before = int(support.locator(".stat").inner_text())
    support.get_by_role("button", name="Soutenir cette proposition").click()
    expect(support.locator(".stat")).to_have_text(str(before + 1))
    expect(support.get_by_role("button", name="Retirer mon soutien")).to_be_visible()
    assert_accessible(page)

    # Comment (htmx): the comment appears, with its link made safe.
    page.get_by_label("Votre commentaire").fill("Bonne idée ! Voir https://exemple.fr/numerique")
    page.get_by_role("button", name="Publier le commentaire").click()
    expect(page.locator("#commentaires")).to_contain_text("Bonne idée !")
    expect(page.locator("#commentaires").get_by_role("link", name="https://exemple.fr/numerique")).to_be_visible()
    assert_accessible(page)

    page.goto("/mes-propositions")
    expect(page.get_by_role("link", name="Carnet numérique des bâtiments scolaires")).to_be_visible()
    assert_accessible(page)


def test_offer_form_board_filters_and_versions_are_accessible(page):
    login(page, "collectif@demo.incubateur.fr")
    page.goto("/propositions/nouvelle-offre")
    expect(page.get_by_role("heading", level=1)).to_have_text("Offrir une immersion dans mon service")
    assert_accessible(page)
    page.get_by_label("Titre").fill("Deux jours à l'accueil")
    page.get_by_role("button", name="Déposer la proposition").click()
    expect(page.locator(".field-errors").get_by_text("Décrivez la mission confiée")).to_be_visible()
    assert_accessible(page)
    page.goto("/propositions?etape=accepted&tri=supported")
    assert_accessible(page)
    page.get_by_role("link", name="Un carnet de santé numérique des bâtiments").click()
    page.get_by_role("link", name="texte déposé").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Historique des versions")
    assert_accessible(page)


@pytest.mark.parametrize("path, field, words, select", [
    ("/propositions", "#q", "permanence", "#nature"),
    ("/arbitrage/journal", "#q", "permanence", "#issue"),
    ("/realisations", "#q", "carnet", "#etat"),
    ("/admin/agents", "#q", "martin", "#statut"),
    ("/admin/journal", "#acteur", "agent", "#action"),
])
def test_leaving_a_live_search_sends_no_second_search(page, path, field, words, select):
    """Typing searches once; leaving the field must not search again: that second answer,
    pushing its address while the reader follows a result, cancelled the reader's click."""
    login(page, "admin@demo.incubateur.fr")
    page.goto(path)
    searches = []
    page.on("request", lambda r: searches.append(r.url) if r.headers.get("hx-request") else None)
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        page.locator(field).fill(words)
    page.locator(field).press("Tab")
    page.locator(field).focus()
    page.locator(field).press("Shift+Tab")
    expect(page).to_have_url(re.compile(re.escape(words)))
    # A filter still searches at once (and only once).
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        page.locator(select).select_option(index=1)
    page.wait_for_load_state("networkidle")
    assert len(searches) == 2, searches
