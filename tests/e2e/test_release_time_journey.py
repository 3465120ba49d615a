import re

import pytest
from playwright.sync_api import expect

from .conftest import assert_accessible, login, open_page

pytestmark = pytest.mark.e2e


def first_project_days(page):
    """The hour fields of the grid's first project, Monday to Friday (one block per day)."""
    name = page.locator("#week-grid input[name^=h-]").first.get_attribute("name")
    return page.locator(f'#week-grid input[name^="{name.rsplit("-", 1)[0]}-"]')


def test_agent_submits_manager_approves_part_refuses_part_agent_corrects(page, browser, live_server):
    login(page, "agent@demo.incubateur.fr")
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Mon temps").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon temps de décharge")
    page.get_by_role("link", name="Semaine suivante").click()
    expect(page.get_by_role("heading", level=2).first).to_contain_text("Semaine du")
    assert_accessible(page)
    inputs = first_project_days(page)
    inputs.nth(0).fill("2")
    inputs.nth(1).fill("1,5")
    inputs.nth(2).fill("1,1")  # not a quarter hour: refused, nothing written
    page.get_by_role("button", name="Enregistrer et transmettre à mon N+1").click()
    expect(page.locator(".week-days .field-errors")).to_contain_text("Heures par quarts d'heure")
    assert_accessible(page)
    inputs = first_project_days(page)
    inputs.nth(2).fill("")
    page.get_by_role("button", name="Enregistrer et transmettre à mon N+1").click()
    expect(page.get_by_text("Semaine transmise à votre N+1 pour validation.")).to_be_visible()
    week_url = page.url

    manager = open_page(browser, live_server)
    login(manager, "encadrant@demo.incubateur.fr")
    manager.goto("/validations")
    assert_accessible(manager)
    section = manager.locator("section", has=manager.get_by_role("heading", name=re.compile("Camille Martin")))
    boxes = section.locator("input[type=checkbox]")
    expect(boxes.first).to_be_visible()
    # Refuse the 1.5 h line with a reason (uncheck everything else).
    for box in boxes.all():
        box.uncheck()
    section.get_by_role("row", name=re.compile(r"1,5")).last.locator("input[type=checkbox]").check()
    manager.get_by_label(re.compile("Motif du refus")).fill("Ce jour-là vous étiez en formation toute la journée.")
    manager.get_by_role("button", name="Refuser les lignes cochées").click()
    expect(manager.get_by_text("1 ligne refusée.")).to_be_visible()
    # Approve what remains of Camille's lines.
    section = manager.locator("section", has=manager.get_by_role("heading", name=re.compile("Camille Martin")))
    for box in manager.locator("input[type=checkbox]").all():
        box.uncheck()
    for box in section.locator("input[type=checkbox]").all():
        box.check()
    manager.get_by_role("button", name="Valider les lignes cochées").click()
    expect(manager.get_by_text(re.compile(r"lignes? validées?\."))).to_be_visible()

    page.goto(week_url)
    expect(page.get_by_text("« Ce jour-là vous étiez en formation toute la journée. »")).to_be_visible()
    expect(page.locator(".week-days")).to_contain_text("Validé")
    refused = first_project_days(page).nth(1)
    refused.fill("0,5")
    page.get_by_role("button", name="Enregistrer et transmettre à mon N+1").click()
    expect(page.get_by_text("Semaine transmise à votre N+1 pour validation.")).to_be_visible()
    expect(page.locator(".week-days")).to_contain_text("En attente du N+1")
    assert_accessible(page)
    manager.context.close()
