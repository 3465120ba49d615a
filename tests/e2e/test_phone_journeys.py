"""Phones first for field agents (issue 19, items 5 and 8): at 390 and 320 px the header
folds behind a "Menu" disclosure, no page is wider than the screen, the week grid is one
block per day, the approval queue shows hours and project with nothing ticked, chart text
stays at 12 px or more, and the notification count does not move the page."""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from .conftest import assert_accessible, login, open_page

pytestmark = pytest.mark.e2e

PAGES = ["/", "/mon-temps", "/validations", "/tableau-de-bord", "/propositions"]


def phone(browser, live_server, width: int, email: str):
    page = open_page(browser, live_server, width=width)
    page.set_viewport_size({"width": width, "height": 844})
    login(page, email)
    return page


def assert_fits(page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} : {scroll} px de large pour un écran de {width} px"


@pytest.mark.parametrize("width", [390, 320])
def test_header_folds_behind_a_menu_and_no_page_is_wider_than_the_screen(browser, live_server, width):
    page = phone(browser, live_server, width, "encadrant@demo.incubateur.fr")
    for path in PAGES:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert_fits(page, width)
        expect(page.locator(".main-nav.wide-only")).to_be_hidden()
        menu = page.locator("details.nav-menu")
        expect(menu.locator("summary")).to_be_visible()
        expect(menu.get_by_role("navigation", name="Navigation principale")).to_be_hidden()
        if width == 390:
            assert_accessible(page)
    # Keyboard: the summary takes the focus, Enter opens the menu, Tab reaches its links.
    page.goto("/mon-temps")
    summary = page.locator("details.nav-menu > summary")
    expect(summary).to_contain_text("Mon temps")  # the current page, menu closed
    page.keyboard.press("Tab")  # the skip link first
    expect(page.get_by_role("link", name="Aller au contenu")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # brand, notifications, then the menu
    expect(summary).to_be_focused()
    page.keyboard.press("Enter")
    nav = page.locator("details.nav-menu").get_by_role("navigation", name="Navigation principale")
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link", name="Validations")).to_be_visible()
    expect(nav.locator('a[aria-current="page"]')).to_have_text("Mon temps")
    assert_fits(page, width)
    if width == 390:
        assert_accessible(page)
    page.keyboard.press("Tab")
    expect(nav.get_by_role("link", name="Accueil")).to_be_focused()
    nav.get_by_role("link", name="Tableau de bord").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tableau de bord")
    expect(page.locator("details.nav-menu")).not_to_have_attribute("open", re.compile(".*"))
    # The skip link still leads to the content.
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#contenu")).to_be_focused()
    page.context.close()


def test_week_grid_on_a_phone_then_the_approval_queue(browser, live_server):
    monday = date.today() - timedelta(days=date.today().weekday()) + timedelta(days=14)
    page = phone(browser, live_server, 390, "agent@demo.incubateur.fr")
    page.goto(f"/mon-temps?semaine={monday.isoformat()}")
    days = page.locator("fieldset.week-day")
    expect(days).to_have_count(5)
    for n in range(5):
        box = days.nth(n).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert_fits(page, 390)
    assert_accessible(page)
    monday_block = page.get_by_role("group", name=re.compile(r"^Lundi "))
    wednesday_block = page.get_by_role("group", name=re.compile(r"^Mercredi "))
    tuesday_block = page.get_by_role("group", name=re.compile(r"^Mardi "))
    monday_block.get_by_role("textbox").first.fill("2,5")
    wednesday_block.get_by_role("textbox").first.fill("3")
    tuesday_block.get_by_role("textbox").first.fill("9")  # more than a working day
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    # The error is in Tuesday's block, on screen, next to its field; nothing was written.
    error = page.locator("fieldset.week-day", has=page.locator("legend", has_text=re.compile(r"^Mardi "))) \
        .locator(".field-errors")
    expect(error).to_contain_text("dépasse votre journée de travail")
    error.scroll_into_view_if_needed()
    box = error.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    field = page.get_by_role("group", name=re.compile(r"^Mardi ")).get_by_role("textbox").first
    expect(field).to_have_attribute("aria-invalid", "true")
    assert_fits(page, 390)
    assert_accessible(page)
    field.fill("")
    page.get_by_role("button", name="Enregistrer et transmettre à mon N+1").click()
    expect(page.get_by_text("Semaine transmise à votre N+1 pour validation.")).to_be_visible()
    expect(page.get_by_role("group", name=re.compile(r"^Lundi ")).get_by_role("textbox").first).to_have_value("2,5")
    expect(page.get_by_role("group", name=re.compile(r"^Mercredi ")).get_by_role("textbox").first).to_have_value("3")
    expect(page.get_by_role("group", name=re.compile(r"^Mercredi "))).to_contain_text("Total du jour : 3 h 00")
    page.context.close()

    manager = phone(browser, live_server, 390, "encadrant@demo.incubateur.fr")
    manager.goto("/validations")
    assert_fits(manager, 390)
    assert_accessible(manager)
    boxes = manager.locator("input[type=checkbox][name=entry]")
    expect(boxes.first).to_be_visible()
    for box in boxes.all():
        expect(box).not_to_be_checked()
    # The line just sent, as the N+1 reads it on a phone: agent, day, project and hours.
    line = manager.locator(".approval-lines tbody tr", has_text=re.compile(r"2,5 h"))
    expect(line.first).to_be_visible()
    for label in ("Agent", "Jour", "Projet", "Heures"):
        expect(line.first.locator(f'td[data-label="{label}"]')).to_be_visible()
    expect(line.first.locator('td[data-label="Agent"]')).to_have_text("Camille Martin")
    expect(line.first.locator('td[data-label="Heures"]')).to_have_text("2,5 h")
    expect(line.first.locator('td[data-label="Projet"]')).not_to_be_empty()
    manager.context.close()


@pytest.mark.parametrize("width", [390, 320])
def test_chart_text_is_never_below_12_px(browser, live_server, width):
    page = phone(browser, live_server, width, "animation@demo.incubateur.fr")
    page.goto("/tableau-de-bord")
    sizes = page.evaluate("""[...document.querySelectorAll('svg.chart text')].map(t => ({
        font: parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a,
        height: t.getBoundingClientRect().height,
        overflow: t.getBoundingClientRect().right - t.closest('svg').getBoundingClientRect().right}))""")
    assert len(sizes) > 10
    assert min(s["font"] for s in sizes) >= 12
    assert min(s["height"] for s in sizes) >= 12
    assert max(s["overflow"] for s in sizes) <= 0.5  # every label whole on the screen
    assert_fits(page, width)
    if width == 390:
        assert_accessible(page)
    page.context.close()


def test_the_notification_count_moves_nothing(browser, live_server):
    page = phone(browser, live_server, 390, "agent@demo.incubateur.fr")
    for path in ["/", "/propositions", "/propositions/nouvelle"]:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        # The count is in the page as served: no request is needed to show it.
        expect(page.locator("#notification-counter")).to_contain_text("Notifications")
        shift = page.evaluate("""() => new Promise(resolve => {
            let total = 0;
            new PerformanceObserver(list => {
                for (const e of list.getEntries()) if (!e.hadRecentInput) total += e.value;
            }).observe({type: 'layout-shift', buffered: true});
            setTimeout(() => resolve(total), 300);
        })""")
        assert shift < 0.1, f"{path} : décalage cumulé {shift}"
        before = page.locator(".site-header").bounding_box()["height"]
        # htmx's refresh (every minute) swaps the counter: the header keeps its height.
        page.evaluate("""() => new Promise(resolve => {
            document.body.addEventListener('htmx:afterSettle', () => resolve(), {once: true});
            htmx.ajax('GET', '/notifications/compteur', {target: '#notification-counter', swap: 'outerHTML'});
        })""")
        after = page.locator(".site-header").bounding_box()["height"]
        assert after == before
    page.context.close()
