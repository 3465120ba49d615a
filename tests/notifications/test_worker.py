"""The email worker's loop: it logs failed deliveries and outlives database errors.

The loop runs with a fake `sleep` that records the waits and stops the worker: nothing
here waits for real."""

import logging
import socket
import threading

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from incubator.extensions import db
from incubator.notifications import services
from incubator.notifications.models import OutboxMessage
from incubator.proposals import services as proposal_services
from tests.factories import make_proposal, make_user

WORKER_LOG = "incubator.notifications.services"


def run(poll: float = 5.0, *, waits: int = 1) -> list[float]:
    """Run the worker until it has waited `waits` times; the waits it asked for."""
    stop, delays = threading.Event(), []

    def sleep(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) >= waits:
            stop.set()

    services.run_worker(poll_seconds=poll, stop=stop, sleep=sleep)
    return delays


def queue_one_email() -> OutboxMessage:
    author = make_user()
    proposal_services.submit_proposal(author, make_proposal(author=author, state="draft"))
    db.session.commit()
    return db.session.scalar(select(OutboxMessage))


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once closed


def worker_records(caplog, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == WORKER_LOG and r.levelno == level]


@pytest.fixture
def smtp_down(app):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port(), MAIL_TIMEOUT=2)
    yield
    app.config.update(MAIL_SERVER=None, MAIL_MAX_ATTEMPTS=5)


def test_a_failed_delivery_is_logged_and_the_worker_goes_on(smtp_down, caplog):
    message = queue_one_email()
    # First pass: the attempt fails, the next pass comes at once; nothing is due then: a wait.
    assert run(poll=5.0) == [5.0]
    [warning] = worker_records(caplog, logging.WARNING)
    text = warning.getMessage()
    assert f"courriel {message.id} " in text and "(essai 1 sur 5), nouvel essai dans 1 min" in text and "ConnectionRefusedError" in text
    assert not warning.exc_info  # an SMTP server away is expected: no traceback
    db.session.rollback()
    assert db.session.scalar(select(OutboxMessage.status)) == "pending"


def test_the_last_failed_attempt_is_an_error(app, smtp_down, caplog):
    app.config.update(MAIL_MAX_ATTEMPTS=1)
    message = queue_one_email()
    run()
    [error] = worker_records(caplog, logging.ERROR)
    assert f"Courriel {message.id} abandonné après 1 essais" in error.getMessage()
    db.session.rollback()
    assert db.session.scalar(select(OutboxMessage.status)) == "failed"


def test_an_unexpected_error_on_one_message_does_not_stop_the_worker(app, caplog, monkeypatch):
    message = queue_one_email()
    monkeypatch.setattr(services, "_send", lambda _message: 1 / 0)
    assert run() == [5.0]
    [warning] = worker_records(caplog, logging.WARNING)
    assert f"courriel {message.id} " in warning.getMessage() and "ZeroDivisionError" in warning.getMessage()
    assert warning.exc_info  # a bug: with its traceback


@pytest.mark.parametrize("cause", ["server closed the connection unexpectedly", "database is locked"])
def test_the_worker_survives_a_database_error_and_delivers_next_time(app, caplog, monkeypatch, cause):
    app.config.update(MAIL_SERVER=None)  # delivered to instance/mail/
    queue_one_email()
    real_scalars, calls = db.session.scalars, []

    def scalars_failing_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("SELECT outbox_messages ...", {}, Exception(cause))
        return real_scalars(*args, **kwargs)

    monkeypatch.setattr(db.session, "scalars", scalars_failing_once)
    # The error: a wait of `poll`; the next pass sends; the one after finds nothing: a wait.
    assert run(poll=5.0, waits=2) == [5.0, 5.0]
    [error] = worker_records(caplog, logging.ERROR)
    assert "Base de données inaccessible" in error.getMessage() and cause in error.getMessage()
    infos = [r.getMessage() for r in worker_records(caplog, logging.INFO)]
    assert "1 courriel(s) envoyé(s)" in infos and "Base de données de nouveau accessible après 1 essai(s)" in infos
    monkeypatch.undo()
    db.session.rollback()
    assert db.session.scalar(select(OutboxMessage.status)) == "sent"


def test_database_backoff_doubles_up_to_a_bound_and_starts_again_after_a_success(monkeypatch):
    outcomes = iter(["down"] * 7 + ["up", "down", "up"])

    def deliver_batch():
        if next(outcomes) == "down":
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))
        return 0, 0

    monkeypatch.setattr(services, "deliver_batch", deliver_batch)
    assert run(poll=5.0, waits=10) == [5.0, 10.0, 20.0, 40.0, 60.0, 60.0, 60.0, 5.0, 5.0, 5.0]
    assert services.MAX_DATABASE_BACKOFF_SECONDS == 60.0
