"""What the pages read of the audit log: the public history of a proposal or a project."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select

from ..dbutil import prebuilt
from ..extensions import db
from ..people.models import User
from .models import AuditEvent


class TimelineEvent(NamedTuple):
    """A public event as a history shows it: a row with its actor's name (None: done by the
    application), not the event with its actor as objects."""

    created_at: datetime
    action: str
    data: dict[str, Any] | None
    actor_name: str | None


@prebuilt
def _public_timeline_query():
    return (select(AuditEvent.created_at, AuditEvent.action, AuditEvent.data,
                   User.full_name.label("actor_name"))
            .outerjoin(User, User.id == AuditEvent.actor_id)
            .where(AuditEvent.target_type == bindparam("target_type"), AuditEvent.target_id == bindparam("target_id"),
                   AuditEvent.is_public.is_(True))
            .order_by(AuditEvent.created_at, AuditEvent.id))


def public_timeline(target_type: str, target_id: int) -> list[TimelineEvent]:
    """The target's public events, oldest first."""
    return [TimelineEvent(*row) for row in db.session.execute(
        _public_timeline_query(), {"target_type": target_type, "target_id": target_id})]
