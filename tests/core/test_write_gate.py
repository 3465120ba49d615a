"""SQLite writers of the server queue on a file lock (incubator/write_gate.py)."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from incubator.accounts.models import AuthSession
from incubator.audit.models import AuditEvent
from incubator.extensions import db
from incubator.timeutil import utcnow
from incubator.write_gate import GatedConnection
from tests.conftest import TEST_DATABASE_URL
from tests.factories import make_user


def connect(path) -> GatedConnection:
    return sqlite3.connect(path, factory=GatedConnection, isolation_level=None, check_same_thread=False)


def test_a_writer_waits_for_the_gate_until_the_holder_commits_or_rolls_back(tmp_path):
    path = tmp_path / "gate.db"
    first, second = connect(path), connect(path)
    first.take_gate()
    first.execute("BEGIN IMMEDIATE")
    taken = threading.Event()

    def other_writer():
        second.take_gate()
        taken.set()

    thread = threading.Thread(target=other_writer)
    thread.start()
    assert not taken.wait(0.2)  # still waiting while the first transaction is open
    first.commit()
    assert taken.wait(10)  # handed over by the commit
    thread.join()
    second.rollback()
    assert second.gate_fd is None
    first.take_gate()  # free again
    assert first.gate_fd is not None
    # A second connection of the same thread does not wait on the first (it would forever):
    # it goes to SQLite's own lock, as without the gate.
    second.take_gate()
    assert second.gate_fd is None
    first.close()
    assert first.gate_fd is None
    second.take_gate()
    assert second.gate_fd is not None
    second.close()


def test_an_in_memory_database_has_no_gate():
    connection = sqlite3.connect(":memory:", factory=GatedConnection)
    connection.take_gate()
    assert connection.gate_fd is None
    connection.close()


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="the writers' gate is SQLite's (PostgreSQL locks rows)")
def test_a_page_that_reads_writes_apart_queued_at_the_writers_gate(client, login, monkeypatch):
    """An HR read of an agent's record logs it, and a page shown after five idle minutes
    refreshes the session: both write in a transaction of their own, which takes the
    writers' gate and SQLite's write lock up front like a writing request (not SQLite's busy
    handler, which polls), while the page's own reads take neither."""
    hr = make_user(roles=["hr"])
    agent = make_user(institution=hr.institution)
    db.session.commit()
    login(client, hr)
    gates: list[bool] = []
    take_gate = GatedConnection.take_gate

    def spy(connection):
        take_gate(connection)
        gates.append(connection.gate_fd is not None)

    monkeypatch.setattr(GatedConnection, "take_gate", spy)
    assert client.get(f"/rh/engagement/{agent.id}").status_code == 200
    assert gates == [True]
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "engagement.viewed", AuditEvent.target_id == agent.id)) == 1
    gates.clear()
    assert client.get("/propositions").status_code == 200  # a read, nothing to write
    assert gates == []
    db.session.execute(update(AuthSession).where(AuthSession.user_id == hr.id)
                       .values(last_seen_at=utcnow() - timedelta(minutes=6)))
    db.session.commit()
    assert client.get("/propositions").status_code == 200  # then the session refreshed apart
    assert gates == [True]
    refreshed = db.session.scalar(select(AuthSession.last_seen_at).where(AuthSession.user_id == hr.id,
                                                                        AuthSession.revoked_at.is_(None)))
    assert utcnow() - refreshed < timedelta(minutes=1)
