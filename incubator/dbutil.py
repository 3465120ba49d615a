"""Small portable SQL helpers for SQLite and PostgreSQL."""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from flask import g, has_request_context
from sqlalchemy import Date, bindparam, event, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from .extensions import db

# The largest id a row can have (PostgreSQL `integer`): an id from a form, an address or
# a query string above it is unknown, never sent to the database (where it would overflow).
MAX_ID = 2**31 - 1


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def insert_ignoring_duplicates(model: type, **values: Any) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True if a row was inserted.

    Lets a unique constraint absorb a double click or a concurrent request without
    aborting the transaction."""
    statement = _insert_ignoring_statement(_dialect(), model, tuple(sorted(values)))
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT that returns rows.
    return db.session.execute(statement, {f"value_{name}": value for name, value in values.items()}).first() is not None


# Two requests that read, decide, then write the same thing must run one after the other.
# On SQLite they already do: a write request takes the database's write lock with its
# first statement (BEGIN IMMEDIATE, see incubator/__init__.py). On PostgreSQL (READ
# COMMITTED, several workers and servers) the helpers below take a lock that is held
# until the transaction ends; every statement after it sees what the previous holder
# committed.


def lock_row(obj: Any) -> None:
    """SELECT ... FOR UPDATE on the row of `obj` (a mapped object with an `id`), and
    reload its columns from it. Call it before changing `obj`."""
    model = type(obj)
    db.session.execute(select(model).where(model.id == obj.id).with_for_update()
                       .execution_options(populate_existing=True))


def serialise_on(*keys: str) -> None:
    """A lock per key, for what has no row to lock yet (e.g. login attempts on an
    address). Callers list their keys in the same order, so that none waits crosswise."""
    if _dialect() != "postgresql":
        return
    for key in keys:
        number = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": number})


def prebuilt(build):
    """A statement (or clause) built once per process, its values as `bindparam`s given at
    execution: for the busiest pages, where building a statement (and its cache key, which
    SQLAlchemy keeps on the statement object) cost more than running it. Never capture a
    date or a person when building: pass them as parameters, or, for a clause others
    build in (the session's facts), a `bindparam(callable_=today_paris)` read at execution.
    tests/core/test_prebuilt.py looks for such captures (in PREBUILT)."""
    built: dict[tuple, Any] = {}

    @functools.wraps(build)
    def cached(*args):
        try:
            return built[args]
        except KeyError:
            # Two threads may build it at once: both get the first one kept.
            return built.setdefault(args, build(*args))

    cached.built = built
    cached.cache_clear = built.clear
    PREBUILT.append(cached)
    return cached


# Every function decorated with `prebuilt`, for the test that inspects what they built.
PREBUILT: list[Any] = []


@prebuilt
def _insert_ignoring_statement(dialect: str, model: type, columns: tuple[str, ...]):
    # Built once per table and set of columns: a support and a vote each run one, inside
    # their write transaction.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = model.__table__
    # Parameters named apart from the columns (SQLAlchemy keeps the columns' names).
    return (insert(table).values({name: bindparam(f"value_{name}", type_=table.c[name].type) for name in columns})
            .on_conflict_do_nothing().returning(*table.primary_key.columns))


# --------------------------------------------------------------------------- request cache

_CACHE_KEY = "_request_cache"


def request_cached(*tables: str):
    """Memoise a read for the rest of the request (the collective's members, the rules...),
    so that a guard and the page after it ask the database once. The read names the tables
    it depends on: a write to one of them through the session (flush, INSERT, UPDATE,
    DELETE) drops it, so a value read before a change is never served after it. Outside a
    request, the function just runs."""

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args):
            if not has_request_context():
                return function(*args)
            cache = g.setdefault(_CACHE_KEY, {})
            key = (function.__qualname__, *(getattr(a, "id", a) for a in args))
            if key not in cache:
                cache[key] = (frozenset(tables), function(*args))
            return cache[key][1]

        return wrapper

    return decorate


def _forget(written: set[str]) -> None:
    if not has_request_context() or _CACHE_KEY not in g:
        return
    cache = g.get(_CACHE_KEY)
    for key in [k for k, (tables, _value) in cache.items() if tables & written]:
        del cache[key]


@event.listens_for(Session, "after_flush")
def _after_flush(session, _context) -> None:
    _forget({obj.__table__.name for obj in (*session.new, *session.dirty, *session.deleted)
             if hasattr(obj, "__table__")})


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        _forget({table.name} if table is not None else set(_all_tables()))


def _all_tables() -> list[str]:
    return list(db.metadata.tables)


# --------------------------------------------------------------------------- weeks


class week_start(FunctionElement):  # noqa: N801 - used like a SQL function
    """SQL: the Monday of the week of a date column (`monday_of` in the database), to
    count weeks in one query on SQLite and PostgreSQL."""

    type = Date()
    inherit_cache = True
    name = "week_start"


@compiles(week_start, "sqlite")
def _week_start_sqlite(element, compiler, **kw):
    # Back six days, then forward to the next Monday (the same day when it is one).
    return f"date({compiler.process(element.clauses, **kw)}, '-6 days', 'weekday 1')"


@compiles(week_start, "postgresql")
def _week_start_postgresql(element, compiler, **kw):
    return f"CAST(date_trunc('week', {compiler.process(element.clauses, **kw)}) AS DATE)"
