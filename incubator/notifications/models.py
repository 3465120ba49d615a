from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..people.models import EMAIL_MAX, User
from ..timeutil import utcnow
from .links import stored_path

CATEGORIES = {
    "proposals": "Mes propositions (dépôt, recevabilité, séance, décision, projet)",
    "collective": "Collectif pilote (propositions à évaluer, séances, résultats)",
    "approvals": "Mes validations de N+1 (semaines, immersions)",
    "my_time": "Mon temps et mes candidatures (refus, accords, sélection)",
    "projects": "Mes projets (lettre de mission, jalons en retard)",
}
DELIVERY = {
    "immediate": "Par courriel, tout de suite",
    "digest": "Dans un courriel récapitulatif quotidien",
    "app": "Dans l'application seulement",
}


class Notification(db.Model):
    """What a person sees in the app; email copies go through the outbox."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    category: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # Where it leads: an endpoint and its values (built when shown, see links.py); `link`
    # keeps the address of the day it was sent, used if the endpoint disappears.
    link: Mapped[str] = mapped_column(String(300), default="/")
    link_endpoint: Mapped[str | None] = mapped_column(String(80))
    link_values: Mapped[dict | None] = mapped_column(JSON)
    link_anchor: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
    digest_pending: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship()

    @property
    def url(self) -> str:
        return stored_path(self.link_endpoint, self.link_values, self.link_anchor, self.link)


class NotificationPreference(db.Model):
    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    delivery: Mapped[str] = mapped_column(String(10), default="immediate")


class OutboxMessage(db.Model):
    """An email to send, written in the same transaction as the change that causes it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(EMAIL_MAX))
    subject: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The copy of a notification: text and html empty until the worker renders them from it
    # when it sends (services.deliver_batch), outside the transaction that wrote them.
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"))

    notification: Mapped[Notification | None] = relationship()
