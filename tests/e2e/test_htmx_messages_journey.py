"""Messages that say why (issue 19, item 4): an htmx refusal shows the server's own reason
next to the control that sent it, and a late search answer never pushes its address after
the reader went to another page."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import login, open_page

pytestmark = pytest.mark.e2e


def _upcoming_session(page) -> None:
    page.goto("/arbitrage/seances")
    page.get_by_role("link", name=re.compile(r"^Séance du ")).first.click()
    expect(page.locator("#presences")).to_be_visible()


def _record_attendance(page, *, present: bool) -> None:
    for box in page.locator("#presences input[type=checkbox]").all():
        box.set_checked(present)
    page.get_by_role("button", name="Enregistrer les présences").click()
    expect(page.get_by_text("Présences enregistrées").first).to_be_visible()


def test_a_refusal_shows_the_servers_reason_next_to_the_button(page, browser, live_server):
    """Opening a vote after another coordinator emptied the attendance: the 409 says
    « Enregistrez d'abord les présences », under the button, not a generic sentence."""
    login(page, "animation@demo.incubateur.fr")
    _upcoming_session(page)
    _record_attendance(page, present=True)
    button = page.get_by_role("button", name="Ouvrir le vote").first
    expect(button).to_be_visible()

    other = open_page(browser, live_server)
    login(other, "animation@demo.incubateur.fr")
    _upcoming_session(other)
    _record_attendance(other, present=False)

    form = button.locator("xpath=ancestor::form[1]")
    button.click()
    message = form.locator("xpath=following-sibling::*[@data-error-slot][1]")
    expect(message).to_have_text(re.compile("Enregistrez d'abord les présences de la séance"))
    expect(message).to_have_attribute("role", "alert")
    expect(page.get_by_text("L'élément a changé entre-temps")).to_have_count(0)

    # htmx itself logs the refused response on the console: expected here, not a script error.
    problems = page.csp_and_script_problems
    problems[:] = [p for p in problems if not p.startswith("Response Status Error Code 409 from /arbitrage/")]

    # Put the attendance back for the journeys that follow; the message goes away with the
    # next request from that control.
    _record_attendance(other, present=True)
    other.context.close()


def test_a_late_search_answer_does_not_push_its_address_after_a_navigation(page):
    login(page, "agent@demo.incubateur.fr")
    page.goto("/propositions")
    held = []
    page.route(re.compile(r"/propositions\?.*q=parc"), lambda route: held.append(route))
    with page.expect_request(re.compile(r"/propositions\?.*q=parc")):
        page.get_by_label("Rechercher").fill("parc")
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Réalisations").click()
    expect(page).to_have_url(re.compile(r"/realisations$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Réalisations"))
    assert held  # the search sent on typing (and the one queued as the field lost focus)
    for route in held:
        try:
            route.continue_()  # the late answer
        except Exception:  # noqa: BLE001  — the page gave up the request: nothing to release
            pass
    page.wait_for_timeout(1500)
    assert re.search(r"/realisations$", page.url), page.url
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Réalisations"))

