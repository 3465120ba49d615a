"""A request refused before its view (CSRF, unknown address, wrong method) reads nothing
from the database: it can neither wait for nor take SQLite's write lock, and its error
page renders while the database is locked or down."""

from __future__ import annotations

import pytest

from tests.factories import make_proposal, make_user


@pytest.mark.parametrize("method, path, csrf, status", [
    ("post", "/propositions/{id}/soutien", False, 400),
    ("post", "/deconnexion", False, 400),
    ("get", "/cette-page-n-existe-pas", True, 404),
    ("post", "/propositions", True, 405),
    ("get", "/propositions/{id}/soutien", True, 405),
])
def test_refused_before_the_view_without_a_query(client, login, count_queries, method, path, csrf, status):
    agent = make_user()
    proposal = make_proposal(author=make_user(institution=agent.institution))
    login(client, agent)
    with count_queries() as counter:
        response = getattr(client, method)(path.format(id=proposal.id), csrf=csrf)
    assert response.status_code == status
    assert "<h1>" in response.get_data(as_text=True)
    assert counter.count == 0, counter.statements
    assert response.headers["Cache-Control"] == "no-store"


def test_a_refused_post_leaves_the_session_alive_and_an_accepted_one_works(client, login):
    agent = make_user()
    proposal = make_proposal(author=make_user(institution=agent.institution))
    login(client, agent)
    assert client.post(f"/propositions/{proposal.id}/soutien", csrf=False).status_code == 400
    assert client.post(f"/propositions/{proposal.id}/soutien").status_code == 303
    assert client.get("/mon-temps").status_code == 200
