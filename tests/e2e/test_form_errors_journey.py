"""A refused form (issue 20, RGAA 11.10): every error at once, in a summary at the top that
takes the focus and links to each field, and "Erreur : " at the start of the tab's title,
for a whole page (a boosted form) and for an htmx fragment."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import assert_accessible, login

pytestmark = pytest.mark.e2e


def test_an_empty_initiative_lists_every_error_and_leads_to_each_field(page):
    login(page, "agent@demo.incubateur.fr")
    page.goto("/propositions/nouvelle")
    expect(page).to_have_title(re.compile(r"^Proposer une initiative · "))
    page.get_by_role("button", name="Déposer la proposition").click()

    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("Le formulaire contient 6 erreurs")
    expect(summary.get_by_role("link")).to_have_count(6)
    expect(page).to_have_title(re.compile(r"^Erreur : Proposer une initiative · "))
    assert_accessible(page)

    # A link of the summary puts the focus in its field, the field's label in sight.
    summary.get_by_role("link", name=re.compile(r"^Le gain par rapport à aujourd'hui : ")).click()
    expect(page.locator("#gain")).to_be_focused()
    expect(page.locator("label[for=gain]")).to_be_in_viewport()

    # Corrected, the form goes through: the next page's title has no "Erreur".
    page.locator("#title").fill("Des bancs à l'ombre dans les cours d'école")
    for name in ("problem", "change", "beneficiaries", "gain", "needs"):
        page.locator(f"#{name}").fill("Un texte qui répond à la question posée.")
    page.get_by_role("button", name="Déposer la proposition").click()
    expect(page.get_by_text("Proposition déposée").first).to_be_visible()
    expect(page).not_to_have_title(re.compile(r"^Erreur"))


def test_an_htmx_fragment_refused_titles_the_tab_and_takes_the_focus(page):
    login(page, "rh@demo.incubateur.fr")
    page.goto("/mon-compte")
    title = page.title()
    page.get_by_role("button", name="Changer le mot de passe").click()

    summary = page.locator("#password-form [data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("Le formulaire contient 3 erreurs")
    expect(page).to_have_title(f"Erreur : {title}")
    expect(page.locator("html")).to_have_count(1)  # swapped into the page, not a new page
    summary.get_by_role("link", name=re.compile(r"^Nouveau mot de passe : ")).click()
    expect(page.locator("#new_password")).to_be_focused()
    assert_accessible(page)
