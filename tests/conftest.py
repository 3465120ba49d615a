"""Test fixtures.

Two app objects share one database: `server` answers the test client's requests, and
`app` gives the test itself an application context (factories, assertions). Being two
apps, each request gets its own application context, `g` and database session, as in
production, instead of silently sharing the test's.

The database is SQLite in a temporary file, or PostgreSQL when TEST_DATABASE_URL is set
(`make test` runs the suite on both). The schema comes from the Alembic migrations; every
test starts from empty tables.

Under pytest-xdist every worker process has a database of its own (its own SQLite file, or
a database of its own on the PostgreSQL server, `<name>_gw0`...) and an instance folder of
its own. Tests marked `serial` (they restart PostgreSQL, or measure durations) run in a
pytest process of their own, without workers: see scripts/test.sh.
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
from sqlalchemy import create_engine, event, make_url, text
from xdist.scheduler import LoadScopeScheduling

from incubator import create_app, normalise_database_url
from incubator.extensions import db

from . import factories
from .helpers import empty_tables

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
# The pytest-xdist worker this process is ("gw0", "gw1"...), None without workers.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
# The instance folder of test apps (emails written to files, etc.): never the developer's,
# and one per process (xdist workers inherit the environment of the process that starts them).
os.environ["INCUBATEUR_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="incubateur-tests-")


def pytest_collection_modifyitems(config, items):
    """A `serial` test never runs beside others: in an xdist worker it is skipped, and says
    how to run it."""
    if not XDIST_WORKER:
        return
    alone = pytest.mark.skip(reason="test « serial » : à lancer sans -n (pytest -m serial), "
                                    "comme le fait scripts/test.sh après les autres")
    for item in items:
        if item.get_closest_marker("serial"):
            item.add_marker(alone)


# Modules (or folders) whose tests share one costly server per process (nginx and gunicorn):
# under xdist they all go to the same worker, which starts it once. pytest-xdist's own
# `--dist loadgroup` cannot do it with pytest 9 (the group it adds to a test's id is lost).
KEPT_TOGETHER = ("tests/deploy/test_nginx.py",)


class _KeepTogether(LoadScopeScheduling):
    """`--dist load` (the default of -n), but the tests of a KEPT_TOGETHER module are one
    unit of work; every other test is a unit of its own, spread as usual."""

    def _split_scope(self, nodeid: str) -> str:
        return next((folder for folder in KEPT_TOGETHER if nodeid.startswith(folder)), nodeid)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") == "load":
        return _KeepTogether(config, log)
    return None  # another --dist chosen: xdist's own


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


def worker_database(url: str, worker: str) -> str:
    """The PostgreSQL database of one xdist worker, on the server of `url`, created if it is
    missing (`server` then empties it and applies the migrations)."""
    own = make_url(url)
    own = own.set(database=f"{own.database}_{worker}")
    engine = create_engine(normalise_database_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                       {"name": own.database})
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{own.database}"'))
    finally:
        engine.dispose()
    return own.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if TEST_DATABASE_URL:
        return worker_database(TEST_DATABASE_URL, XDIST_WORKER) if XDIST_WORKER else TEST_DATABASE_URL
    # tmp_path_factory gives each xdist worker a folder of its own.
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
        empty_tables()
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
