"""RGAA 13.1 in the browser: before the session's idle limit, a warning takes the focus and
« Rester connecté », pressed with the keyboard, starts the idle clock again; at the end, a
link signs in again and comes back. The page's clock is Playwright's: hours pass at once,
the server's time left (4 h idle, 10 h in all) stays the real one."""

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
    expect(box).to_contain_text("Sans action de votre part, votre session prendra fin dans 1 minute")
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
    page.clock.fast_forward("00:09:00")
    expect(box).to_be_visible()
    expect(stay).to_be_focused()

    # Left unanswered: the session is over, and the link signs in again back to this page.
    page.clock.fast_forward("00:02:00")
    expect(page.get_by_role("alertdialog", name="Votre session a pris fin")).to_be_visible()
    relogin = page.get_by_role("link", name="Se reconnecter")
    expect(relogin).to_be_focused()
    expect(relogin).to_have_attribute("href", "/connexion?next=%2Fpropositions")
    assert_accessible(page)
