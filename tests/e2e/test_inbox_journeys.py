"""Each role's home page (what waits for them) on a desktop and on a phone, each card
leading to its page; and the new hand-over notifications, read in the browser, each
leading to the place to act."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import assert_accessible, login, open_page

pytestmark = pytest.mark.e2e

# Demo account -> the cards its home shows (incubator/demo) and the page one of them opens.
HOMES = {
    "agent@demo.incubateur.fr": (["refused_weeks", "late_milestones", "drafts"], "refused_weeks",
                                 "Mon temps de décharge"),
    "encadrant@demo.incubateur.fr": (["weeks_to_approve"], "weeks_to_approve", "Validations du temps de décharge"),
    "collectif@demo.incubateur.fr": (["to_assess", "next_session"], "to_assess", "À évaluer"),
    "animation@demo.incubateur.fr": (["eligibility", "sponsors_to_appoint", "next_session"], "eligibility",
                                     "Recevabilité"),
    "rh@demo.incubateur.fr": (["engagement_report"], "engagement_report", None),
}


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("email", list(HOMES))
def test_each_roles_home_lists_what_waits_and_leads_to_it(browser, live_server, email, width):
    page = open_page(browser, live_server, width=width)
    try:
        login(page, email)
        kinds, follow, heading = HOMES[email]
        for kind in kinds:
            card = page.locator(f"#attente-{kind}")
            expect(card).to_be_visible()
            if kind != "engagement_report":
                expect(card).to_contain_text(re.compile(r"^\s*\d+ |Prochaine séance"))
        # Counts are written in words, in a list under a heading per role.
        expect(page.locator(".inbox-section h2").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing overflows on a phone
        assert_accessible(page)
        page.locator(f"#attente-{follow} a").click()
        if heading:
            expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        else:
            expect(page).to_have_url(re.compile(r"/rh/engagement\?annee=\d{4}"))
        assert_accessible(page)
    finally:
        page.context.close()


def test_an_agent_with_nothing_waiting_is_invited_to_propose(page):
    # Not the CCAS administrator: the password journey (test_account_journeys.py) changes hers.
    login(page, "admin@demo.incubateur.fr")
    expect(page.get_by_role("heading", name="Rien ne vous attend pour l'instant")).to_be_visible()
    expect(page.get_by_role("link", name="Proposer une initiative")).to_have_attribute("href", "/propositions/nouvelle")
    assert_accessible(page)


def _open_notification(page, subject: str) -> None:
    page.goto("/notifications")
    assert_accessible(page)
    page.get_by_role("link", name=subject).first.click()


def test_a_submission_reaches_the_coordination(page, browser, live_server):
    title = "Un registre partagé des prêts de matériel"
    login(page, "agent@demo.incubateur.fr")
    page.goto("/propositions/nouvelle")
    page.get_by_label("Titre").fill(title)
    page.get_by_label("Le problème").fill("Le matériel prêté entre services se perd faute de suivi.")
    page.get_by_label("Ce qui est proposé").fill("Un registre partagé des prêts, consultable par tous.")
    page.get_by_label("Pour qui, et quelle valeur").fill("Les services qui se prêtent du matériel.")
    page.get_by_label("Le gain par rapport à aujourd'hui").fill("Moins de matériel perdu ou racheté.")
    page.get_by_label("Ce qu'il faut").fill("Un tableau partagé et une heure par mois.")
    page.get_by_role("button", name="Déposer la proposition").click()
    expect(page.get_by_text("Proposition déposée")).to_be_visible()

    chair = open_page(browser, live_server, width=390)
    login(chair, "animation@demo.incubateur.fr")
    _open_notification(chair, "Une proposition déposée attend son examen")
    expect(chair).to_have_url(re.compile(r"/arbitrage/recevabilite/\d+$"))
    expect(chair.locator("main")).to_contain_text(title)
    assert_accessible(chair)
    chair.context.close()


def test_approved_hours_reach_the_agent_with_their_week(page, browser, live_server):
    manager = open_page(browser, live_server)
    login(manager, "encadrant@demo.incubateur.fr")
    manager.locator("#attente-weeks_to_approve a").click()
    section = manager.locator("section", has=manager.get_by_role("heading", name=re.compile("Camille Martin")))
    for box in manager.locator("input[type=checkbox]").all():
        box.uncheck()
    section.locator("table").first.locator("input[type=checkbox]").first.check()
    manager.get_by_role("button", name="Valider les lignes cochées").click()
    expect(manager.get_by_text(re.compile(r"lignes? validées?\."))).to_be_visible()
    manager.context.close()

    login(page, "agent@demo.incubateur.fr")
    _open_notification(page, "Des heures de décharge sont validées")
    expect(page).to_have_url(re.compile(r"/mon-temps\?semaine=\d{4}-\d{2}-\d{2}$"))
    expect(page.locator(".week-days")).to_contain_text("Validé")
    assert_accessible(page)


def test_the_appointed_sponsor_is_told(page, browser, live_server):
    login(page, "animation@demo.incubateur.fr")
    page.locator("#attente-sponsors_to_appoint a").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lettre de mission")
    page.get_by_label("Commanditaire (adresse électronique)").fill("collectif@demo.incubateur.fr")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Lettre de mission enregistrée.")).to_be_visible()

    sponsor = open_page(browser, live_server, width=390)
    login(sponsor, "collectif@demo.incubateur.fr")
    _open_notification(sponsor, "Vous êtes désigné·e commanditaire d'un projet")
    expect(sponsor).to_have_url(re.compile(r"/projets/\d+/lettre-de-mission$"))
    assert_accessible(sponsor)
    sponsor.context.close()
