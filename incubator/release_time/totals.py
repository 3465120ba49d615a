"""Approved minutes per agent and month (ApprovedMonth), kept in step with the entries.

An entry counts when it is approved and no approved correction replaces it; only an
approval changes that (a refusal or a recall touches entries that are not approved, and an
approved entry is frozen). So `decide` recounts the agent-months it approved, in its own
transaction, from the entries themselves: a recount cannot drift the way adding and
subtracting deltas could. `rebuild` recounts everything (migration 0018, the demo, the
bench generator, which writes entries without the services)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import Date, Insert, bindparam, delete, func, insert, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from ..dbutil import prebuilt
from ..extensions import db
from .lifecycle import ENTRIES
from .models import ApprovedMonth, TimeEntry

APPROVED = ENTRIES.target("approve")


def month_key(day, dialect: str):
    """« 2026-03 » for a date column, in SQL (SQLite stores dates as ISO text)."""
    if dialect == "sqlite":
        return func.substr(day, 1, 7)
    return func.to_char(day, "YYYY-MM")


def key_of(day: date) -> str:
    return f"{day:%Y-%m}"


def counted():
    """Entries the totals count: approved, and not replaced by an approved correction.
    "Not replaced" is a NOT IN over the few corrections, built once from the partial index
    ix_time_entries_corrections, not a lookup per entry; `status || ''` keeps SQLite from
    reading every approved entry through ix_time_entries_status_user to find them."""
    corrected = select(TimeEntry.corrects_id).where(TimeEntry.corrects_id.is_not(None),
                                                    TimeEntry.status.concat("") == APPROVED)
    return TimeEntry.status == APPROVED, TimeEntry.id.not_in(corrected)


def _counted_select(dialect: str, *where):
    month = month_key(TimeEntry.day, dialect)
    return (select(TimeEntry.institution_id, TimeEntry.user_id, month, func.sum(TimeEntry.minutes))
            .where(*counted(), *where).group_by(TimeEntry.institution_id, TimeEntry.user_id, month))


_COLUMNS = ["institution_id", "user_id", "month", "minutes"]


def _recount(dialect: str, *where) -> Insert:
    return insert(ApprovedMonth).from_select(_COLUMNS, _counted_select(dialect, *where))


def recount(agent_months: Iterable[tuple[int, date]]) -> None:
    """Recompute the totals of these (agent, day's month) pairs from their entries, in the
    caller's transaction: one statement whatever the number of pairs, an upsert (one
    statement less inside the write lock than deleting first). Each pair has approved
    entries (the ones just approved), so the count gives a row for each: none is left stale."""
    pairs = sorted({(user_id, key_of(day)) for user_id, day in agent_months})
    if not pairs:
        return
    db.session.execute(_recount_upsert(db.session.get_bind().dialect.name), {
        "users": sorted({u for u, _m in pairs}), "pairs": pairs,
        "first": date.fromisoformat(f"{min(m for _u, m in pairs)}-01")})


@prebuilt
def _recount_upsert(dialect: str):
    # Built once (it runs inside an approval's write transaction). Days bound the index
    # range (ix_time_entries_user_approved); the pairs pick the months.
    counted_now = _counted_select(
        dialect, TimeEntry.user_id.in_(bindparam("users", expanding=True)),
        TimeEntry.day >= bindparam("first", type_=Date),
        tuple_(TimeEntry.user_id, month_key(TimeEntry.day, dialect)).in_(bindparam("pairs", expanding=True)))
    # On the table, not the mapped class: the ORM would take the parameters for rows to insert.
    upsert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(ApprovedMonth.__table__).from_select(
        _COLUMNS, counted_now)
    return upsert.on_conflict_do_update(index_elements=["user_id", "month", "institution_id"],
                                        set_={"minutes": upsert.excluded.minutes})


def rebuild_statements(dialect: str) -> list:
    """Every total recounted from the entries (also run by the bench generator)."""
    return [delete(ApprovedMonth), _recount(dialect)]


def rebuild() -> None:
    for statement in rebuild_statements(db.session.get_bind().dialect.name):
        db.session.execute(statement)
