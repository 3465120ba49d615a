import html
import re

from sqlalchemy import select
from sqlalchemy import text as sql

from incubator.extensions import db
from incubator.release_time.models import ApprovedMonth, TimeEntry


def text(response) -> str:
    """The response body with HTML entities decoded, for message assertions."""
    return html.unescape(response.get_data(as_text=True))


def field_errors(page: str, field_id: str) -> str:
    """The messages shown under one field of a form (`page` as given by `text`)."""
    found = re.search(rf'<ul class="field-errors" id="{field_id}-errors">(.*?)</ul>', page, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip() if found else ""


def table_verdict(machine, state: str, action: str, capacities: set[str]):
    """What a lifecycle table says of `action` from `state` for these capacities: the
    transition, or the error class a service must raise."""
    from incubator.errors import InvalidTransition, NotAllowed

    if not machine.may(action, capacities):
        return NotAllowed
    found = machine.transition(state, action)
    if found is None:
        return InvalidTransition
    return found if found.who & capacities else NotAllowed


def empty_tables() -> None:
    """Every table emptied (ids restarted on PostgreSQL): the clean database each test, and
    each example of the property-based tests, starts from."""
    db.session.rollback()
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # DELETE, not TRUNCATE: a test leaves a few rows, and TRUNCATE makes new files for
            # every table and index (60 ms a test, against 7 for this, in one round trip).
            connection.exec_driver_sql("; ".join(
                [f"DELETE FROM {table}" for table in tables]
                + ["SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'"]))
        else:
            for table in tables:
                connection.execute(sql(f"DELETE FROM {table}"))


def without_error_title(body: str) -> str:
    """An htmx answer to a refused form: first its <title> ("Erreur : …", which htmx puts in
    the tab), then the fragment, returned."""
    found = re.match(r"\s*<title>Erreur : [^<]*</title>\s*", body)
    assert found, body[:300]
    return body[found.end():]


def approved_months_from_entries() -> dict:
    """Approved minutes per (institution, agent, « 2026-03 ») recomputed in Python from the
    entries: approved, and not replaced by an approved correction."""
    entries = db.session.scalars(select(TimeEntry)).all()
    replaced = {e.corrects_id for e in entries if e.status == "approved" and e.corrects_id}
    sums: dict = {}
    for e in entries:
        if e.status == "approved" and e.id not in replaced:
            key = (e.institution_id, e.user_id, f"{e.day:%Y-%m}")
            sums[key] = sums.get(key, 0) + e.minutes
    return sums


def stored_approved_months() -> dict:
    """The dashboard's agent-month totals as stored (release_time.totals)."""
    db.session.expire_all()
    return {(t.institution_id, t.user_id, t.month): t.minutes for t in db.session.scalars(select(ApprovedMonth))}
