"""What a writing request does inside its write transaction (on SQLite, while every other
writer waits at the write gate): its own reads and writes, not the sign-in's."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine

from incubator.web import request_writes
from tests.factories import make_proposal, make_user


def statements_of(client, path: str, *, status: int = 303, **post) -> list[tuple[bool, str]]:
    """(whether the request was a writer then, statement) for each statement of a POST."""
    seen: list[tuple[bool, str]] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append((request_writes(), " ".join(statement.split())))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        response = client.post(path, **post)
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert response.status_code == status
    return seen


def test_the_signed_in_person_is_read_before_the_write_transaction(client, login):
    proposal = make_proposal(state="in_review")
    login(client, make_user(org_unit=proposal.author.org_unit))
    seen = statements_of(client, f"/propositions/{proposal.id}/soutien")
    sign_in = [writes for writes, statement in seen if "FROM auth_sessions" in statement]
    assert sign_in == [False]
    # The view's own reads and writes are the write transaction's.
    writes = [writes for writes, statement in seen if statement.startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes and all(writes)
    assert any(writes for writes, statement in seen if "FROM proposals" in statement)


def test_a_refused_write_renders_its_answer_outside_the_write_transaction(client, login):
    """The form again, with its message, is read and rendered once the refused write is
    rolled back, as a successful write's answer is after its commit: not while every other
    writer waits."""
    proposal = make_proposal(state="in_review")
    login(client, make_user(org_unit=proposal.author.org_unit))
    for headers in ({}, {"HX-Request": "true"}):  # the page, and the comments block
        seen = statements_of(client, f"/propositions/{proposal.id}/commentaires", status=422,
                             data={"body": "   "}, headers=headers)
        # The view's check of the proposal is the write transaction's...
        assert any(writes for writes, statement in seen if "FROM proposals" in statement), headers
        # ...the answer's reads are not.
        assert [writes for writes, statement in seen if "FROM comments" in statement] == [False], headers
