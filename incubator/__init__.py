"""Incubateur: application factory."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .config import Defaults
from .extensions import csrf, db, login_manager, migrate
from .instrumentation import add_lock_wait
from .observability import init_logging
from .write_gate import GatedConnection

ROOT = Path(__file__).resolve().parent.parent


class ConfigurationError(RuntimeError):
    """The application cannot start with this configuration."""


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.environ.get("INCUBATEUR_INSTANCE_PATH", str(ROOT / "instance")),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    _load_config(app, config or {})
    _trust_proxies(app)
    try:
        init_logging(app)  # first: its timer must start before the other hooks run
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None
    _init_database(app)

    csrf.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)

    from . import web
    from .accounts import sso_views  # noqa: F401  (its pages join the accounts blueprint)
    from .accounts import views as accounts_views
    from .admin import (
        access_views,  # noqa: F401  (its pages join the admin blueprint)
        sign_in_views,  # noqa: F401  (its page joins the admin blueprint)
    )
    from .admin import views as admin_views
    from .core import views as core_views
    from .dashboard import views as dashboard_views
    from .engagement import views as engagement_views
    from .immersions import views as immersions_views
    from .notifications import views as notifications_views
    from .projects import views as projects_views
    from .proposals import views as proposals_views
    from .release_time import views as release_time_views
    from .review import blueprint as review_blueprint
    from .review import session_views, views  # noqa: F401  (their pages join the review blueprint)
    from .security import init_security
    from .settings import views as settings_views

    init_security(app)
    web.init_web(app)
    app.register_blueprint(core_views.bp)
    app.register_blueprint(accounts_views.bp)
    app.register_blueprint(admin_views.bp)
    app.register_blueprint(settings_views.bp)
    app.register_blueprint(proposals_views.bp)
    app.register_blueprint(review_blueprint.bp)
    app.register_blueprint(projects_views.bp)
    app.register_blueprint(immersions_views.bp)
    app.register_blueprint(release_time_views.bp)
    app.register_blueprint(engagement_views.bp)
    app.register_blueprint(notifications_views.bp)
    app.register_blueprint(dashboard_views.bp)

    from .cli import register_cli
    from .instrumentation import init_query_counter

    init_query_counter(app)

    register_cli(app)
    return app


def _load_config(app: Flask, overrides: dict[str, Any]) -> None:
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    if os.environ.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    if os.environ.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    app.config.from_prefixed_env(prefix="INCUBATEUR")
    # from_prefixed_env reads values as JSON: a client secret made only of digits would
    # become a number (and "1e5" the float 100000.0). Text settings keep the text given.
    for name in TEXT_SETTINGS:
        raw = os.environ.get(f"INCUBATEUR_{name}")
        if raw is not None:
            app.config[name] = raw
    # DATABASE_URL, however given (config.py, DATABASE_URL, INCUBATEUR_DATABASE_URL), names
    # the database; SQLALCHEMY_DATABASE_URI stays accepted as it is.
    if app.config.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = str(app.config["DATABASE_URL"])
    app.config.update(overrides)

    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = (
            f"sqlite:///{Path(app.instance_path) / 'incubateur.db'}"
        )
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )

    if not app.config.get("SECRET_KEY"):
        if app.testing or app.debug:
            app.config["SECRET_KEY"] = "dev-only-not-secret"
        else:
            raise ConfigurationError(
                "SECRET_KEY manquante : définissez la variable d'environnement SECRET_KEY "
                "ou SECRET_KEY dans instance/config.py (make run en crée une pour le poste local)."
            )
    _check_counts(app)
    from .accounts.oidc import ProviderConfigError, load_providers

    try:
        app.extensions["oidc_providers"] = load_providers(app.config)
    except ProviderConfigError as exc:
        raise ConfigurationError(str(exc)) from None


# Settings that are text, whatever they look like (taken as given from the environment).
TEXT_SETTINGS = ("OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_NAME", "OIDC_SCOPES")

# Whole numbers the application cannot run with below their minimum (or if not numbers):
# name -> (minimum, what it counts).
_COUNT_SETTINGS = {
    "TRUSTED_PROXIES": (0, "nombre de mandataires inverses devant l'application, 0 si aucun"),
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": (1, "échecs de connexion refusant un compte"),
    "LOGIN_MAX_FAILURES_PER_ADDRESS_AND_ACCOUNT": (1, "échecs de connexion refusant un compte depuis une adresse"),
    "LOGIN_MAX_FAILURES_PER_ADDRESS": (1, "échecs de connexion d'une adresse avant ralentissement"),
}


def _check_counts(app: Flask) -> None:
    """Whole numbers (a string of digits, as from an environment variable, is converted)
    at least their minimum; anything else stops the start with a message in French."""
    for name, (minimum, meaning) in _COUNT_SETTINGS.items():
        value = app.config.get(name)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConfigurationError(
                f"{name} invalide : {app.config.get(name)!r} ({meaning} : un nombre entier "
                f"supérieur ou égal à {minimum} est attendu)."
            )
        app.config[name] = value
    delay = app.config.get("LOGIN_ADDRESS_DELAY_SECONDS")
    if isinstance(delay, str):
        try:
            delay = float(delay.strip())
        except ValueError:
            pass
    if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 <= delay <= 60:
        raise ConfigurationError(
            f"LOGIN_ADDRESS_DELAY_SECONDS invalide : {app.config.get('LOGIN_ADDRESS_DELAY_SECONDS')!r} "
            "(délai en secondes, entre 0 et 60, imposé aux connexions d'une adresse aux nombreux échecs)."
        )
    app.config["LOGIN_ADDRESS_DELAY_SECONDS"] = delay


def _trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies, take the client's address, scheme, host,
    port and prefix from the X-Forwarded-* headers they set; with 0 those headers are ignored."""
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies,
                                x_port=proxies, x_prefix=proxies)


def normalise_database_url(url: str) -> str:
    """Accept the usual `postgres://` and `postgresql://` forms and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _init_database(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if uri.startswith("sqlite"):
        # Wait for a lock instead of failing with "database is locked".
        options.setdefault("connect_args", {}).setdefault("timeout", 30)
        # Writers queue on a file lock (write_gate.py); timed when the benchmark asks.
        from .instrumentation import TimedSQLiteConnection

        timed = app.config.get("SERVER_TIMING_HEADER")
        options["connect_args"].setdefault("factory", TimedSQLiteConnection if timed else GatedConnection)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    if not uri.startswith("sqlite"):
        with app.app_context():
            _check_connections_by_beginning(db.engine)


def _is_sqlite(dbapi_connection) -> bool:
    # The application's own connections are a subclass (write_gate.GatedConnection).
    return isinstance(dbapi_connection, sqlite3.Connection)


def _check_connections_by_beginning(engine: Engine) -> None:
    """PostgreSQL: a connection taken from the pool is checked before use, so that after a
    server restart the pages reconnect instead of failing. SQLAlchemy's pool_pre_ping did
    it with a round trip of its own, before the BEGIN of the request's transaction, another
    one. Here the check is that BEGIN: sent at once on the connection (psycopg then sees the
    transaction open and does not send its own), the server's answer proves the connection
    alive. One round trip less for each request; on a loaded server, each is a wait (about
    2.5 ms; 12 of them on the approvals page). As with pool_pre_ping, a connection just
    opened is not checked, and one found dead has every older connection replaced."""
    import psycopg
    from psycopg.pq import ExecStatus, TransactionStatus
    from sqlalchemy.exc import InvalidatePoolError

    @event.listens_for(engine, "connect")
    def opened(_dbapi_connection, record) -> None:
        record.info["fresh"] = True

    @event.listens_for(engine, "checkout")
    def check(dbapi_connection, record, _proxy) -> None:
        if record.info.pop("fresh", False) or dbapi_connection.autocommit \
                or dbapi_connection.info.transaction_status != TransactionStatus.IDLE:
            return
        try:
            if (dbapi_connection.isolation_level, dbapi_connection.read_only, dbapi_connection.deferrable) \
                    == (None, None, None):
                answer = dbapi_connection.pgconn.exec_(b"BEGIN")
                if answer.status != ExecStatus.COMMAND_OK:
                    raise psycopg.OperationalError(answer.get_error_message())
            else:  # a transaction of another kind: psycopg's own BEGIN, then the check
                dbapi_connection.execute(";")
        except psycopg.OperationalError as exc:
            raise InvalidatePoolError(f"PostgreSQL connection lost: {exc}") from exc


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    if not _is_sqlite(dbapi_connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    # SQLAlchemy emits BEGIN itself (below): the driver's own implicit transactions would
    # start too late to take the write lock up front, and break SAVEPOINT.
    dbapi_connection.isolation_level = None


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection) -> None:
    """On SQLite, a request that is going to write (an unsafe method that reached its
    view, see web.WRITE_FLAG) takes the write lock when its transaction starts. A
    deferred transaction that read first and writes later cannot wait for the lock:
    SQLite refuses it at once ("database is locked") if another writer committed
    meanwhile. Reads, and requests refused before their view (CSRF, 404, 405), stay
    deferred and never hold up a writer."""
    if connection.dialect.name != "sqlite":
        return
    from .web import request_writes

    if not request_writes():
        connection.exec_driver_sql("BEGIN")
        return
    dbapi_connection = connection.connection.dbapi_connection
    if isinstance(dbapi_connection, GatedConnection):
        started = time.perf_counter()
        dbapi_connection.take_gate()
        add_lock_wait(time.perf_counter() - started)
    connection.exec_driver_sql("BEGIN IMMEDIATE")
