"""Optional measurement for the benchmark: the number of SQL statements a request ran,
in an `X-Query-Count` response header (config QUERY_COUNT_HEADER, off by default)."""

from __future__ import annotations

from flask import Flask, Response, g, has_request_context
from sqlalchemy import event

from .extensions import db


def init_query_counter(app: Flask) -> None:
    if not app.config.get("QUERY_COUNT_HEADER"):
        return

    def count(_conn, _cursor, statement: str, *_args) -> None:
        # SQLite's explicit BEGIN (see create_app) is not a query; PostgreSQL sends none.
        if has_request_context() and statement != "BEGIN" and not statement.startswith("BEGIN "):
            g.query_count = g.get("query_count", 0) + 1

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)

    @app.after_request
    def add_header(response: Response) -> Response:
        # A streamed export runs most of its queries after this point: counted up to here.
        response.headers["X-Query-Count"] = str(g.get("query_count", 0))
        return response
