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
    statement = insert(model.__table__).values(**values).on_conflict_do_nothing()
    return db.session.execute(statement).rowcount == 1
