"""One request, one write connection at most; a refused request takes no write lock.

On SQLite every write request holds the database's single write lock for its whole
transaction (BEGIN IMMEDIATE). A request that opened a second writing connection (a
session refresh, say) would wait on its own first one until the busy timeout, and every
other writer of the instance with it. These tests run on the real multi-process server,
on SQLite and on PostgreSQL alike: the same promises hold on both.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from incubator.accounts.models import AuthSession
from incubator.extensions import db
from incubator.proposals.models import Support
from incubator.timeutil import utcnow
from tests.factories import make_proposal, make_user

from .live import Browser, at_once
from .test_same_objects import count, fresh

# Durations are measured: nothing else runs beside these tests (scripts/test.sh).
pytestmark = pytest.mark.serial

# Far below the 30 s that SQLite waits for a lock, far above a write on an idle server.
QUICK = 1.0
# Long enough for any request of these tests; a stalled one is cut short and fails.
PATIENCE = 10


def idle(user, minutes: int = 6) -> None:
    """Age the user's sessions past the refresh interval (5 minutes), not past the idle
    timeout: the next request refreshes the session."""
    fresh()  # a snapshot read before the server's writes could not write any more
    db.session.execute(update(AuthSession).where(AuthSession.user_id == user.id)
                       .values(last_seen_at=utcnow() - timedelta(minutes=minutes)))
    db.session.commit()


def support(browser: Browser, proposal_id: int):
    started = time.monotonic()
    answer = browser.post(f"/propositions/{proposal_id}/soutien", timeout=PATIENCE)
    return answer, time.monotonic() - started


def test_a_session_idle_past_the_refresh_writes_at_once_beside_another_writer(live):
    author = make_user()
    first, second = (make_proposal(author=author, state="submitted") for _ in range(2))
    sleeper, other = (make_user(institution=author.institution) for _ in range(2))
    db.session.commit()
    sleeper_browser, other_browser = live.logged_in(sleeper, other)
    idle(sleeper)

    first_id, second_id = first.id, second.id  # threads have no application context
    (sleeper_answer, sleeper_took), (other_answer, other_took) = at_once(
        lambda: support(sleeper_browser, first_id), lambda: support(other_browser, second_id))

    assert (sleeper_answer.status, other_answer.status) == (303, 303), sleeper_answer.text[:300]
    assert sleeper_took < QUICK and other_took < QUICK, (sleeper_took, other_took)
    fresh()
    assert count(Support, Support.user_id == sleeper.id) == 1
    assert count(Support, Support.user_id == other.id) == 1
    # The session was refreshed, in the request's own transaction.
    last_seen = db.session.scalar(select(AuthSession.last_seen_at).where(
        AuthSession.user_id == sleeper.id, AuthSession.revoked_at.is_(None)))
    assert utcnow() - last_seen < timedelta(minutes=1)


def test_posts_without_token_from_a_stale_session_do_not_hold_up_a_valid_write(live):
    author = make_user()
    proposal = make_proposal(author=author, state="submitted")
    attacker, agent = (make_user(institution=author.institution) for _ in range(2))
    db.session.commit()
    attacker_browser, agent_browser = live.logged_in(attacker, agent)
    idle(attacker)
    forger = TokenLess(attacker_browser)
    path = f"/propositions/{proposal.id}/soutien"

    def forged():
        return forger.post(path, timeout=PATIENCE)

    with ThreadPoolExecutor(max_workers=6) as pool:
        forged_answers = [pool.submit(forged) for _ in range(50)]
        answer, took = support(agent_browser, proposal.id)
        refused = [future.result(timeout=PATIENCE * 6) for future in forged_answers]

    assert answer.status == 303 and took < QUICK, (answer.status, took)
    assert {a.status for a in refused} == {400}
    assert "jeton de sécurité" in refused[0].text
    fresh()
    assert count(Support, Support.user_id == attacker.id) == 0
    assert count(Support, Support.user_id == agent.id) == 1


def test_refused_requests_render_their_page_while_another_request_writes(live):
    """A 404, a 405 and a CSRF refusal answer their own page at once, even while a write
    transaction is open elsewhere: none of them waits for, or takes, the write lock."""
    agent = make_user()
    db.session.commit()
    (browser,) = live.logged_in(agent)
    idle(agent)
    # Hold the write lock (SQLite) or the session rows (PostgreSQL) from the test itself,
    # as a long write would.
    with db.engine.connect() as holder:
        holder.exec_driver_sql("UPDATE auth_sessions SET ip_address = ip_address")
        try:
            timings = {}
            for label, call in {
                "404": lambda: browser.get("/pas-de-page-ici", timeout=PATIENCE),
                "405": lambda: browser.post("/propositions", timeout=PATIENCE),
                "csrf": lambda: TokenLess(browser).post("/deconnexion", timeout=PATIENCE),
            }.items():
                started = time.monotonic()
                answer = call()
                timings[label] = (answer.status, time.monotonic() - started)
                assert "<h1>" in answer.text, (label, answer.status, answer.text[:300])
        finally:
            holder.rollback()
    assert {label: status for label, (status, _) in timings.items()} == {
        "404": 404, "405": 405, "csrf": 400}
    assert all(took < QUICK for _, took in timings.values()), timings


class TokenLess(Browser):
    """The same cookies (the same session), never sending a CSRF token, whatever the pages
    it loads carry."""

    def __init__(self, browser: Browser):
        super().__init__(browser.base_url)
        self.cookies, self.opener = browser.cookies, browser.opener

    @property
    def csrf_token(self) -> str:
        return ""

    @csrf_token.setter
    def csrf_token(self, _value: str) -> None:
        pass


def test_logging_out_after_idling_ends_the_session(live):
    agent = make_user()
    db.session.commit()
    (browser,) = live.logged_in(agent)
    idle(agent, minutes=30)

    started = time.monotonic()
    answer = browser.post("/deconnexion", timeout=PATIENCE)
    assert answer.status == 303 and time.monotonic() - started < QUICK, answer.status
    assert browser.get("/mon-temps").status == 302  # back to the login page
    fresh()
    assert db.session.scalar(select(AuthSession.revoked_at).where(
        AuthSession.user_id == agent.id)) is not None
