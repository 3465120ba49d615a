"""Every transition of the proposal lifecycle implemented here, allowed and refused,
by role and state, walked from the declarative table."""

import pytest

from incubator.extensions import db
from incubator.proposals import lifecycle
from incubator.proposals.models import Proposal, ProposalVersion
from tests.factories import make_institution, make_org_unit, make_proposal, make_user
from tests.helpers import field_errors, text, without_error_title

PEOPLE = ["author", "coauthor", "coordinator", "agent", "outsider"]
ENDPOINTS = {"submit": "deposer", "resubmit": "redeposer", "withdraw": "retirer"}


def test_table_is_consistent():
    for t in lifecycle.TRANSITIONS:
        assert t.source in lifecycle.STATES and t.target in lifecycle.STATES
        assert t.who <= {lifecycle.AUTHOR, lifecycle.COAUTHOR, lifecycle.COORDINATOR}
    assert len({(t.source, t.action) for t in lifecycle.TRANSITIONS}) == len(lifecycle.TRANSITIONS)
    # Every decided state is reachable; a final one is left only by a correction, which
    # sets no outcome but sends the proposal back to review.
    for state in ("accepted", "rejected", "not_eligible", "withdrawn"):
        assert {t.action for t in lifecycle.available(state, {lifecycle.AUTHOR, lifecycle.COORDINATOR})} <= {"correct"}
        assert any(t.target == state for t in lifecycle.TRANSITIONS)
    assert not lifecycle.available("withdrawn", {lifecycle.AUTHOR, lifecycle.COORDINATOR})
    for t in lifecycle.TRANSITIONS:
        if t.action == "correct":
            assert t.target == "in_review" and t.who == {lifecycle.COORDINATOR}
    # Accepted, rejected, changes requested: only by publishing a vote's outcome.
    for state in ("accepted", "rejected", "changes_requested"):
        assert {t.action for t in lifecycle.TRANSITIONS if t.target == state and t.source != state} == {
            {"accepted": "accept", "rejected": "reject", "changes_requested": "request_changes"}[state]}


@pytest.fixture
def cast():
    author = make_user(first_name="Autrice")
    coauthor = make_user(org_unit=author.org_unit)
    people = {
        "author": author,
        "coauthor": coauthor,
        "coordinator": make_user(org_unit=author.org_unit, roles=["coordinator"]),
        "agent": make_user(org_unit=author.org_unit),
        "outsider": make_user(org_unit=make_org_unit(make_institution()), roles=["coordinator"]),
    }
    return people


def _capacities(person: str) -> set[str]:
    return {"author": {lifecycle.AUTHOR}, "coauthor": {lifecycle.COAUTHOR},
            "coordinator": {lifecycle.COORDINATOR}}.get(person, set())


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("state", list(lifecycle.STATES))
@pytest.mark.parametrize("action", list(ENDPOINTS))
def test_transition_by_role_and_state(action, state, person, cast, make_client, login):
    proposal = make_proposal(author=cast["author"], state=state, coauthors=(cast["coauthor"],))
    client = make_client()
    login(client, cast[person])
    response = client.post(f"/propositions/{proposal.id}/{ENDPOINTS[action]}")
    expected = lifecycle.transition(state, action)
    sees_it = person != "outsider" and (state != "draft" or person in ("author", "coauthor"))
    if not sees_it:
        assert response.status_code == 404
        assert proposal.state == state
    elif expected is not None and expected.who & _capacities(person):
        assert response.status_code == 303, response.get_data(as_text=True)[-2000:]
        assert proposal.state == expected.target
    else:
        assert response.status_code in (403, 409)
        assert proposal.state == state


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("state", list(lifecycle.STATES))
def test_edit_by_role_and_state(state, person, cast, make_client, login):
    proposal = make_proposal(author=cast["author"], state=state, coauthors=(cast["coauthor"],))
    client = make_client()
    login(client, cast[person])
    response = client.get(f"/propositions/{proposal.id}/modifier")
    sees_it = person != "outsider" and (state != "draft" or person in ("author", "coauthor"))
    if not sees_it:
        assert response.status_code == 404
    elif lifecycle.allowed(state, "edit", _capacities(person)):
        assert response.status_code == 200
        response = client.post(f"/propositions/{proposal.id}/modifier",
                               data={"title": "Un titre révisé", "intent": "draft"})
        assert response.status_code == 303
        assert proposal.title == "Un titre révisé" and proposal.state == state
    else:
        assert response.status_code == 403
        before = proposal.title
        assert client.post(f"/propositions/{proposal.id}/modifier",
                           data={"title": "Forcé", "intent": "draft"}).status_code == 403
        assert proposal.title == before


def test_submit_snapshots_version_one_and_writes_public_event(client, login):
    author = make_user()
    proposal = make_proposal(author=author, state="draft")
    login(client, author)
    assert client.post(f"/propositions/{proposal.id}/deposer").status_code == 303
    assert proposal.state == "submitted" and proposal.submitted_at is not None
    versions = db.session.query(ProposalVersion).filter_by(proposal_id=proposal.id).all()
    assert [v.number for v in versions] == [1]
    page = client.get(f"/propositions/{proposal.id}").get_data(as_text=True)
    assert "Déposée par" in page and "(version 1)" in page


def test_incomplete_draft_cannot_be_submitted_and_stays_a_draft(client, login):
    author = make_user()
    proposal = make_proposal(author=author, state="draft", problem="", gain="")
    login(client, author)
    response = client.post(f"/propositions/{proposal.id}/deposer")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Décrivez le problème" in page and "Dites ce que l&#39;on gagne" in page
    assert proposal.state == "draft" and proposal.submitted_at is None
    assert db.session.query(ProposalVersion).filter_by(proposal_id=proposal.id).count() == 0


def test_resubmission_after_changes_creates_version_two(client, login):
    author = make_user()
    proposal = make_proposal(author=author, state="changes_requested")
    login(client, author)
    response = client.post(f"/propositions/{proposal.id}/modifier", data={
        "title": "Titre revu après la séance", "intent": "resubmit", **{
            k: getattr(proposal, k) + " (précisé)" for k in ("problem", "change", "beneficiaries", "gain", "needs")}})
    assert response.status_code == 303
    assert proposal.state == "submitted" and proposal.version_number == 2
    versions = db.session.query(ProposalVersion).filter_by(proposal_id=proposal.id).order_by(ProposalVersion.number).all()
    assert [v.title for v in versions] == [versions[0].title, "Titre revu après la séance"]
    page = client.get(f"/propositions/{proposal.id}/versions").get_data(as_text=True)
    assert "Version 2 (actuelle)" in page and "Version 1" in page


def test_withdraw_asks_for_confirmation_first(client, login):
    author = make_user()
    proposal = make_proposal(author=author, state="in_review")
    login(client, author)
    page = client.get(f"/propositions/{proposal.id}/retirer").get_data(as_text=True)
    assert "Confirmer le retrait" in page and proposal.state == "in_review"
    assert client.post(f"/propositions/{proposal.id}/retirer").status_code == 303
    assert proposal.state == "withdrawn"


def test_buttons_follow_the_table(client, login):
    author = make_user()
    proposal = make_proposal(author=author, state="draft")
    login(client, author)
    page = client.get(f"/propositions/{proposal.id}").get_data(as_text=True)
    assert "Déposer la proposition" in page and "Abandonner ce brouillon" in page
    proposal.state = "accepted"
    proposal.submitted_at = proposal.created_at
    page = client.get(f"/propositions/{proposal.id}").get_data(as_text=True)
    assert "Déposer la proposition" not in page and "Retirer" not in page and "Modifier" not in page


def test_drafts_are_private(client, login, make_client):
    author = make_user()
    draft = make_proposal(author=author, state="draft", title="Mon idée secrète")
    other = make_user(org_unit=author.org_unit, roles=["coordinator", "admin"])
    login(client, other)
    assert client.get(f"/propositions/{draft.id}").status_code == 404
    assert "Mon idée secrète" not in client.get("/propositions").get_data(as_text=True)
    mine = make_client()
    login(mine, author)
    assert "Mon idée secrète" in mine.get("/mes-propositions").get_data(as_text=True)
    assert db.session.get(Proposal, draft.id).state == "draft"


def test_edit_and_withdraw_write_the_one_way(client, login, make_client):
    """Success commits then redirects (303, HX-Redirect for htmx); a refused form answers
    422 with its messages, as a page or as the form's block, and writes nothing; the
    lifecycle's refusals answer 403 and 409 with its messages (web.write)."""
    author = make_user()
    proposal = make_proposal(author=author, state="draft", title="Un carnet numérique")
    login(client, author)
    for headers in ({}, {"HX-Request": "true"}):
        response = client.post(f"/propositions/{proposal.id}/modifier", data={"title": "Non", "intent": "draft"},
                               headers=headers)
        body = text(response)
        assert response.status_code == 422
        assert "Le titre doit compter entre 5 et 200 caractères." in field_errors(body, "title")
        assert ("<html" in body) is not bool(headers)  # htmx: the form's block alone
        if headers:
            assert without_error_title(body).startswith('<div class="card" id="proposal-form"')
        assert proposal.title == "Un carnet numérique"
    response = client.post(f"/propositions/{proposal.id}/modifier", data={"title": "Un carnet partagé", "intent": "draft"})
    assert (response.status_code, response.headers["Location"]) == (303, f"/propositions/{proposal.id}")
    assert proposal.title == "Un carnet partagé"

    proposal = make_proposal(author=author, state="in_review")
    other = make_client()
    login(other, make_user(org_unit=author.org_unit))
    refused = other.post(f"/propositions/{proposal.id}/retirer")
    assert refused.status_code == 403 and lifecycle.MACHINE.refused in text(refused)
    response = client.post(f"/propositions/{proposal.id}/retirer", headers={"HX-Request": "true"})
    assert (response.status_code, response.headers["HX-Redirect"]) == (204, f"/propositions/{proposal.id}")
    assert proposal.state == "withdrawn"
    again = client.post(f"/propositions/{proposal.id}/retirer")
    assert again.status_code == 409
    assert "Action impossible : la proposition est à l'étape « " + lifecycle.STATES["withdrawn"].label in text(again)
