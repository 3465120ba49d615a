"""SQLite writers of the server queue on a file lock (incubator/write_gate.py)."""

from __future__ import annotations

import sqlite3
import threading

from incubator.write_gate import GatedConnection


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
