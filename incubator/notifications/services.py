"""Queue notifications in the caller's transaction; deliver the outbox by email.

`notify()` is called by the domain services next to their audit event, so that nothing is
sent for a change that was rolled back, and nothing is lost for one that was committed.
The delivery worker claims rows with FOR UPDATE SKIP LOCKED on PostgreSQL, so that several
workers can run at once; on SQLite, run a single worker."""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

from flask import current_app, render_template
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import selectinload

from ..checks import email_refusal
from ..dbutil import prebuilt
from ..errors import ValidationFailed
from ..extensions import db
from ..people.models import User
from ..timeutil import utcnow
from .links import Link, link
from .models import CATEGORIES, DELIVERY, Notification, NotificationPreference, OutboxMessage

log = logging.getLogger(__name__)

# The worker waits this long at most between two attempts to reach the database.
MAX_DATABASE_BACKOFF_SECONDS = 60.0


def preference(user: User, category: str) -> str:
    found = db.session.scalar(select(NotificationPreference.delivery).where(
        NotificationPreference.user_id == user.id, NotificationPreference.category == category))
    return found or "immediate"


def _render(message: OutboxMessage) -> None:
    """Fill a notification's email from it, when the worker is about to send it. Its links
    are built as the digest's are: BASE_URL, then the application's own path."""
    notification = message.notification
    if notification is None or message.text:
        return
    base = current_app.config["BASE_URL"].rstrip("/")
    context = {"user": notification.user, "subject": notification.subject, "body": notification.body,
               "url": base + notification.url, "preferences_url": base + link("notifications.preferences").path()}
    message.text = render_template("notifications/email.txt", **context)
    message.html = render_template("notifications/email.html", **context)


def queue_email(recipient: str, subject: str, text: str, html: str) -> OutboxMessage:
    """An email of its own (not a notification: a password reset, an invitation), already
    rendered (links absolute: see absolute_url), put in the outbox in the caller's
    transaction and sent by the worker after the commit."""
    message = OutboxMessage(recipient=recipient, subject=f"[Incubateur] {subject}", text=text, html=html)
    db.session.add(message)
    return message


def absolute_url(path: str) -> str:
    """An address of this site for an email: BASE_URL and the path (see checks.email_refusal)."""
    return current_app.config["BASE_URL"].rstrip("/") + path


@prebuilt
def _preferences_query():
    # Built once: every write that notifies runs it inside its write transaction.
    return select(NotificationPreference.user_id, NotificationPreference.delivery).where(
        NotificationPreference.category == bindparam("category"),
        NotificationPreference.user_id.in_(bindparam("ids", expanding=True)))


def notify(users, category: str, subject: str, body: str, link: Link, *, exclude: User | None = None) -> int:
    """Tell each of `users` (active, not `exclude`): in the app, and by email per preference.
    An agent without an address (an identifier instead) is told in the app only.

    Subjects carry no personal details (they travel through mail servers); the body says
    what happened and the link leads to the page."""
    assert category in CATEGORIES, category
    path = link.path()
    recipients: dict[int, User] = {}
    for user in users:
        if user is None or not user.is_active or (exclude is not None and user.id == exclude.id):
            continue
        recipients.setdefault(user.id, user)
    if not recipients:
        return 0
    # Rows only, in the caller's transaction: one read for everyone's preference, and each
    # email rendered later by the worker (_render), not while the write lock is held.
    chosen = dict(db.session.execute(_preferences_query(), {"category": category, "ids": list(recipients)}).all())
    for user in recipients.values():
        delivery = chosen.get(user.id, "immediate")
        notification = Notification(user_id=user.id, category=category, subject=subject, body=body, link=path,
                                    link_endpoint=link.endpoint, link_values=link.values or None,
                                    link_anchor=link.anchor, digest_pending=delivery == "digest" and bool(user.email))
        db.session.add(notification)
        if delivery == "immediate" and user.email:
            db.session.add(OutboxMessage(recipient=user.email, subject=f"[Incubateur] {subject}", text="", html="",
                                         notification=notification))
    return len(recipients)


def set_preferences(user: User, choices: dict[str, str]) -> None:
    bad = {k for k, v in choices.items() if k not in CATEGORIES or v not in DELIVERY}
    if bad:
        raise ValidationFailed({"preferences": "Choix inconnu."})
    for category, delivery in choices.items():
        row = db.session.scalar(select(NotificationPreference).where(
            NotificationPreference.user_id == user.id, NotificationPreference.category == category))
        if row is None:
            db.session.add(NotificationPreference(user_id=user.id, category=category, delivery=delivery))
        else:
            row.delivery = delivery


def mark_read(user: User, notification_id: int | None = None) -> int:
    stmt = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    return db.session.execute(stmt.values(read_at=utcnow())).rowcount


# --------------------------------------------------------------------------- delivery


def _send(message: OutboxMessage) -> None:
    _render(message)
    config = current_app.config
    email = EmailMessage()
    email["From"] = config["MAIL_SENDER"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email.set_content(message.text)
    email.add_alternative(message.html, subtype="html")
    if not config.get("MAIL_SERVER"):
        # No SMTP configured (a newcomer's machine): write the email where it can be read.
        folder = Path(current_app.instance_path) / "mail"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{message.id:06d}.eml").write_bytes(bytes(email))
        return
    timeout = config.get("MAIL_TIMEOUT", 10)
    if config.get("MAIL_USE_SSL"):
        smtp = smtplib.SMTP_SSL(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout,
                                context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout)
    with smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(email)


def deliver_batch(limit: int = 50) -> tuple[int, int]:
    """Send what is due; returns (sent, failed attempts). Commits."""
    now = utcnow()
    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id).limit(limit).with_for_update(skip_locked=True)
        .options(selectinload(OutboxMessage.notification).joinedload(Notification.user))).all()
    if rows and (refusal := email_refusal(current_app)):
        # Nothing leaves with links that lead nowhere: the messages wait in the outbox.
        log.error("%d courriel(s) non envoyé(s), laissé(s) dans la boîte d'envoi. %s", len(rows), refusal)
        db.session.rollback()
        return 0, 0
    sent = failed = 0
    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    for message in rows:
        try:
            _send(message)
        except Exception as exc:  # noqa: BLE001 - one bad message must not block the others
            message.attempts += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:1000]
            # The SMTP server or the network: expected, no traceback. Anything else is a
            # bug worth its traceback; the message is retried and failed like the others.
            expected = isinstance(exc, (OSError, smtplib.SMTPException))
            if message.attempts >= max_attempts:
                message.status = "failed"
                log.error("Courriel %d abandonné après %d essais : %s", message.id, message.attempts,
                          message.last_error, exc_info=not expected)
            else:
                delay = 2 ** (message.attempts - 1)
                message.next_attempt_at = utcnow() + timedelta(minutes=delay)
                log.warning("Échec de l'envoi du courriel %d (essai %d sur %d), nouvel essai dans %d min : %s",
                            message.id, message.attempts, max_attempts, delay, message.last_error,
                            exc_info=not expected)
            failed += 1
        else:
            message.attempts += 1
            message.status, message.sent_at = "sent", utcnow()
            sent += 1
    db.session.commit()
    if sent:
        log.info("%d courriel(s) envoyé(s)", sent)
    return sent, failed


def run_worker(poll_seconds: float = 5.0, *, stop: threading.Event | None = None,
               sleep: Callable[[float], object] | None = None) -> None:
    """Deliver the outbox until `stop` is set (never, from the command line).

    The database going away (PostgreSQL restarting, SQLite locked past its wait) does not
    stop the worker: the error is logged, the session's connection dropped, and the next
    attempt waits twice as long each time, up to MAX_DATABASE_BACKOFF_SECONDS. `sleep`
    (by default, a wait that `stop` cuts short) lets the tests run the loop without waiting."""
    stop = stop or threading.Event()
    sleep = sleep or stop.wait
    outage = 0
    while not stop.is_set():
        try:
            sent, failed = deliver_batch()
        except (OperationalError, InterfaceError) as exc:
            outage += 1
            delay = min(MAX_DATABASE_BACKOFF_SECONDS, max(poll_seconds, 1.0) * 2 ** (outage - 1))
            log.error("Base de données inaccessible pour l'envoi des courriels (essai %d), nouvel essai "
                      "dans %.0f s : %s", outage, delay, str(exc.orig or exc).strip())
            db.session().invalidate()  # drop the connection, without a rollback that could fail too
            sleep(delay)
            continue
        if outage:
            log.info("Base de données de nouveau accessible après %d essai(s)", outage)
            outage = 0
        if not sent and not failed:
            sleep(poll_seconds)


# What waits for a person, for the digest: the inbox registers it (incubator/inbox), which
# reads every domain and so cannot be imported from here. Each answers a list of items
# with `sentence`, `action` and `link`.
_WAITING: list[Callable[[User], list]] = []


def register_waiting(reader: Callable[[User], list]) -> None:
    if reader not in _WAITING:
        _WAITING.append(reader)


def send_digests() -> int:
    """One email per person who chose a daily digest for some category: the notifications
    they chose to receive daily, and what waits for them today (the home page's counts)."""
    pending = db.session.scalars(select(Notification).where(Notification.digest_pending.is_(True))
                                 .order_by(Notification.user_id, Notification.created_at)).all()
    by_user: dict[int, list[Notification]] = {}
    for notification in pending:
        by_user.setdefault(notification.user_id, []).append(notification)
    daily = set(db.session.scalars(select(NotificationPreference.user_id)
                                   .where(NotificationPreference.delivery == "digest").distinct()))
    base = current_app.config["BASE_URL"].rstrip("/")
    sent = 0
    for user_id in sorted(set(by_user) | daily):
        user = db.session.get(User, user_id)
        items = by_user.get(user_id, [])
        # Agents without an email (an identifier instead) read everything in the application.
        reachable = user.is_active and bool(user.email)
        waiting = [item for reader in _WAITING for item in reader(user)] if reachable else []
        if reachable and (items or waiting):
            context = {"user": user, "items": items, "waiting": waiting, "base": base,
                       "preferences_url": base + link("notifications.preferences").path()}
            subject = (f"Votre récapitulatif : {len(items)} nouvelle(s)" if items
                       else f"Votre récapitulatif : {len(waiting)} sujet(s) en attente")
            db.session.add(OutboxMessage(
                recipient=user.email, subject=f"[Incubateur] {subject}",
                text=render_template("notifications/digest.txt", **context),
                html=render_template("notifications/digest.html", **context)))
            sent += 1
        for item in items:
            item.digest_pending = False
    db.session.commit()
    return sent
