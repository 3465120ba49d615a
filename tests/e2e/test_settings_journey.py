import pytest
from playwright.sync_api import expect

from .conftest import assert_accessible, login, open_page

pytestmark = pytest.mark.e2e


def _save(page):
    page.get_by_role("button", name="Enregistrer les paramètres").click()


def test_admin_sets_the_institution_and_a_manager_reads_a_report(page, browser, live_server):
    admin = page
    login(admin, "admin@demo.incubateur.fr")
    admin.goto("/admin/")
    admin.get_by_role("link", name="Modifier les paramètres").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Paramètres de la collectivité")
    assert_accessible(admin)
    # Bad input: the message next to the field (htmx swaps the 422), nothing saved.
    admin.get_by_label("Plafond mensuel (en % du temps de travail)").fill("41")
    _save(admin)
    expect(admin.locator(".field-errors").get_by_text("Indiquez un pourcentage entier entre 1 et 40 (20 % par défaut).")).to_be_visible()
    assert_accessible(admin)
    admin.get_by_label("Plafond mensuel (en % du temps de travail)").fill("20")
    admin.get_by_label("Les encadrants voient les chiffres d'engagement de leurs agents").check()
    _save(admin)
    expect(admin.get_by_text("Les encadrants voient les chiffres d'engagement de leurs agents : de non à oui")).to_be_visible()

    manager = open_page(browser, live_server)
    login(manager, "encadrant@demo.incubateur.fr")
    manager.get_by_role("link", name="Lire le relevé d'engagement de vos agents").click()
    expect(manager.get_by_role("heading", level=1)).to_have_text("Engagement de mes agents")
    assert_accessible(manager)
    manager.get_by_role("link", name="Camille Martin").click()
    expect(manager.get_by_role("heading", level=1)).to_have_text("Engagement de Camille Martin")
    expect(manager.locator("article.document")).to_contain_text("Temps de décharge validé")
    assert_accessible(manager)

    # Back to the default, for the other journeys on the same demo data.
    admin.goto("/admin/parametres")
    admin.get_by_label("Les encadrants voient les chiffres d'engagement de leurs agents").uncheck()
    _save(admin)
    expect(admin.get_by_text("de non à oui")).to_have_count(0)
    expect(admin.get_by_text("de oui à non")).to_be_visible()
    manager.reload()
    expect(manager.get_by_role("heading", name="Accès refusé")).to_be_visible()
    manager.context.close()
