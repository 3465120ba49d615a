"""Tests build their rows with tests/factories.py, never by hand: a model constructor
(`Project(...)`), a bulk insert of a model or an `INSERT INTO` in a test module is refused,
named by file and line. One way to make a row keeps every test's data valid when a column
or a rule changes (one place to change, not forty).

Exempt: the factories and helpers themselves, fixture files (conftest.py), the browser
journeys (tests/e2e, they seed through the app) and the benchmark (tests/bench, its own
generator)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from incubator.extensions import db

TESTS = Path(__file__).resolve().parents[1]
EXEMPT_FILES = {"factories.py", "helpers.py", "core/test_test_hygiene.py"}  # (this one: its planted example)
EXEMPT_FOLDERS = {"e2e", "bench"}
# Raw SQL writing rows, where nothing else would do: the file and why.
RAW_SQL_ALLOWED = {
    "core/test_backup.py": "the write load the backup copies, from a second sqlite3 connection as "
                           "another process would write, and the megabytes it copies",
    "core/test_migrations.py": "rows in the schema of an older revision, which the models (the "
                               "head's) do not describe",
}
BULK_CALLS = {"insert", "bulk_insert_mappings"}
INSERT_SQL = re.compile(r"\bINSERT\s+(OR\s+\w+\s+)?INTO\b", re.IGNORECASE)


def model_names() -> set[str]:
    return {mapper.class_.__name__ for mapper in db.Model.registry.mappers}


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def hand_built(source: str, models: set[str], *, raw_sql: bool = True) -> list[tuple[int, str]]:
    """(line, what) for each row built by hand in `source`."""
    tree = ast.parse(source)
    aliases = {a.asname: a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               for a in node.names if a.asname and a.name in models}

    def model(node: ast.AST) -> str | None:
        name = _name(node)
        name = aliases.get(name, name)
        return name if name in models else None

    docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if model(func):
                found.append((node.lineno, f"{model(func)}(...)"))
            elif _name(func) in BULK_CALLS and node.args and model(node.args[0]):
                found.append((node.lineno, f"{_name(func)}({model(node.args[0])}, ...)"))
            elif (_name(func) == "insert" and isinstance(func, ast.Attribute)
                  and _name(func.value) == "__table__" and model(func.value.value)):
                found.append((node.lineno, f"{model(func.value.value)}.__table__.insert()"))
        elif (raw_sql and isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in docstrings and INSERT_SQL.search(node.value)):
            found.append((node.lineno, "INSERT INTO (SQL)"))
    return sorted(found)


def checked_modules() -> list[tuple[str, str]]:
    modules = []
    for path in sorted(TESTS.rglob("*.py")):
        relative = path.relative_to(TESTS).as_posix()
        if (path.name == "conftest.py" or relative in EXEMPT_FILES
                or relative.split("/")[0] in EXEMPT_FOLDERS):
            continue
        modules.append((relative, path.read_text(encoding="utf-8")))
    return modules


def test_no_test_builds_rows_by_hand():
    models = model_names()
    assert {"Project", "TimeEntry", "Decision", "Application", "User"} <= models  # every model is known
    problems = [f"tests/{relative}:{line}: {what}"
                for relative, source in checked_modules()
                for line, what in hand_built(source, models, raw_sql=relative not in RAW_SQL_ALLOWED)]
    assert not problems, ("Des lignes construites à la main ; passez par une fabrique de tests/factories.py "
                          "(ajoutez-la si elle manque) :\n" + "\n".join(problems))


def test_the_check_sees_every_way_of_building_a_row():
    planted = '''
from sqlalchemy import insert, text
from incubator.projects.models import Project as P
from incubator.review import models

def test_planted(db):
    """A docstring may say INSERT INTO."""
    db.session.add(P(title="À la main"))
    models.Decision(outcome="accepted")
    db.session.execute(insert(TimeEntry), [{}])
    TimeEntry.__table__.insert()
    db.session.execute(text("insert into users (email) values ('x')"))
    make_project(title="Par la fabrique")
    db.session.scalar(select(Project).where(Project.id == 1))
    Period(1, 2)
'''
    found = hand_built(planted, {"Project", "Decision", "TimeEntry"})
    assert found == [(8, "Project(...)"), (9, "Decision(...)"), (10, "insert(TimeEntry, ...)"),
                     (11, "TimeEntry.__table__.insert()"), (12, "INSERT INTO (SQL)")]
    assert hand_built(planted, {"Project", "Decision", "TimeEntry"}, raw_sql=False)[-1][0] == 11


def test_the_allowed_raw_sql_is_still_there():
    """An exemption outliving its reason is removed."""
    for relative in RAW_SQL_ALLOWED:
        assert INSERT_SQL.search((TESTS / relative).read_text(encoding="utf-8")), relative
