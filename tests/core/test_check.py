"""`flask check` and the refusal to send email without BASE_URL outside local development.

"SMTP unreachable" is a local port nobody listens on; "SMTP reachable" a local listening
socket (the connection is accepted by the kernel's backlog): no network, no waiting."""

import logging
import socket

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask_migrate import stamp
from sqlalchemy import select

from incubator import create_app
from incubator.checks import (
    BASE_URL_MISSING,
    ERROR,
    WARNING,
    Finding,
    check_base_url,
    check_instance_folder,
    check_secret_key,
    check_smtp,
    run_checks,
)
from incubator.extensions import db
from incubator.notifications import services
from incubator.notifications.models import OutboxMessage
from incubator.proposals import services as proposal_services
from tests.conftest import app_config
from tests.factories import make_proposal, make_user

STRONG_KEY = "k" * 16 + "7f3a9c2e41b8d05f"  # 32 characters, not a known value


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once closed


def make(database_url, **extra):
    return create_app(app_config(database_url, SECRET_KEY=STRONG_KEY, **extra))


def check(application):
    return application.test_cli_runner().invoke(args=["check"])


def messages(findings, level=None):
    return [f.message for f in findings if level is None or f.level == level]


# --------------------------------------------------------------------------- the command


def test_a_clean_installation_passes(database_url):
    result = check(make(database_url))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Configuration vérifiée : aucun problème."


def test_warnings_alone_exit_zero(database_url):
    result = check(make(database_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port()))
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("AVERTISSEMENT : Serveur SMTP injoignable")
    assert lines[-1] == "Configuration vérifiée : 0 erreur(s), 1 avertissement(s)."


def test_an_unreachable_database_is_an_error_without_traceback(tmp_path):
    (tmp_path / "not-a-folder").write_text("")
    result = check(make(f"sqlite:///{tmp_path / 'not-a-folder' / 'x.db'}"))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("ERREUR : Base de données inaccessible")
    assert "DATABASE_URL" in lines[0] and "Traceback" not in result.output
    assert lines[1] == "Configuration vérifiée : 1 erreur(s), 0 avertissement(s)."


def test_a_database_without_migrations_is_an_error(tmp_path):
    result = check(make(f"sqlite:///{tmp_path / 'empty.db'}"))
    assert result.exit_code == 1
    assert "ERREUR : Migrations non appliquées" in result.output and "flask db upgrade" in result.output


def test_a_database_behind_the_migrations_is_an_error(tmp_path):
    application = make(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", application.extensions["migrate"].directory)
    scripts = ScriptDirectory.from_config(config)
    head = scripts.get_current_head()
    previous = scripts.get_revision(head).down_revision
    with application.app_context():
        stamp(revision=previous)
        db.engine.dispose()
    result = check(application)
    assert result.exit_code == 1
    assert f"ERREUR : Migrations pas à jour : la base est à la révision {previous}, le code attend {head}" \
        in result.output


def test_an_unwritable_instance_folder_is_an_error(database_url, tmp_path):
    application = make(database_url)
    (tmp_path / "a-file").write_text("")
    application.instance_path = str(tmp_path / "a-file" / "instance")
    result = check(application)
    assert result.exit_code == 1
    assert "ERREUR : Dossier d'instance non accessible en écriture" in result.output
    application.instance_path = str(tmp_path)
    assert check_instance_folder(application) == []


# --------------------------------------------------------------------------- each check


@pytest.fixture
def production(app, monkeypatch):
    """The session's app, as outside local development for the test's duration."""
    monkeypatch.setitem(app.config, "TESTING", False)
    monkeypatch.setitem(app.config, "DEBUG", False)
    return app


def test_secret_key_missing_or_weak(production, monkeypatch):
    for key, expected in [(None, "SECRET_KEY manquante"), ("", "SECRET_KEY manquante"),
                          ("dev-only-not-secret", "SECRET_KEY faible : c'est une valeur d'exemple"),
                          ("Change-Me", "SECRET_KEY faible : c'est une valeur d'exemple"),
                          ("a3f9c2e41b8d05f7", "SECRET_KEY faible : 16 caractères, au moins 32")]:
        monkeypatch.setitem(production.config, "SECRET_KEY", key)
        findings = check_secret_key(production)
        assert [f.level for f in findings] == [ERROR], key
        assert findings[0].message.startswith(expected), key
    monkeypatch.setitem(production.config, "SECRET_KEY", STRONG_KEY)
    assert check_secret_key(production) == []


def test_a_weak_secret_key_is_only_a_warning_in_local_development(app, monkeypatch):
    monkeypatch.setitem(app.config, "SECRET_KEY", "dev-only-not-secret")
    assert [f.level for f in check_secret_key(app)] == [WARNING]


def test_base_url_missing_while_email_is_configured(production, monkeypatch):
    monkeypatch.setitem(production.config, "MAIL_SERVER", "smtp.exemple.fr")
    for missing in ["", None, "http://127.0.0.1:5000", "http://localhost:5000/"]:
        monkeypatch.setitem(production.config, "BASE_URL", missing)
        assert check_base_url(production) == [Finding(ERROR, BASE_URL_MISSING)]
    monkeypatch.setitem(production.config, "BASE_URL", "https://incubateur.exemple.fr")
    assert check_base_url(production) == []


def test_base_url_must_be_https_in_production(production, monkeypatch):
    monkeypatch.setitem(production.config, "BASE_URL", "http://incubateur.exemple.fr")
    assert messages(check_base_url(production), ERROR) == [
        "BASE_URL n'est pas en HTTPS (http://incubateur.exemple.fr) : en production, "
        "les liens des courriels doivent commencer par https://."]
    # Without SMTP, a loopback BASE_URL is a machine of one's own (make run): fine.
    monkeypatch.setitem(production.config, "BASE_URL", "http://127.0.0.1:5000")
    assert check_base_url(production) == []


def test_base_url_rules_do_not_apply_in_local_development(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.exemple.fr")
    for base in ["", "http://127.0.0.1:5000", "http://incubateur.exemple.fr"]:
        monkeypatch.setitem(app.config, "BASE_URL", base)
        assert check_base_url(app) == []


def test_smtp_reachable_or_not(app, monkeypatch):
    assert check_smtp(app) == []  # no MAIL_SERVER: nothing to reach
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", closed_port())
    assert [f.level for f in check_smtp(app)] == [WARNING]
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen(1)
        monkeypatch.setitem(app.config, "MAIL_PORT", listening.getsockname()[1])
        assert check_smtp(app) == []


def test_run_checks_on_the_test_database_is_clean(app, monkeypatch):
    monkeypatch.setitem(app.config, "SECRET_KEY", STRONG_KEY)
    assert run_checks(app) == []


# --------------------------------------------------------------------------- sending


def queue_one_email() -> OutboxMessage:
    author = make_user()
    proposal_services.submit_proposal(author, make_proposal(author=author, state="draft"))
    db.session.commit()
    return db.session.scalar(select(OutboxMessage))


def test_no_email_leaves_without_base_url_outside_local_development(production, monkeypatch, caplog):
    message = queue_one_email()
    monkeypatch.setitem(production.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(production.config, "MAIL_PORT", closed_port())
    monkeypatch.setitem(production.config, "BASE_URL", "http://127.0.0.1:5000")
    with caplog.at_level(logging.ERROR, logger=services.__name__):
        assert services.deliver_batch() == (0, 0)
    db.session.expire_all()
    assert (message.status, message.attempts, message.sent_at) == ("pending", 0, None)
    assert any(BASE_URL_MISSING in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)
    result = production.test_cli_runner().invoke(args=["notifications", "send"])
    assert result.exit_code == 1 and BASE_URL_MISSING in result.output
    db.session.expire_all()
    assert message.status == "pending"


def test_with_base_url_the_email_is_attempted(production, monkeypatch):
    message = queue_one_email()
    monkeypatch.setitem(production.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(production.config, "MAIL_PORT", closed_port())
    monkeypatch.setitem(production.config, "MAIL_TIMEOUT", 2)
    monkeypatch.setitem(production.config, "BASE_URL", "https://incubateur.exemple.fr")
    assert services.deliver_batch() == (0, 1)  # tried, the SMTP server is down: retried later
    db.session.expire_all()
    assert message.attempts == 1
