import re

import pytest
from playwright.sync_api import expect

from .conftest import assert_accessible, login

pytestmark = pytest.mark.e2e


def test_hr_filters_opens_an_agent_and_exports(page):
    login(page, "rh@demo.incubateur.fr")
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Relevé RH").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Relevé d'engagement")
    assert_accessible(page)
    page.get_by_label("Catégorie").select_option("C")
    expect(page).to_have_url(re.compile(r"categorie=C"))
    expect(page.locator("#results")).to_contain_text("Martin Camille")
    # Units in two steps: a direction, then one of its services, listed once it is chosen.
    expect(page.get_by_label("Service (et sous-services)")).to_have_count(0)
    page.get_by_label("Direction (et ses services)").select_option(label="Direction des services techniques (DST)")
    expect(page).to_have_url(re.compile(r"direction=\d+"))
    page.get_by_label("Service (et sous-services)").select_option(label="Bâtiments (DST-BAT)")
    expect(page).to_have_url(re.compile(r"service=\d+"))
    expect(page.locator("#results")).to_contain_text("Martin Camille")
    assert_accessible(page)
    page.locator("#results").get_by_role("link", name="Martin Camille").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Engagement de Camille Martin")
    expect(page.get_by_text("inscrite au journal d'audit")).to_be_visible()
    assert_accessible(page)
    page.go_back()
    with page.expect_download() as download:
        page.get_by_role("link", name="Exporter (CSV)").click()
    assert download.value.suggested_filename.startswith("engagement-")


def test_agent_reads_and_prints_own_record(page, tmp_path):
    login(page, "agent@demo.incubateur.fr")
    page.goto("/mon-engagement")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon engagement")
    expect(page.locator("article.document")).to_contain_text("Temps de décharge validé")
    assert_accessible(page)
    page.emulate_media(media="print")
    expect(page.locator(".main-nav")).to_be_hidden()
    expect(page.locator("article.document")).to_be_visible()
    page.screenshot(path=str(tmp_path / "print-engagement.png"), full_page=True)
