"""Notifications against a real SMTP server on loopback (aiosmtpd)."""

import email
import email.policy
import socket
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask import current_app
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from incubator import create_app
from incubator.extensions import db
from incubator.notifications import services
from incubator.notifications.links import link
from incubator.notifications.models import Notification, OutboxMessage
from incubator.proposals import services as proposal_services
from incubator.timeutil import utcnow
from tests.conftest import TEST_DATABASE_URL, app_config
from tests.factories import make_notification, make_proposal, make_user
from tests.helpers import text


class Inbox:
    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app):
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    yield inbox
    controller.stop()
    app.config.update(MAIL_SERVER=None)


def _body(message, subtype):
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}":
            return part.get_payload(decode=True).decode("utf-8")
    return ""


def test_submission_is_notified_and_delivered_by_smtp(smtp):
    author = make_user(first_name="Camille", email="camille@ville.fr")
    proposal = make_proposal(author=author, state="draft", title="Un carnet de santé des bâtiments")
    proposal_services.submit_proposal(author, proposal)
    db.session.commit()
    assert services.deliver_batch() == (1, 0)
    [message] = smtp.messages
    assert message["To"] == "camille@ville.fr"
    assert message["Subject"] == "[Incubateur] Votre proposition est bien déposée"
    assert "carnet" not in message["Subject"]  # no personal detail in subjects
    plain, html = _body(message, "plain"), _body(message, "html")
    assert "Bonjour Camille" in plain and f"/propositions/{proposal.id}" in plain
    assert "préférences" in plain and "<a href=" in html
    assert db.session.scalar(select(OutboxMessage.status)) == "sent"
    assert services.deliver_batch() == (0, 0)  # nothing twice


def test_smtp_down_then_up_nothing_lost(app):
    port = free_port()  # nothing listens there yet
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=2)
    author = make_user()
    proposal_services.submit_proposal(author, make_proposal(author=author, state="draft"))
    db.session.commit()
    assert services.deliver_batch() == (0, 1)
    message = db.session.scalar(select(OutboxMessage))
    assert (message.status, message.attempts) == ("pending", 1) and message.next_attempt_at > utcnow()
    assert "Connection" in message.last_error or "refused" in message.last_error.lower()
    assert services.deliver_batch() == (0, 0)  # not due yet: the delay grows
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        message.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert services.deliver_batch() == (1, 0)
        assert len(inbox.messages) == 1
    finally:
        controller.stop()
        app.config.update(MAIL_SERVER=None)


def test_failed_after_max_attempts(app):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_TIMEOUT=1, MAIL_MAX_ATTEMPTS=2)
    try:
        author = make_user()
        proposal_services.submit_proposal(author, make_proposal(author=author, state="draft"))
        db.session.commit()
        for _ in range(2):
            db.session.execute(db.update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
            db.session.commit()
            services.deliver_batch()
        assert db.session.scalar(select(OutboxMessage.status)) == "failed"
    finally:
        app.config.update(MAIL_SERVER=None, MAIL_MAX_ATTEMPTS=5)


def test_notifying_many_people_writes_rows_only_and_the_worker_renders_each_email(smtp):
    """What notify() does inside the caller's write transaction stays small whatever the number
    of people: one read for their preferences, rows to insert, no template rendered."""
    people = [make_user(first_name=f"Agent{i:02d}") for i in range(12)]
    services.set_preferences(people[0], {"projects": "app"})
    services.set_preferences(people[1], {"projects": "digest"})
    db.session.commit()
    statements = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        assert services.notify(people + [people[3]], "projects", "Un jalon est en retard", "Le jalon est en retard.",
                               link("projects.show", "jalons", project_id=7)) == 12
        db.session.flush()
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert sum("FROM notification_preferences" in s for s in statements) == 1
    queued = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [m.recipient for m in queued] == [p.email for p in people[2:]]
    assert all(m.text == "" and m.html == "" for m in queued)
    db.session.commit()
    assert services.deliver_batch() == (10, 0)
    greeted = sorted(line for m in smtp.messages for line in _body(m, "plain").splitlines() if line.startswith("Bonjour"))
    assert greeted == [f"Bonjour {p.first_name}," for p in people[2:]]
    assert all("http://127.0.0.1:5000/projets/7#jalons" in _body(m, "plain") for m in smtp.messages)
    assert all(m.text.startswith("Bonjour") for m in queued)  # what was sent is kept


def test_rolled_back_change_sends_nothing():
    author = make_user()
    proposal = make_proposal(author=author, state="draft")
    db.session.commit()
    proposal_services.submit_proposal(author, proposal)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


def test_preferences_digest_and_app_only(smtp, client, login):
    author = make_user(first_name="Inès")
    login(client, author)
    response = client.post("/notifications/preferences", data={"proposals": "digest", "collective": "app",
                                                                "approvals": "immediate", "my_time": "immediate",
                                                                "projects": "immediate"})
    assert response.status_code == 303
    refused = client.post("/notifications/preferences", data={"proposals": "jamais", "collective": "immediate"})
    assert refused.status_code == 422 and "Choix inconnu : rien n'a été enregistré." in text(refused)
    assert services.preference(author, "collective") == "app"  # nothing of the refused form written
    for _ in range(2):
        proposal_services.submit_proposal(author, make_proposal(author=author, state="draft"))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert services.send_digests() == 1
    assert services.deliver_batch() == (1, 0)
    [digest] = smtp.messages
    assert "récapitulatif : 2 nouvelle(s)" in digest["Subject"]
    assert services.send_digests() == 0


def test_in_app_list_counter_and_mark_read(client, login):
    author = make_user()
    for _ in range(3):
        proposal_services.submit_proposal(author, make_proposal(author=author, state="draft"))
    other = make_user()
    db.session.commit()
    login(client, author)
    assert "3<span class=\"visually-hidden\"> non lues" in text(client.get("/notifications/compteur"))
    page = text(client.get("/notifications"))
    assert page.count("<strong>Votre proposition est bien déposée</strong>") == 3
    first = db.session.scalar(select(Notification.id).where(Notification.user_id == author.id))
    assert client.post(f"/notifications/{first}/lu").status_code == 303
    assert "2<span" in text(client.get("/notifications/compteur"))
    assert client.post("/notifications/tout-lu").status_code == 303
    assert "non lue" not in text(client.get("/notifications/compteur"))
    # Someone else's notification: not found.
    notification = make_notification(other, subject="x", body="x")
    db.session.commit()
    assert client.post(f"/notifications/{notification.id}/lu").status_code == 404


def test_without_smtp_emails_are_written_to_files(app):
    app.config.update(MAIL_SERVER=None)
    author = make_user()
    proposal_services.submit_proposal(author, make_proposal(author=author, state="draft"))
    db.session.commit()
    assert services.deliver_batch() == (1, 0)
    files = sorted(Path(app.instance_path, "mail").glob("*.eml"))
    assert files and b"Subject: [Incubateur]" in files[-1].read_bytes()


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="plusieurs workers à la fois : PostgreSQL seulement (un seul worker sur SQLite, documenté)")
def test_two_workers_at_once_send_each_message_once(smtp, database_url):
    author = make_user()
    for _ in range(30):
        proposal_services.submit_proposal(author, make_proposal(author=author, state="draft"))
    db.session.commit()
    results = []

    def worker(app):
        with app.app_context():
            total = 0
            while True:
                sent, _failed = services.deliver_batch(limit=5)
                if not sent:
                    break
                total += sent
            results.append(total)

    smtp_port = current_app.config["MAIL_PORT"]
    # Each worker has an app of its own, made here: Python 3.11 may fail to compile two apps'
    # routes at once in two threads (« AST constructor recursion depth mismatch »), which left
    # one worker doing all the sending.
    apps = [create_app(app_config(database_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_port)) for _ in range(2)]
    threads = [threading.Thread(target=worker, args=(app,)) for app in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sum(results) == 30 and len(smtp.messages) == 30
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sent")) == 30
