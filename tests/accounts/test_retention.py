"""What a sign-in leaves behind, and for how long: the login attempt (address, email typed)
LOGIN_ATTEMPTS_KEPT_DAYS, the client's address in the audit log's sign-in entry
SIGN_IN_ADDRESSES_KEPT_DAYS; `flask retention apply` forgets them after that, the entry stays."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from incubator.accounts.models import LoginAttempt
from incubator.audit.models import AuditEvent
from incubator.extensions import db
from tests.factories import make_user

SIGNED_IN_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday; any day would do


def attempts(email: str) -> int:
    return db.session.scalar(select(func.count()).select_from(LoginAttempt).where(LoginAttempt.email == email))


def sign_in_entry(user) -> AuditEvent:
    db.session.expire_all()
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "auth.login", AuditEvent.actor_id == user.id)).one()


def retention(app, days_later: int) -> str:
    with time_machine.travel(SIGNED_IN_AT + timedelta(days=days_later), tick=False):
        result = app.test_cli_runner().invoke(args=["retention", "apply"])
    assert result.exit_code == 0, result.output
    return result.output


def test_sign_in_entries_keep_the_address_then_forget_it(app, client, make_client, login):
    user, other = make_user(), make_user()
    db.session.commit()
    with time_machine.travel(SIGNED_IN_AT, tick=False):
        login(client, user)
        refused = make_client().post("/connexion", data={"email": other.email, "password": "pas le bon"})
    assert refused.status_code == 422
    entry = sign_in_entry(user)
    assert entry.data == {"method": "password", "address": "127.0.0.1"}
    assert attempts(user.email) == 1 and attempts(other.email) == 1

    assert "0 tentative(s)" in retention(app, 29)  # still within the 30 days
    assert attempts(user.email) == 1

    output = retention(app, 31)
    assert "2 tentative(s) de connexion de plus de 30 jours effacée(s)" in output
    assert attempts(user.email) == attempts(other.email) == 0
    assert sign_in_entry(user).data["address"] == "127.0.0.1"  # the audit keeps it a year

    assert "1 adresse(s) de connexion de plus de 365 jours retirée(s)" in retention(app, 366)
    entry = sign_in_entry(user)
    assert entry.data == {"method": "password"} and entry.created_at == SIGNED_IN_AT.replace(tzinfo=None)
    assert "0 adresse(s)" in retention(app, 367)  # done once


def test_the_audit_log_still_refuses_any_other_change(app, client, login):
    user = make_user()
    db.session.commit()
    login(client, user)
    entry = sign_in_entry(user)
    entry.data = {}
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
