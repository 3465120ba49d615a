"""The benchmark's measurement headers: off by default; on, the number of SQL statements
and where the request's time went (Server-Timing)."""

from __future__ import annotations

import pytest
from flask import render_template_string
from sqlalchemy import select, text

from incubator import create_app
from incubator.extensions import csrf, db
from incubator.instrumentation import _waits_for_lock
from incubator.organisation.models import Institution
from tests.conftest import Client, app_config


@pytest.fixture(scope="module")
def measured_app(database_url):
    app = create_app(app_config(database_url, QUERY_COUNT_HEADER=True, SERVER_TIMING_HEADER=True))

    @app.get("/t/mesure")
    def measured():
        db.session.execute(text("SELECT 1")).all()
        db.session.scalars(select(Institution)).all()
        # A template that renders another one: its time is counted once.
        return render_template_string("{% for i in range(2000) %}{{ i }} {% endfor %}{{ inner() }}",
                                      inner=lambda: render_template_string("intérieur"))

    @app.post("/t/ecriture")
    def written():
        db.session.execute(text("UPDATE institutions SET name = name"))
        db.session.commit()
        return "écrit"

    csrf.exempt(written)
    app.test_client_class = Client
    return app


def timing(response) -> dict[str, float]:
    parts = (p.strip().partition(";dur=") for p in response.headers["Server-Timing"].split(","))
    return {name: float(value) for name, _, value in parts}


def test_headers_are_off_by_default(client):
    response = client.get("/healthz")
    assert "Server-Timing" not in response.headers and "X-Query-Count" not in response.headers


def test_server_timing_splits_the_request_into_sql_lock_templates_and_the_rest(measured_app):
    client = measured_app.test_client()
    for _ in range(2):  # counts start afresh with each request
        response = client.get("/t/mesure")
        assert response.status_code == 200 and "intérieur" in response.text
        assert response.headers["X-Query-Count"] == "2"
        parts = timing(response)
        assert list(parts) == ["total", "sql", "lock", "tpl", "app"]
        assert parts["sql"] > 0 and parts["tpl"] > 0 and parts["lock"] == 0
        assert abs(parts["sql"] + parts["lock"] + parts["tpl"] + parts["app"] - parts["total"]) < 0.05


def test_a_write_says_how_long_it_held_the_write_gate(measured_app, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the write gate is SQLite's (write_gate.py)")
    client = measured_app.test_client()
    written = timing(client.post("/t/ecriture"))
    assert 0 < written["held"] <= written["total"]
    assert "held" not in timing(client.get("/t/mesure"))  # a read never takes the gate


@pytest.mark.parametrize("statement, waits", [
    ("BEGIN IMMEDIATE", True),
    ("SELECT pg_advisory_xact_lock(%(key)s)", True),
    ("SELECT proposals.id FROM proposals WHERE proposals.id = ? FOR UPDATE", True),
    ("BEGIN", False),
    ("SELECT proposals.id FROM proposals", False),
    ("UPDATE proposals SET title = ?", False),
])
def test_lock_waits_are_the_statements_that_take_a_write_lock(statement, waits):
    assert _waits_for_lock(statement) is waits
