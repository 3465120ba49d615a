"""A proposal's forms show exactly when the service accepts them: the page is read, the
form is sent anyway, and both answers must agree; each test also states who may act where."""

from __future__ import annotations

import pytest

from incubator.extensions import db
from tests.factories import INITIATIVE_TEXT, make_proposal, make_user
from tests.helpers import text


def _agrees(client, pages: list[str], marker: str, post: str, data: dict) -> bool:
    shown = {page: marker in text(client.get(page)) for page in pages}
    assert len(set(shown.values())) == 1, shown  # every page that offers it agrees
    answer = client.post(post, data=data)
    assert answer.status_code in (303, 403, 409), answer.status_code
    assert (answer.status_code == 303) == shown[pages[0]], f"shown: {shown}, service answered {answer.status_code}"
    return shown[pages[0]]


@pytest.mark.parametrize("state", ["draft", "submitted", "accepted", "withdrawn"])
def test_the_invitation_buttons(state, make_client, login):
    """The invited agent answers while the proposal awaits its answer (its page and their
    list of invitations)."""
    invited = make_user(first_name="Inès")
    proposal = make_proposal(author=make_user(org_unit=invited.org_unit), state=state, invited=(invited,))
    client = make_client()
    login(client, invited)
    url = f"/propositions/{proposal.id}/invitation"
    shown = _agrees(client, [f"/propositions/{proposal.id}", "/mes-propositions"], f'action="{url}"', url,
                    {"answer": "accept"})
    assert shown == (state in ("draft", "submitted"))


@pytest.mark.parametrize("person", ["author", "coauthor"])
@pytest.mark.parametrize("state,intent", [("draft", "submit"), ("changes_requested", "resubmit")])
def test_the_deposit_button_of_the_form(state, intent, person, make_client, login):
    """The form offers the deposit the table lets the person take: the author submits a
    draft or resubmits a revision; a co-author edits the text only."""
    author = make_user(first_name="Awa")
    coauthor = make_user(org_unit=author.org_unit, first_name="Chloé")
    proposal = make_proposal(author=author, state=state, coauthors=(coauthor,), title="Carnet d'entretien numérique")
    db.session.flush()
    client = make_client()
    login(client, {"author": author, "coauthor": coauthor}[person])
    url = f"/propositions/{proposal.id}/modifier"
    shown = _agrees(client, [url], f'name="intent" value="{intent}"', url,
                    {"title": proposal.title, "intent": intent, **INITIATIVE_TEXT})
    assert shown == (person == "author")
    db.session.refresh(proposal)
    assert (proposal.state == "submitted") == shown
