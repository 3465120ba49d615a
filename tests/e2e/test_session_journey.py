"""RGAA 13.1 in the browser: before the session's idle limit, a warning takes the focus and
« Rester connecté », pressed with the keyboard, starts the idle clock again; at the end, a
link signs in again and comes back. The page's clock is Playwright's: hours pass at once,
the server's time left (4 h idle, 10 h in all) stays the real one."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import assert_accessible, login

pytestmark = pytest.mark.e2e


def test_the_session_warning_is_answered_with_the_keyboard(page):
    page.clock.install()
    # The notification counter's poll would bring the server's (real) time left: it
    # answers nothing here, so that only the page's clock moves.
    page.route("**/notifications/compteur", lambda route: route.fulfill(status=204))
    login(page, "agent@demo.incubateur.fr")
    page.goto("/propositions")
    box = page.get_by_role("alertdialog", name="Votre session va bientôt prendre fin")
    expect(box).to_be_hidden()

    page.clock.fast_forward("03:57:00")
    expect(box).to_be_hidden()
    page.clock.fast_forward("00:01:30")  # 90 s left
    expect(box).to_be_visible()
    expect(box).to_contain_text(re.compile(r"Sans action de votre part, votre session prendra fin dans (1 minute|2 minutes)"))
    stay = box.get_by_role("button", name="Rester connecté")
    expect(stay).to_be_focused()
    assert_accessible(page)

    with page.expect_response("**/session/prolonger") as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 200 and answer.value.json()["idle"] >= 4 * 3600 - 2
    expect(box).to_be_hidden()
    expect(page.locator("#session-status")).to_have_text("Votre session est prolongée.")
    expect(page.get_by_role("heading", level=1)).to_be_visible()  # still the same page

    # The idle clock started again: no warning for nearly four more hours.
    page.clock.fast_forward("03:50:00")
    expect(box).to_be_hidden()
    # A page reached through a boosted link brings its own time left.
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Immersions").click()
    expect(page).to_have_url(re.compile(r"/immersions$"))
    page.clock.fast_forward("03:58:30")
    expect(box).to_be_visible()
    expect(stay).to_be_focused()

    # Left unanswered: the session is over, and the link signs in again back to this page.
    page.clock.fast_forward("00:02:00")
    expect(page.get_by_role("alertdialog", name="Votre session a pris fin")).to_be_visible()
    relogin = page.get_by_role("link", name="Se reconnecter")
    expect(relogin).to_be_focused()
    expect(relogin).to_have_attribute("href", "/connexion?next=%2Fimmersions")
    assert_accessible(page)


def test_the_total_limit_is_announced_and_the_sign_in_leads_back(page):
    page.clock.install()
    page.route("**/notifications/compteur", lambda route: route.fulfill(status=204))
    login(page, "agent@demo.incubateur.fr")

    # Ten minutes left to the session in all (the server's figure, set here), hours to the idle limit.
    def ten_minutes_left(route):
        response = route.fetch()
        body = re.sub(r'data-end-left="\d+"', 'data-end-left="600"', response.text())
        route.fulfill(response=response, body=body)

    page.route("**/propositions", ten_minutes_left)
    page.goto("/propositions")
    page.clock.fast_forward("00:08:30")
    box = page.get_by_role("alertdialog", name="Votre session va bientôt prendre fin")
    expect(box).to_contain_text(re.compile(r"Votre session atteint sa durée maximale et prendra fin dans (1 minute|2 minutes)"))
    expect(box.get_by_role("button", name="Rester connecté")).to_be_hidden()
    understood = box.get_by_role("button", name="J'ai compris")
    expect(understood).to_be_focused()
    page.keyboard.press("Enter")
    expect(box).to_be_hidden()

    page.clock.fast_forward("00:02:00")
    relogin = page.get_by_role("link", name="Se reconnecter")
    expect(relogin).to_be_focused()
    # The server's session is still open here: the sign-in page sends straight back.
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/propositions$"))
