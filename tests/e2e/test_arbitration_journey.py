import re

import pytest
from playwright.sync_api import expect

from .conftest import assert_accessible, login, open_page

pytestmark = pytest.mark.e2e

TITLE = "Une boîte à idées vocale pour les agents de terrain"
RATIONALE = ("Le collectif retient cette proposition : elle donne la parole aux agents qui n'ont pas "
             "d'ordinateur, pour un coût très faible. Les évaluations soulignent son utilité.")


def test_from_submission_to_published_decision(page, browser, live_server):
    # The author submits.
    login(page, "agent@demo.incubateur.fr")
    page.goto("/propositions/nouvelle")
    page.get_by_label("Titre").fill(TITLE)
    page.get_by_label("Le problème").fill("Les agents de terrain n'ont pas d'ordinateur pour proposer des idées.")
    page.get_by_label("Ce qui est proposé").fill("Un numéro où laisser un message vocal, retranscrit par l'animation.")
    page.get_by_label("Pour qui, et quelle valeur").fill("Les agents des services techniques et de l'entretien.")
    page.get_by_label("Le gain par rapport à aujourd'hui").fill("Des idées qui ne remontaient jamais.")
    page.get_by_label("Ce qu'il faut").fill("Une ligne téléphonique et deux heures par mois.")
    page.get_by_role("button", name="Déposer la proposition").click()
    expect(page.get_by_text("Proposition déposée")).to_be_visible()
    proposal_url = page.url

    # The coordinator opens the review.
    chair = open_page(browser, live_server)
    login(chair, "animation@demo.incubateur.fr")
    chair.goto("/arbitrage")
    assert_accessible(chair)
    chair.get_by_role("link", name="Recevabilité").click()
    assert_accessible(chair)
    chair.get_by_role("row", name=re.compile(TITLE)).get_by_role("link", name="Examiner").click()
    assert_accessible(chair)
    chair.get_by_role("button", name="Ouvrir l'instruction").click()
    expect(chair.get_by_text("Instruction ouverte")).to_be_visible()

    # A member assesses it.
    member = open_page(browser, live_server, width=390)  # on a phone
    login(member, "collectif@demo.incubateur.fr")
    member.goto("/arbitrage/a-evaluer")
    assert_accessible(member)
    member.get_by_role("link", name=TITLE).click()
    expect(member.get_by_role("heading", level=1)).to_have_text("Évaluer la proposition")
    expect(member.locator("form fieldset")).to_have_count(5)
    for fieldset in member.locator("form fieldset").all():
        fieldset.get_by_label(re.compile(r"^4 — ")).check()
    assert_accessible(member)
    member.get_by_role("button", name="Enregistrer mon évaluation").click()
    expect(member.get_by_text("Évaluation enregistrée")).to_be_visible()

    # The coordinator puts it on the next session's agenda, records attendance, opens the vote.
    chair.goto("/arbitrage/seances")
    chair.get_by_role("link", name=re.compile(r"^Séance du ")).first.click()
    select = chair.get_by_label("Proposition en instruction à inscrire")
    value = select.locator("option", has_text=TITLE).get_attribute("value")
    select.select_option(value)
    chair.get_by_role("button", name="Inscrire à l'ordre du jour").click()
    expect(chair.get_by_text("Proposition inscrite")).to_be_visible()
    expect(chair.locator("#presences input[type=checkbox]")).to_have_count(9)
    for box in chair.locator("#presences input[type=checkbox]").all():
        box.check()
    chair.get_by_role("button", name="Enregistrer les présences").click()
    item = chair.locator("section.item", has_text=TITLE)
    item.get_by_role("button", name="Ouvrir le vote").click()
    expect(chair.get_by_text("Vote ouvert : les membres présents peuvent voter.")).to_be_visible()
    assert_accessible(chair)

    # The member votes from the phone; the tally updates in place; the chair sees it live.
    session_url = chair.url.split("#")[0]
    member.goto(session_url)
    member_item = member.locator("section.item", has_text=TITLE)
    member_item.get_by_role("button", name="Pour", exact=True).click()
    expect(member_item.get_by_text("Votre vote : Pour")).to_be_visible()
    expect(member_item.locator(".tally")).to_contain_text("Pour : 1")
    assert_accessible(member)
    item = chair.locator("section.item", has_text=TITLE)
    expect(item.locator(".tally")).to_contain_text("Pour : 1", timeout=15_000)
    item.get_by_role("button", name="Pour", exact=True).click()
    expect(item.locator(".tally")).to_contain_text("Pour : 2")

    # Close, then publish with a rationale (refused when too short).
    item.get_by_role("button", name="Clore le vote").click()
    expect(chair.get_by_text("Vote clos : proposition adoptée")).to_be_visible()
    item = chair.locator("section.item", has_text=TITLE)
    item.get_by_label("Motivation publiée").fill("Oui.")
    item.get_by_role("button", name="Publier la décision").click()
    expect(chair.locator(".field-errors").get_by_text("La motivation est obligatoire")).to_be_visible()
    assert_accessible(chair)
    item = chair.locator("section.item", has_text=TITLE)
    item.get_by_label("Retenue").check()
    item.get_by_label("Motivation publiée").fill(RATIONALE)
    item.get_by_role("button", name="Publier la décision").click()
    expect(chair.get_by_text("Décision publiée au journal")).to_be_visible()

    # The author reads it on the proposal page and in the journal.
    page.goto(proposal_url)
    expect(page.locator(".state-box")).to_contain_text("Retenue")
    decisions = page.locator("#decisions")
    expect(decisions).to_contain_text(RATIONALE)
    expect(decisions).to_contain_text("2 pour, 0 contre")
    expect(decisions).to_contain_text("Évaluations du collectif (1)")
    assert_accessible(page)
    page.goto("/arbitrage/journal")
    expect(page.locator("#results article").first).to_contain_text(TITLE)
    expect(page.locator("#results article").first).to_contain_text(RATIONALE)
    assert_accessible(page)
    for other in (chair, member):
        other.context.close()


def test_collective_pages_are_accessible(page):
    login(page, "animation@demo.incubateur.fr")
    for path in ("/arbitrage/reglages", "/arbitrage/delais", "/arbitrage/seances", "/arbitrage/criteres/nouveau",
                 "/arbitrage/journal?issue=not_eligible"):
        page.goto(path)
        assert_accessible(page)
