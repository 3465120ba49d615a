"""The vote screen (issue 20): the option a member chose looks chosen — filled, ticked, says
« votre vote », pressed for assistive technologies — and the other options are neutral."""

import re

import pytest

from incubator.review import voting as review_voting
from tests.factories import make_proposal, make_session, make_settings, make_user
from tests.helpers import text


@pytest.fixture
def voting():
    coordinator = make_user(roles=["coordinator"], collective=True)
    member = make_user(org_unit=coordinator.org_unit, collective=True)
    make_settings(coordinator.institution)
    proposal = make_proposal(author=make_user(org_unit=coordinator.org_unit), state="in_review")
    session = make_session(coordinator.institution, created_by=coordinator)
    item = review_voting.schedule(coordinator, session, proposal)
    review_voting.set_attendance(coordinator, session, present_ids=[coordinator.id, member.id])
    review_voting.open_vote(coordinator, item)
    return member, session, item


def vote_buttons(page: str) -> dict[str, tuple[str, str, str]]:
    """{value: (class, aria-pressed, visible text)} of the vote's buttons."""
    found = re.findall(r'<button type="submit" name="choice" value="(\w+)" class="([^"]*)" '
                       r'aria-pressed="(\w+)">(.*?)</button>', page, re.S)
    return {value: (css, pressed, re.sub(r"<[^>]+>", "", label).strip()) for value, css, pressed, label in found}


def test_before_voting_no_option_looks_chosen(voting, client, login):
    member, session, item = voting
    login(client, member)
    buttons = vote_buttons(text(client.get(f"/arbitrage/seances/{session.id}")))
    assert len(buttons) >= 2
    assert all(css == "button-secondary" and pressed == "false" and "votre vote" not in label
               for css, pressed, label in buttons.values())


def test_the_chosen_option_is_filled_ticked_and_pressed_the_others_neutral(voting, client, login):
    member, session, item = voting
    login(client, member)
    fragment = text(client.post(f"/arbitrage/points/{item.id}/voter", data={"choice": "for"},
                                headers={"HX-Request": "true"}))
    for page in (fragment, text(client.get(f"/arbitrage/seances/{session.id}"))):
        buttons = vote_buttons(page)
        assert buttons["for"] == ("vote-chosen", "true", "✓ Pour — votre vote")
        others = [b for value, b in buttons.items() if value != "for"]
        assert others and all(b[:2] == ("button-secondary", "false") and "votre vote" not in b[2] for b in others)
