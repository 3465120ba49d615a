import html
import re

from sqlalchemy import text as sql

from incubator.extensions import db


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
            connection.execute(sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(sql(f"DELETE FROM {table}"))


def without_error_title(body: str) -> str:
    """An htmx answer to a refused form: first its <title> ("Erreur : …", which htmx puts in
    the tab), then the fragment, returned."""
    found = re.match(r"\s*<title>Erreur : [^<]*</title>\s*", body)
    assert found, body[:300]
    return body[found.end():]
