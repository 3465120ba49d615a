import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from incubator import ConfigurationError, create_app, normalise_database_url
from incubator.extensions import db
from incubator.proposals.search import is_search_index_object


def test_missing_secret_key_in_production_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("INCUBATEUR_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigurationError, match="SECRET_KEY manquante"):
        create_app()


def test_configuration_order_instance_file_then_environment_then_argument(monkeypatch, tmp_path):
    (tmp_path / "config.py").write_text("SECRET_KEY = 'from-file'\nLIST_COUNT_CAP = 7\nLOGIN_MAX_FAILURES_PER_ACCOUNT = 3\n")
    monkeypatch.setenv("INCUBATEUR_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-file" and app.config["LIST_COUNT_CAP"] == 7
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'incubateur.db'}"
    assert app.config["SESSION_COOKIE_SECURE"] is True  # production default
    monkeypatch.setenv("SECRET_KEY", "from-env")
    monkeypatch.setenv("INCUBATEUR_LIST_COUNT_CAP", "9")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    app = create_app({"LOGIN_MAX_FAILURES_PER_ACCOUNT": 10})
    assert app.config["SECRET_KEY"] == "from-env" and app.config["LIST_COUNT_CAP"] == 9
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] == 10
    # The prefixed name of every setting works for the database too, and wins over the plain one.
    monkeypatch.setenv("INCUBATEUR_DATABASE_URL", "postgresql://v@h/other")
    assert create_app().config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://v@h/other"


def test_database_url_normalisation():
    assert normalise_database_url("postgresql://a@b/c") == "postgresql+psycopg://a@b/c"
    assert normalise_database_url("postgresql+psycopg://a@b/c") == "postgresql+psycopg://a@b/c"
    assert normalise_database_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"


def test_engine_options_per_backend(app):
    if db.engine.dialect.name == "postgresql":
        assert db.engine.pool._pre_ping is False  # checked by its BEGIN instead (_check_connections_by_beginning)
        return
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_models_and_migrations_agree(app):
    """The schema built by the migrations is the one the models describe."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True,
            "include_name": lambda name, type_, _parents: not is_search_index_object(name, type_)})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


@pytest.mark.parametrize("value", ["deux", "-1", "1.5", "true"])
def test_bad_trusted_proxies_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv("INCUBATEUR_TRUSTED_PROXIES", value)
    with pytest.raises(ConfigurationError, match="TRUSTED_PROXIES invalide .*nombre entier"):
        create_app({"TESTING": True})


@pytest.mark.parametrize(("name", "value"), [
    ("LOGIN_MAX_FAILURES_PER_ADDRESS_AND_ACCOUNT", "0"),
    ("LOGIN_MAX_FAILURES_PER_ADDRESS", "beaucoup"),
    ("LOGIN_ADDRESS_DELAY_SECONDS", "-1"),
    ("LOGIN_ADDRESS_DELAY_SECONDS", "une"),
])
def test_bad_login_throttling_settings_are_clear_errors(monkeypatch, name, value):
    monkeypatch.setenv(f"INCUBATEUR_{name}", value)
    with pytest.raises(ConfigurationError, match=f"{name} invalide"):
        create_app({"TESTING": True})


def test_trusted_proxies_from_environment_wires_proxy_fix(monkeypatch):
    from werkzeug.middleware.proxy_fix import ProxyFix

    assert not isinstance(create_app({"TESTING": True}).wsgi_app, ProxyFix)  # default 0
    monkeypatch.setenv("INCUBATEUR_TRUSTED_PROXIES", "2")
    app = create_app({"TESTING": True})
    assert app.config["TRUSTED_PROXIES"] == 2
    assert isinstance(app.wsgi_app, ProxyFix)
    assert (app.wsgi_app.x_for, app.wsgi_app.x_proto, app.wsgi_app.x_host, app.wsgi_app.x_port,
            app.wsgi_app.x_prefix) == (2, 2, 2, 2, 2)
