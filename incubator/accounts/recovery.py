"""Getting into one's account without a password: « mot de passe oublié » (a link valid an
hour), an administrator's invitation (a link valid a week), and the printed activation
sheet of an agent without an address (an identifier and a code valid a month).

Every token is single-use and stored hashed (accounts.tokens); using one, or any change of
the password, ends the others and every open session. A deactivated agent can neither
reset nor activate. The reset page never says whether an account has the address typed:
the same answer, the same work (the email is rendered either way), and requests counted
per address typed and per client whether or not the account exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app, render_template, url_for
from sqlalchemy import func, select

from ..audit.services import record
from ..dbutil import serialise_on
from ..errors import WHOLE_FORM, ValidationFailed, refuse
from ..extensions import db
from ..notifications.services import absolute_url, queue_email
from ..people.models import EMAIL_MAX, User
from ..people.policy import require_admin
from ..people.services import find_account, normalise_email
from ..timeutil import utcnow
from . import tokens
from .models import AccountRequest, AccountToken
from .passwords import hash_password, password_errors, password_holder
from .policy import activation_sheet_refusal, invitation_refusal, may_reset, may_use_token
from .sessions import revoke_sessions

LINK_INVALID = ("Ce lien n'est pas ou plus valable : il a peut-être déjà servi, expiré, ou été remplacé par "
                "un plus récent. Demandez-en un nouveau (« Mot de passe oublié ? ») ou adressez-vous à "
                "l'administration de votre collectivité.")
CODE_INVALID = ("Identifiant ou code incorrect, ou code qui n'est plus valable. Vérifiez la fiche ; si le "
                "problème continue, demandez une nouvelle fiche à l'administration de votre collectivité.")
PASSWORDS_DIFFER = "Les deux saisies du mot de passe diffèrent."


class AccountRequestRefused(ValidationFailed):
    """A refusal shown above the form (422, 429 when throttled). A wrong activation code is
    kept (keeps_writes): throttling counts it."""

    keeps_writes = True

    def __init__(self, message: str, *, throttled: bool = False):
        super().__init__({WHOLE_FORM: message}, message)
        if throttled:
            self.status_code = 429


def _count(kind: str, since: datetime, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(AccountRequest).where(
        AccountRequest.kind == kind, AccountRequest.requested_at >= since, *conditions))


def _over_limits(kind: str, since, key: str, ip_address: str, per_key: int, per_client: int) -> bool:
    """Whether requests of `kind` since `since` reached the limit for what was typed (`key`)
    or for the client's address."""
    return (_count(kind, since, AccountRequest.key == key) >= per_key
            or _count(kind, since, AccountRequest.ip_address == ip_address) >= per_client)


def _minutes(setting: str) -> int:
    return int(current_app.config[setting].total_seconds() // 60)


# --------------------------------------------------------------------------- password reset


def request_password_reset(email: str, ip_address: str) -> None:
    """« Mot de passe oublié » for `email`: a link valid PASSWORD_RESET_LIFETIME, by email,
    if an active account has the address; nothing said either way."""
    config = current_app.config
    key = normalise_email(email)[:EMAIL_MAX]
    since = utcnow() - config["PASSWORD_RESET_THROTTLE_WINDOW"]
    serialise_on(f"reset-email:{key}", f"reset-client:{ip_address}")
    if _over_limits("reset", since, key, ip_address, config["PASSWORD_RESET_MAX_PER_EMAIL"],
                    config["PASSWORD_RESET_MAX_PER_CLIENT"]):
        raise AccountRequestRefused(
            "Trop de demandes de réinitialisation. Par sécurité, réessayez dans "
            f"{_minutes('PASSWORD_RESET_THROTTLE_WINDOW')} minutes, ou adressez-vous à l'administration.",
            throttled=True)
    db.session.add(AccountRequest(kind="reset", key=key, ip_address=ip_address))
    user = find_account(key) if "@" in key else None
    recipient = user if may_reset(user) else None
    # The same work whether or not an active account has the address: the lookup, a token
    # drawn and hashed, the older links ended (an UPDATE on no row otherwise), the email
    # rendered. Only the three rows written for an account (token, email, audit event)
    # differ, inserted with the request's row at the one commit.
    secret = tokens.new_link_token()
    tokens.revoke_tokens(recipient, "reset")
    context = {"url": absolute_url(url_for("accounts.reset_password", token=secret)),
               "minutes": _minutes("PASSWORD_RESET_LIFETIME"),
               "first_name": recipient.first_name if recipient else ""}
    text, html = (render_template(f"accounts/email_reset.{suffix}", **context) for suffix in ("txt", "html"))
    if recipient is None:
        tokens.token_hash(secret)
        return
    tokens.issue(recipient, "reset", secret, revoked=True)
    queue_email(recipient.email, "Choisir un nouveau mot de passe", text=text, html=html)
    record("auth.password_reset_requested", actor=None, institution_id=recipient.institution_id,
           target=recipient)


def live_token(secret: str, purpose: str) -> AccountToken | None:
    """The live token of this purpose whose account it may still open, or None: what the
    reset and activation pages ask before showing their form."""
    token = tokens.find_live(secret, (purpose,))
    if token is None or not may_use_token(token.user, purpose):
        return None
    return token


def _choose_password(user: User, password: str, confirm: str) -> None:
    errors = password_errors(password, own=True, **password_holder(user))
    if password != confirm:
        errors["confirm_password"] = PASSWORDS_DIFFER
    if errors:
        raise ValidationFailed(errors)
    user.password_hash = hash_password(password)
    revoke_sessions(user)
    tokens.revoke_tokens(user)


def _use(token: AccountToken) -> None:
    token.used_at = utcnow()


def reset_password(secret: str, *, password: str, confirm: str) -> User:
    """A new password from a reset link: the link is used, every other token and every
    session of the account ended."""
    token = live_token(secret, "reset")
    if token is None:
        raise ValidationFailed({WHOLE_FORM: LINK_INVALID})
    user = token.user
    _use(token)
    _choose_password(user, password, confirm)
    record("auth.password_reset", actor=user, institution_id=user.institution_id, target=user)
    return user


# --------------------------------------------------------------------------- invitations


def invite(actor: User, user: User) -> None:
    """Email `user` a link to choose their password (valid INVITATION_LIFETIME). Sending it
    again ends the previous link."""
    refuse(invitation_refusal(actor, user))
    secret = tokens.new_link_token()
    tokens.issue(user, "invitation", secret, by=actor)
    context = {"first_name": user.first_name, "institution": user.institution.name, "login": user.login,
               "url": absolute_url(url_for("accounts.activate", token=secret)),
               "days": current_app.config["INVITATION_LIFETIME"].days}
    queue_email(user.email, "Votre compte Incubateur vous attend",
                *(render_template(f"accounts/email_invitation.{suffix}", **context) for suffix in ("txt", "html")))
    record("account.invited", actor=actor, institution_id=user.institution_id, target=user)


@dataclass
class InvitationReport:
    invited: int = 0
    skipped: int = 0


def invite_agents(actor: User, *, institution_id: int, user_ids: list[int]) -> InvitationReport:
    """Invite those of these agents (an import's) who may be: the others (activated,
    without an address, deactivated) are counted as skipped."""
    require_admin(actor, institution_id)
    report = InvitationReport()
    users = db.session.scalars(select(User).where(User.id.in_(user_ids[:5000]),
                                                  User.institution_id == institution_id)).all()
    report.skipped = len(set(user_ids)) - len(users)
    for user in users:
        if invitation_refusal(actor, user):
            report.skipped += 1
            continue
        invite(actor, user)
        report.invited += 1
    return report


@dataclass
class ActivationSheet:
    user: User
    login: str
    code: str
    expires_at: datetime


def issue_activation_sheet(actor: User, user: User) -> ActivationSheet:
    """A new activation code for the printed sheet (shown once; the previous code ends)."""
    refuse(activation_sheet_refusal(actor, user))
    code = tokens.new_code()
    token = tokens.issue(user, "sheet", tokens.normalise_code(code), by=actor)
    record("account.activation_sheet", actor=actor, institution_id=user.institution_id, target=user)
    return ActivationSheet(user=user, login=user.login, code=code, expires_at=token.expires_at)


def activate(secret: str, *, password: str, confirm: str) -> User:
    """The agent chooses their password from the invitation link."""
    token = live_token(secret, "invitation")
    if token is None:
        raise ValidationFailed({WHOLE_FORM: LINK_INVALID})
    user = token.user
    _use(token)
    _choose_password(user, password, confirm)
    record("account.activated", actor=user, institution_id=user.institution_id, target=user,
           data={"by": "invitation"})
    return user


def activate_with_code(login: str, code: str, *, password: str, confirm: str, ip_address: str) -> User:
    """The agent chooses their password with the identifier and code of the printed sheet.
    Wrong codes are counted per identifier typed and per client: past the limits, refused
    even with the right code, for LOGIN_THROTTLE_WINDOW."""
    config = current_app.config
    key = normalise_email(login)[:EMAIL_MAX]
    since = utcnow() - config["LOGIN_THROTTLE_WINDOW"]
    serialise_on(f"code-account:{key}", f"code-client:{ip_address}")
    if _over_limits("code", since, key, ip_address, config["ACTIVATION_CODE_MAX_FAILURES_PER_ACCOUNT"],
                    config["ACTIVATION_CODE_MAX_FAILURES_PER_CLIENT"]):
        raise AccountRequestRefused(
            f"Trop d'essais. Par sécurité, réessayez dans {_minutes('LOGIN_THROTTLE_WINDOW')} minutes ou "
            "adressez-vous à l'administration de votre collectivité.", throttled=True)
    user = find_account(key)
    token = tokens.find_live(tokens.normalise_code(code), ("sheet",), user=user) if user else None
    if token is None or not may_use_token(user, "sheet"):
        db.session.add(AccountRequest(kind="code", key=key, ip_address=ip_address))
        raise AccountRequestRefused(CODE_INVALID)
    _use(token)
    _choose_password(user, password, confirm)
    record("account.activated", actor=user, institution_id=user.institution_id, target=user,
           data={"by": "sheet"})
    return user

