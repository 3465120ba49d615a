import pytest
from sqlalchemy import func, select

from incubator.audit.models import AuditEvent
from incubator.extensions import db
from incubator.proposals import lifecycle
from incubator.proposals.models import Comment, Support
from tests.factories import make_comment, make_institution, make_org_unit, make_proposal, make_user
from tests.helpers import text, without_error_title


def _supports(proposal) -> int:
    return db.session.scalar(select(func.count()).select_from(Support).where(Support.proposal_id == proposal.id))


def test_support_toggles_and_counts(client, login):
    proposal = make_proposal(state="in_review")
    backer = make_user(org_unit=proposal.author.org_unit)
    login(client, backer)
    response = client.post(f"/propositions/{proposal.id}/soutien")
    assert response.status_code == 303
    assert (proposal.support_count, _supports(proposal)) == (1, 1)
    # htmx: the support block alone, updated in place.
    response = client.post(f"/propositions/{proposal.id}/soutien", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith('<section class="card support-box" id="soutiens"')
    assert '<span class="stat">0</span>' in body and "Soutenir cette proposition" in body
    assert (proposal.support_count, _supports(proposal)) == (0, 0)
    client.post(f"/propositions/{proposal.id}/soutien", headers={"HX-Request": "true"})
    assert proposal.support_count == 1


def test_one_support_per_agent_even_when_the_row_exists(client, login):
    proposal = make_proposal(state="submitted")
    backer = make_user(org_unit=proposal.author.org_unit)
    from incubator.dbutil import insert_ignoring_duplicates

    assert insert_ignoring_duplicates(Support, proposal_id=proposal.id, user_id=backer.id) is True
    assert insert_ignoring_duplicates(Support, proposal_id=proposal.id, user_id=backer.id) is False
    assert _supports(proposal) == 1


@pytest.mark.parametrize("state", list(lifecycle.STATES))
def test_support_only_while_awaiting_an_answer(state, client, login):
    proposal = make_proposal(state=state)
    login(client, make_user(org_unit=proposal.author.org_unit))
    response = client.post(f"/propositions/{proposal.id}/soutien")
    if state == "draft":
        assert response.status_code == 404
    elif state in lifecycle.OPEN_STATES:
        assert response.status_code == 303 and _supports(proposal) == 1
    else:
        assert response.status_code == 403 and _supports(proposal) == 0


def test_no_support_on_ones_own_proposal_nor_across_institutions(client, login, make_client):
    coauthor = make_user()
    proposal = make_proposal(state="submitted", coauthors=(coauthor,))
    for person in (proposal.author, coauthor):
        c = make_client()
        login(c, person)
        response = c.post(f"/propositions/{proposal.id}/soutien")
        assert response.status_code == 403 and "sa propre proposition" in text(response)
    outsider = make_user(org_unit=make_org_unit(make_institution()))
    login(client, outsider)
    assert client.post(f"/propositions/{proposal.id}/soutien").status_code == 404
    assert _supports(proposal) == 0


def test_comments_newest_last_with_links_and_moderation(client, login, make_client):
    proposal = make_proposal(state="submitted")
    first, second = make_user(first_name="Inès"), make_user(first_name="Paul")
    for user, body in ((first, "Premier avis : voir https://exemple.fr/doc."), (second, "Second avis.")):
        c = make_client()
        login(c, user)
        assert c.post(f"/propositions/{proposal.id}/commentaires", data={"body": body}).status_code == 303
    assert proposal.comment_count == 2
    coordinator = make_user(roles=["coordinator"], first_name="Nadia")
    login(client, coordinator)
    page = text(client.get(f"/propositions/{proposal.id}"))
    assert page.index("Premier avis") < page.index("Second avis")
    assert '<a href="https://exemple.fr/doc" rel="nofollow noopener noreferrer">https://exemple.fr/doc</a>.' in page
    comment = db.session.scalar(select(Comment).where(Comment.author_id == second.id))
    # Hiding needs a reason, then shows who hid it and why.
    assert "Masquer le commentaire" in text(client.get(f"/propositions/{proposal.id}/commentaires/{comment.id}/masquer"))
    response = client.post(f"/propositions/{proposal.id}/commentaires/{comment.id}/masquer", data={"reason": ""})
    assert response.status_code == 422 and "Donnez la raison" in text(response)
    assert comment.hidden_at is None
    response = client.post(f"/propositions/{proposal.id}/commentaires/{comment.id}/masquer",
                           data={"reason": "Propos hors sujet et blessant."})
    assert response.status_code == 303
    page = text(client.get(f"/propositions/{proposal.id}"))
    assert "Second avis." not in page
    assert "masqué par Nadia" in page and "Propos hors sujet et blessant." in page
    assert db.session.scalar(select(AuditEvent.is_public).where(AuditEvent.action == "comment.hidden")) is True
    # Twice: refused.
    assert client.post(f"/propositions/{proposal.id}/commentaires/{comment.id}/masquer",
                       data={"reason": "Encore une fois."}).status_code == 409


def test_only_the_coordinator_hides_comments(client, login):
    proposal = make_proposal(state="submitted")
    comment = make_comment(proposal, proposal.author)
    login(client, make_user(org_unit=proposal.author.org_unit, roles=["admin"]))
    assert client.get(f"/propositions/{proposal.id}/commentaires/{comment.id}/masquer").status_code == 403
    assert client.post(f"/propositions/{proposal.id}/commentaires/{comment.id}/masquer",
                       data={"reason": "Je n'aime pas."}).status_code == 403
    assert comment.hidden_at is None


def test_comment_bad_input_and_htmx_fragment(client, login):
    proposal = make_proposal(state="submitted")
    login(client, make_user(org_unit=proposal.author.org_unit))
    response = client.post(f"/propositions/{proposal.id}/commentaires", data={"body": "   "}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    body = text(response)
    assert without_error_title(body).startswith('<section id="commentaires"') and "Écrivez votre commentaire." in body
    response = client.post(f"/propositions/{proposal.id}/commentaires", data={"body": "x" * 3001})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 0
    response = client.post(f"/propositions/{proposal.id}/commentaires", data={"body": "Bien vu."}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Bien vu." in text(response)
    draft = make_proposal(author=proposal.author, state="draft")
    assert client.post(f"/propositions/{draft.id}/commentaires", data={"body": "x"}).status_code == 404


def test_coauthor_invitation_accept_and_decline(client, login, make_client):
    invitee, other = make_user(first_name="Jeanne"), make_user(first_name="Marc")
    proposal = make_proposal(state="submitted", invited=(invitee, other))
    login(client, invitee)
    page = text(client.get(f"/propositions/{proposal.id}"))
    assert "vous invite à co-signer" in page and "Jeanne" not in page.split("Par ")[1].split("</p>")[0]
    assert "Invitations à co-signer (1)" in text(client.get("/mes-propositions"))
    assert client.post(f"/propositions/{proposal.id}/invitation", data={"answer": "accept"}).status_code == 303
    page = text(client.get(f"/propositions/{proposal.id}"))
    assert "Jeanne" in page.split("Par ")[1].split("</p>")[0]
    assert "a rejoint les co-auteurs" in page
    assert client.post(f"/propositions/{proposal.id}/invitation", data={"answer": "accept"}).status_code == 409
    declined = make_client()
    login(declined, other)
    assert declined.post(f"/propositions/{proposal.id}/invitation", data={"answer": "decline"}).status_code == 303
    assert "Marc" not in text(declined.get(f"/propositions/{proposal.id}")).split("Par ")[1].split("</p>")[0]
    stranger = make_client()
    login(stranger, make_user())
    assert stranger.post(f"/propositions/{proposal.id}/invitation", data={"answer": "accept"}).status_code == 403


def test_a_long_discussion_shows_its_newest_comments_then_the_earlier_ones_a_page_at_a_time(client, login):
    from datetime import datetime, timedelta

    from incubator.proposals.queries import COMMENTS_PER_PAGE

    proposal = make_proposal(state="submitted")
    start = datetime(2026, 10, 5, 9, 0)
    # 45 comments, two of them at the same moment: the thread's order is the moment, then the number.
    for number in range(1, 46):
        make_comment(proposal, body=f"Avis {number:02d}.", created_at=start + timedelta(minutes=min(number, 44)))
    login(client, make_user(org_unit=proposal.author.org_unit))

    def shown(page):
        return [int(n) for n in __import__("re").findall(r"Avis (\d\d)\.", page)]

    page = text(client.get(f"/propositions/{proposal.id}"))
    assert COMMENTS_PER_PAGE == 20 and "Commentaires (45)" in page
    assert shown(page) == list(range(26, 46))
    assert "Revenir aux commentaires les plus récents" not in page
    earlier = __import__("re").search(r'href="(/propositions/\d+\?avant=\d+)#commentaires">Voir les commentaires précédents',
                                      page).group(1)
    page = text(client.get(earlier))
    assert shown(page) == list(range(6, 26)) and "Revenir aux commentaires les plus récents" in page
    earliest = __import__("re").search(r'href="(/propositions/\d+\?avant=\d+)#commentaires">Voir les commentaires précédents',
                                       page).group(1)
    page = text(client.get(earliest))
    assert shown(page) == list(range(1, 6)) and "Voir les commentaires précédents" not in page
    # An address made up: no comment before it, said so.
    page = text(client.get(f"/propositions/{proposal.id}?avant=999999"))
    assert shown(page) == [] and "Aucun commentaire plus ancien." in page
    # A new comment (htmx): the newest page, with it, the count with it.
    response = client.post(f"/propositions/{proposal.id}/commentaires", data={"body": "Avis 46."},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert shown(text(response)) == list(range(27, 47)) and "Commentaires (46)" in text(response)
