"""Optional measurement for the benchmark, off by default (each costs a little per query):

- QUERY_COUNT_HEADER: the number of SQL statements a request ran, in `X-Query-Count`;
- SERVER_TIMING_HEADER: where a request's time went, in a `Server-Timing` header
  (`total;dur=12.3, sql;dur=4.1, lock;dur=0.0, tpl;dur=5.2, app;dur=3.0`, milliseconds):
  `sql` the execution of its statements, `lock` the wait for a write lock (SQLite's
  `BEGIN IMMEDIATE`, PostgreSQL's advisory and row locks), `tpl` the Jinja rendering (the
  statements it ran excluded: they are in `sql`), `app` the rest (routing, guards,
  forms, services, ORM loading); on SQLite, a writing request also says how long it held
  the write gate, `held` (part of the others' time, not added to them). SQLite computes a result's rows after the first as they
  are fetched: with this header on, its connections come from TimedSQLiteConnection, whose
  cursors add their fetching to `sql`. `total` starts when the request's first hook runs
  (see observability.init_logging) and ends at after_request.
"""

from __future__ import annotations

import sqlite3
import time

from flask import Flask, Response, before_render_template, g, has_request_context, template_rendered
from sqlalchemy import event

from .extensions import db
from .write_gate import GatedConnection


def _add_sql_time(seconds: float) -> None:
    if has_request_context():
        g.timing_sql = g.get("timing_sql", 0.0) + seconds


def _timed_fetch(fetch, *args, **kwargs):
    started = time.perf_counter()
    try:
        return fetch(*args, **kwargs)
    finally:
        _add_sql_time(time.perf_counter() - started)


class TimedSQLiteCursor(sqlite3.Cursor):
    """Times the fetching of rows, where SQLite does most of a query's work."""

    def fetchone(self):
        return _timed_fetch(super().fetchone)

    def fetchmany(self, *args, **kwargs):
        return _timed_fetch(super().fetchmany, *args, **kwargs)

    def fetchall(self):
        return _timed_fetch(super().fetchall)


class TimedSQLiteConnection(GatedConnection):
    """The `factory` of SQLite connections when SERVER_TIMING_HEADER is on (create_app).
    Also times how long a request holds the write gate (`held`): what every other writer
    waits for, so the part of a write to shorten first."""

    gate_taken_at: float | None = None

    def cursor(self, factory=TimedSQLiteCursor):
        return super().cursor(factory)

    def take_gate(self) -> None:
        super().take_gate()
        if self.gate_fd is not None and self.gate_taken_at is None:
            self.gate_taken_at = time.perf_counter()

    def release_gate(self) -> None:
        taken, self.gate_taken_at = self.gate_taken_at, None
        super().release_gate()
        if taken is not None and has_request_context():
            g.timing_held = g.get("timing_held", 0.0) + time.perf_counter() - taken


def add_lock_wait(seconds: float) -> None:
    """Time spent waiting for the write gate (write_gate.py), before BEGIN IMMEDIATE."""
    if has_request_context():
        g.timing_lock = g.get("timing_lock", 0.0) + seconds


def _is_begin(statement: str) -> bool:
    return statement == "BEGIN" or statement.startswith("BEGIN ")


def _waits_for_lock(statement: str) -> bool:
    # What a writer blocks on: SQLite's write lock, PostgreSQL's advisory and row locks
    # (dbutil.serialise_on, dbutil.lock_row).
    return statement.startswith("BEGIN IMMEDIATE") or "pg_advisory_xact_lock" in statement \
        or statement.rstrip().endswith("FOR UPDATE")


TIMING_KEYS = ("query_count", "statement_started", "timing_sql", "timing_lock", "timing_held", "timing_template",
               "timing_depth", "timing_template_started", "timing_sql_before_template")


def init_query_counter(app: Flask) -> None:
    counting = bool(app.config.get("QUERY_COUNT_HEADER"))
    timing = bool(app.config.get("SERVER_TIMING_HEADER"))
    if not counting and not timing:
        return

    def before(_conn, _cursor, statement: str, *_args) -> None:
        if not has_request_context():
            return
        # SQLite's explicit BEGIN (see create_app) is not a query; PostgreSQL sends none.
        if counting and not _is_begin(statement):
            g.query_count = g.get("query_count", 0) + 1
        if timing:
            g.statement_started = time.perf_counter()

    def after(_conn, _cursor, statement: str, *_args) -> None:
        if not timing or not has_request_context() or "statement_started" not in g:
            return
        spent = time.perf_counter() - g.pop("statement_started")
        key = "timing_lock" if _waits_for_lock(statement) else "timing_sql"
        setattr(g, key, g.get(key, 0.0) + spent)

    def reset() -> None:
        # A context kept across requests (tests) keeps `g`: each request counts afresh.
        for name in TIMING_KEYS:
            g.pop(name, None)

    # First of the before_request functions: the ones before it may query already.
    app.before_request_funcs.setdefault(None, []).insert(0, reset)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", before)
        event.listen(db.engine, "after_cursor_execute", after)

    if timing:
        # A template may include or render another: only the outermost one is timed.
        def template_starts(_app, **_extra) -> None:
            depth = g.get("timing_depth", 0)
            if depth == 0:
                g.timing_template_started = time.perf_counter()
                g.timing_sql_before_template = g.get("timing_sql", 0.0) + g.get("timing_lock", 0.0)
            g.timing_depth = depth + 1

        def template_ends(_app, **_extra) -> None:
            g.timing_depth = g.get("timing_depth", 1) - 1
            if g.timing_depth == 0 and "timing_template_started" in g:
                spent = time.perf_counter() - g.pop("timing_template_started")
                queries = g.get("timing_sql", 0.0) + g.get("timing_lock", 0.0) - g.pop("timing_sql_before_template")
                g.timing_template = g.get("timing_template", 0.0) + spent - queries

        before_render_template.connect(template_starts, app, weak=False)
        template_rendered.connect(template_ends, app, weak=False)

    @app.after_request
    def add_headers(response: Response) -> Response:
        # A streamed export runs most of its queries after this point: counted up to here.
        if counting:
            response.headers["X-Query-Count"] = str(g.get("query_count", 0))
        if timing:
            started = g.get("request_started")
            total = (time.perf_counter() - started) if started is not None else 0.0
            sql, lock, template = g.get("timing_sql", 0.0), g.get("timing_lock", 0.0), g.get("timing_template", 0.0)
            parts = {"total": total, "sql": sql, "lock": lock, "tpl": template,
                     "app": max(total - sql - lock - template, 0.0)}
            if "timing_held" in g:  # within the others, not added to them
                parts["held"] = g.timing_held
            response.headers["Server-Timing"] = ", ".join(f"{name};dur={seconds * 1000:.2f}"
                                                          for name, seconds in parts.items())
        return response
