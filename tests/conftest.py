"""Test fixtures.

Two app objects share one database: `server` answers the test client's requests, and
`app` gives the test itself an application context (factories, assertions). Being two
apps, each request gets its own application context, `g` and database session, as in
production, instead of silently sharing the test's.

The database is SQLite in a temporary file, or PostgreSQL when TEST_DATABASE_URL is set
(`make test` runs the suite on both). The schema comes from the Alembic migrations; every
test starts from empty tables.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import event, text

from incubator import create_app
from incubator.extensions import db

from . import factories

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
# The instance folder of test apps (emails written to files, etc.): never the developer's.
os.environ.setdefault("INCUBATEUR_INSTANCE_PATH", tempfile.mkdtemp(prefix="incubateur-tests-"))


def app_config(database_url: str, **extra) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SESSION_COOKIE_SECURE": False,
        "WTF_CSRF_ENABLED": True,
        # Each test builds its own data: figures must not come from a previous test's page.
        "DASHBOARD_CACHE_SECONDS": 0,
        **extra,
    }


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if TEST_DATABASE_URL:
        return TEST_DATABASE_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def server(database_url) -> Flask:
    """The app that serves the test client's requests."""
    server = create_app(app_config(database_url))
    with server.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
    return server


@pytest.fixture(scope="session")
def app(server, database_url) -> Flask:
    """The app whose context the tests run in."""
    return create_app(app_config(database_url))


@pytest.fixture(autouse=True)
def app_context(app) -> Iterator[None]:
    with app.app_context():
        yield
        db.session.rollback()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    connection.execute(text(f"DELETE FROM {table}"))
        db.session.remove()


class Client(FlaskClient):
    """A test client that sends the CSRF token like the app's pages do (header), unless
    `csrf=False`, and keeps the test's session consistent with the server's writes."""

    def open(self, *args, csrf: bool = True, **kwargs):
        method = (kwargs.get("method") or "GET").upper()
        if csrf and method not in ("GET", "HEAD", "OPTIONS"):
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        # The test's pending writes must be visible to the server, and the server's
        # writes visible to the test afterwards.
        db.session.commit()
        try:
            return super().open(*args, **kwargs)
        finally:
            db.session.expire_all()
            db.session.commit()

    def csrf_token(self) -> str:
        with self.session_transaction() as session:
            raw = session.setdefault("csrf_token", os.urandom(20).hex())
        serializer = URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token")
        return serializer.dumps(raw)


@pytest.fixture
def client(server) -> FlaskClient:
    server.test_client_class = Client
    return server.test_client()


@pytest.fixture
def make_client(server):
    """Several independent browsers (e.g. two sessions of one user)."""
    server.test_client_class = Client
    return server.test_client


@pytest.fixture
def login():
    def do_login(client: FlaskClient, user, password: str = factories.DEFAULT_PASSWORD):
        response = client.post("/connexion", data={"email": user.email, "password": password})
        assert response.status_code == 303, response.get_data(as_text=True)[:2000]
        return response

    return do_login


@pytest.fixture
def count_queries(server):
    """`with count_queries() as counter: ...` then `counter.count` (server-side SQL)."""

    @contextmanager
    def counting():
        class Counter:
            count = 0
            statements: list[str] = []

        def before(_conn, _cursor, statement, *_args):
            Counter.count += 1
            Counter.statements.append(statement)

        with server.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield Counter
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting
