"""On SQLite, the server's writing requests queue on a file lock, not in SQLite's busy handler.

SQLite's busy handler polls: a writer that finds the write lock taken sleeps 1, 2, 5, 10,
15, 20, 25, 25, 25, 50, 50, 100 ms between tries, whatever the moment the lock is released.
With a few writers at once, the unlucky ones waited 150 to 300 ms (p95, benchmark) for
transactions of a few milliseconds. Before its BEGIN IMMEDIATE, a writing request takes an
exclusive flock on a file next to the database (`<database>.writers`): the kernel hands it
to the next writer as soon as the previous one's commit or rollback releases it, across the
server's workers and threads. Other programs (the CLI, the outbox worker) do not take it:
they still wait in SQLite's busy handler, and SQLite's own lock still guards the data.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading

_threads = threading.local()


def _this_thread() -> dict:
    """How many connections of this thread hold the gate (a dict, so that a release made
    from another thread counts for the one that took it)."""
    if not hasattr(_threads, "state"):
        _threads.state = {"held": 0}
    return _threads.state


class GatedConnection(sqlite3.Connection):
    """The `factory` of the application's SQLite connections (see create_app)."""

    def __init__(self, database, *args, **kwargs):
        super().__init__(database, *args, **kwargs)
        name = str(database)
        # No file to put the gate beside: an in-memory database has a single connection.
        self.gate_path = None if name in ("", ":memory:") or name.startswith("file:") else f"{name}.writers"
        self.gate_fd: int | None = None
        self.gate_thread: dict = {}

    def take_gate(self) -> None:
        """Wait for the gate (before BEGIN IMMEDIATE). A thread that already holds it through
        another connection goes straight to SQLite's lock, as before the gate: waiting on
        itself would never end, SQLite's wait does (and says "database is locked")."""
        thread = _this_thread()
        if self.gate_path is None or self.gate_fd is not None or thread["held"]:
            return
        # A descriptor per transaction: flock excludes other open files, threads included.
        fd = os.open(self.gate_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self.gate_fd, self.gate_thread = fd, thread
        thread["held"] += 1

    def release_gate(self) -> None:
        fd, self.gate_fd = self.gate_fd, None
        if fd is not None:
            self.gate_thread["held"] -= 1
            os.close(fd)  # closing the descriptor releases its lock

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.release_gate()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.release_gate()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.release_gate()
