"""Small portable SQL helpers for SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from .extensions import db


def insert_ignoring_duplicates(model: type, **values: Any) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True if a row was inserted.

    Lets a unique constraint absorb a double click or a concurrent request without
    aborting the transaction."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = model.__table__
    statement = (insert(table).values(**values).on_conflict_do_nothing()
                 .returning(*table.primary_key.columns))
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT that returns rows.
    return db.session.execute(statement).first() is not None
