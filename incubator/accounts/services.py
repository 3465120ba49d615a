"""State changes on accounts: login, sessions, users, roles, org units, collective.

Every function takes the acting user, checks permission and state, changes the models,
records the audit event, and leaves the commit to the caller.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from ..audit.services import record
from ..dbutil import serialise_on
from ..errors import WHOLE_FORM, NotAllowed, ValidationFailed
from ..extensions import db
from ..timeutil import utcnow
from ..web import after_request_transaction
from .models import (
    CATEGORIES,
    QUOTITE_MAX,
    QUOTITE_MIN,
    ROLES,
    AuthSession,
    CollectiveMembership,
    Institution,
    LoginAttempt,
    OrgUnit,
    User,
    UserRole,
)
from .passwords import password_errors
from .policy import ADMIN_ONLY, user_edit_refusal

# How often a session's last activity is written: each request would serialise SQLite.
SESSION_REFRESH_INTERVAL = timedelta(minutes=5)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Addresses are unique on the whole instance (they are the login), so an address taken in
# another institution cannot be used; this answer says so without saying why, the same
# for the addresses kept for anonymised agents (reserved ".invalid" domain), so that an
# administrator learns nothing about the accounts of other institutions.
EMAIL_UNAVAILABLE = ("Cette adresse ne peut pas être utilisée : vérifiez-la ou contactez "
                     "l'administration de l'instance.")
EMAIL_TAKEN_HERE = "Un compte utilise déjà cette adresse."
# A hash of a random password: checked against when the account is unknown, so that the
# answer takes the same time whether the address exists or not.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))

# --------------------------------------------------------------------------- login


class LoginRefused(ValidationFailed):
    """Login refused: the message is shown above the form (422, 429 when throttled). The
    attempt recorded before is kept, not rolled back: throttling counts it."""

    keeps_writes = True

    def __init__(self, message: str, *, throttled: bool = False):
        super().__init__({WHOLE_FORM: message}, message)
        self.throttled = throttled
        if throttled:
            self.status_code = 429


@dataclass
class LoginResult:
    user: User
    session_token: str


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def agent_by_email(institution_id: int, email: str | None, *, active_only: bool = True) -> User | None:
    """The agent of this institution with this address (case and spaces ignored), or None."""
    email = normalise_email(email or "")
    if not email or not email.isprintable():
        return None  # no address has control characters (and PostgreSQL refuses NUL)
    stmt = select(User).where(User.email == email, User.institution_id == institution_id)
    if active_only:
        stmt = stmt.where(User.is_active.is_(True))
    return db.session.scalar(stmt)


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def _throttled(email: str, ip_address: str) -> bool:
    config = current_app.config
    since = utcnow() - config["LOGIN_THROTTLE_WINDOW"]
    last_success = db.session.scalar(
        select(func.max(LoginAttempt.attempted_at)).where(
            LoginAttempt.email == email, LoginAttempt.succeeded.is_(True),
            LoginAttempt.attempted_at >= since,
        )
    )
    account_since = max(since, last_success) if last_success else since
    account_failures = db.session.scalar(
        select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.email == email, LoginAttempt.succeeded.is_(False),
            LoginAttempt.attempted_at > account_since,
        )
    )
    if account_failures >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]:
        return True
    address_failures = db.session.scalar(
        select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.ip_address == ip_address, LoginAttempt.succeeded.is_(False),
            LoginAttempt.attempted_at >= since,
        )
    )
    return address_failures >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]


def _refuse_if_throttled(email: str, ip_address: str) -> None:
    if _throttled(email, ip_address):
        minutes = int(current_app.config["LOGIN_THROTTLE_WINDOW"].total_seconds() // 60)
        raise LoginRefused(
            "Trop de tentatives de connexion. Par sécurité, réessayez dans "
            f"{minutes} minutes ou adressez-vous à l'administration.",
            throttled=True,
        )


def log_in(email: str, password: str, ip_address: str) -> LoginResult:
    """The single entry point for password login (single sign-on will sit beside it).

    On refusal, the failed attempt is left in the session for the caller to commit,
    so that throttling counts it, and LoginRefused is raised.
    """
    email = normalise_email(email)
    _refuse_if_throttled(email, ip_address)
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password or "")
        ok = False
    else:
        ok = check_password_hash(user.password_hash, password or "")
    # Attempts on one account, and from one address, are counted one at a time across
    # workers and servers: a burst of parallel guesses cannot slip under the limits. The
    # check is made again under the locks; the slow password hash stays outside them.
    serialise_on(f"login-account:{email}", f"login-address:{ip_address}")
    _refuse_if_throttled(email, ip_address)
    db.session.add(LoginAttempt(email=email, ip_address=ip_address, succeeded=ok))
    if not ok:
        raise LoginRefused("Adresse électronique ou mot de passe incorrect.")
    if not user.is_active:
        record("auth.login_refused", actor=user, institution_id=user.institution_id,
               target=user, data={"reason": "inactive"})
        raise LoginRefused(
            "Ce compte est désactivé. Adressez-vous à l'administration de votre collectivité."
        )
    return LoginResult(user=user, session_token=open_session(user, ip_address))


def open_session(user: User, ip_address: str | None) -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(AuthSession(token=token, user_id=user.id, ip_address=ip_address))
    record("auth.login", actor=user, institution_id=user.institution_id, target=user)
    return token


# Facts about the user that other domains read on every page (the navigation asks whether
# they approve anyone's time): each domain registers a SQL expression on the user's id at
# import, and the session's own query answers them all, instead of one query each. The
# domains depend on accounts, never the other way round.
_SESSION_FACTS: dict[str, Callable[[Any], Any]] = {}


def register_session_fact(name: str, clause: Callable[[Any], Any]) -> None:
    """`clause(user_id_column)` is a SQL expression; its value for the logged-in user is
    `user.session_facts[name]` during the request."""
    _SESSION_FACTS[name] = clause


def resolve_session(token: str, user_id: str) -> User | None:
    """The user of a live session, or None (revoked, idle, or account deactivated)."""
    facts = list(_SESSION_FACTS.items())
    row = db.session.execute(
        select(AuthSession, User, *(clause(User.id).label(name) for name, clause in facts))
        .join(User, User.id == AuthSession.user_id)
        # Every page shows the institution and checks roles: loaded with the session.
        .options(joinedload(User.roles), joinedload(User.institution))
        .where(AuthSession.token == token, AuthSession.revoked_at.is_(None))
    ).unique().first()
    if row is None:
        return None
    auth_session, user, *values = row
    user.session_facts = {name: value for (name, _clause), value in zip(facts, values, strict=True)}
    now = utcnow()
    if str(user.id) != str(user_id) or not user.is_active:
        return None
    config = current_app.config
    if now - auth_session.last_seen_at > config["SESSION_IDLE_TIMEOUT"]:
        return None
    if now - auth_session.created_at > config["PERMANENT_SESSION_LIFETIME"]:
        return None
    # Refresh rarely (a write per request would serialise SQLite): in the request's own
    # transaction when it writes, right after it when it only reads.
    if now - auth_session.last_seen_at > SESSION_REFRESH_INTERVAL:
        session_id = auth_session.id
        after_request_transaction(lambda: db.session.execute(
            update(AuthSession).where(AuthSession.id == session_id).values(last_seen_at=now)))
    return user


def log_out(token: str | None, user: User | None) -> None:
    if token:
        db.session.execute(
            update(AuthSession)
            .where(AuthSession.token == token, AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    if user is not None:
        record("auth.logout", actor=user, institution_id=user.institution_id, target=user)


def revoke_sessions(user: User, *, keep_token: str | None = None) -> None:
    stmt = update(AuthSession).where(
        AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None)
    )
    if keep_token:
        stmt = stmt.where(AuthSession.token != keep_token)
    db.session.execute(stmt.values(revoked_at=utcnow()))


def _holder(user: User) -> dict[str, str]:
    """What a password must not contain: see accounts.passwords."""
    return {"first_name": user.first_name, "last_name": user.last_name, "email": user.email}


def change_own_password(
    user: User, *, current: str, new: str, confirm: str, keep_token: str | None
) -> None:
    errors: dict[str, str] = {}
    if not user.password_hash or not check_password_hash(user.password_hash, current or ""):
        errors["current_password"] = "Le mot de passe actuel est incorrect."
    errors.update(password_errors(new, "new_password", own=True, **_holder(user)))
    if new != confirm:
        errors["confirm_password"] = "Les deux saisies du nouveau mot de passe diffèrent."
    if not errors and new == current:
        errors["new_password"] = "Le nouveau mot de passe doit différer de l'actuel."
    if errors:
        raise ValidationFailed(errors)
    user.password_hash = hash_password(new)
    revoke_sessions(user, keep_token=keep_token)
    record("auth.password_changed", actor=user, institution_id=user.institution_id, target=user)


# --------------------------------------------------------------------------- permissions


def require_admin(actor: User, institution_id: int) -> None:
    if actor.institution_id != institution_id or not actor.has_role("admin"):
        raise NotAllowed(ADMIN_ONLY)


def require_admin_over(actor: User, user: User) -> None:
    """The guard of every change to an account: see accounts.policy.can_edit_user."""
    refusal = user_edit_refusal(actor, user)
    if refusal:
        raise NotAllowed(refusal)


def require_collective_manager(actor: User, institution_id: int) -> None:
    """Collective memberships: the institution's admin or the coordinator."""
    if actor.institution_id != institution_id or not (
        actor.has_role("admin") or actor.has_role("coordinator")
    ):
        raise NotAllowed("Cette action est réservée à l'administration ou à l'animation du collectif.")


def require_instance_admin(actor: User) -> None:
    if not actor.is_instance_admin:
        raise NotAllowed("Cette action est réservée à l'administration de l'instance.")


# --------------------------------------------------------------------------- institutions

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def create_institution(
    actor: User | None, *, name: str, slug: str, kind: str = "commune"
) -> Institution:
    """`actor` is None only for the command line, run by the server's operator."""
    if actor is not None:
        require_instance_admin(actor)
    name, slug = (name or "").strip(), (slug or "").strip().lower()
    errors: dict[str, str] = {}
    if not 2 <= len(name) <= 200:
        errors["name"] = "Le nom doit compter entre 2 et 200 caractères."
    elif db.session.scalar(select(Institution.id).where(Institution.name == name)):
        errors["name"] = "Une collectivité porte déjà ce nom."
    if not SLUG_RE.match(slug) or len(slug) > 80:
        errors["slug"] = "Identifiant : lettres minuscules, chiffres et tirets (ex. ville-de-belleville)."
    elif db.session.scalar(select(Institution.id).where(Institution.slug == slug)):
        errors["slug"] = "Cet identifiant est déjà pris."
    if errors:
        raise ValidationFailed(errors)
    institution = Institution(name=name, slug=slug, kind=(kind or "commune").strip()[:80])
    db.session.add(institution)
    db.session.flush()
    record("institution.created", actor=actor, institution_id=institution.id,
           target=institution, data={"name": name, "slug": slug})
    return institution


# --------------------------------------------------------------------------- org units


def _open_unit_in(institution_id: int, unit_id: int | None, field: str) -> OrgUnit | None:
    if unit_id is None:
        return None
    unit = db.session.get(OrgUnit, unit_id)
    if unit is None or unit.institution_id != institution_id:
        raise ValidationFailed({field: "Direction ou service inconnu."})
    if not unit.is_open:
        raise ValidationFailed({field: "Cette direction ou ce service est fermé."})
    return unit


def _check_unit_name(name: str) -> str:
    name = (name or "").strip()
    if not 2 <= len(name) <= 200:
        raise ValidationFailed({"name": "Le nom doit compter entre 2 et 200 caractères."})
    return name


def create_org_unit(
    actor: User, *, institution_id: int, code: str, name: str, kind: str,
    parent_id: int | None,
) -> OrgUnit:
    require_admin(actor, institution_id)
    code = (code or "").strip().upper()
    errors: dict[str, str] = {}
    if not re.fullmatch(r"[A-Z0-9][A-Z0-9_-]{0,39}", code):
        errors["code"] = "Code : 1 à 40 lettres, chiffres, tirets (ex. DRH-PAIE)."
    elif db.session.scalar(
        select(OrgUnit.id).where(OrgUnit.institution_id == institution_id, OrgUnit.code == code)
    ):
        errors["code"] = "Ce code est déjà utilisé."
    if kind not in ("direction", "service"):
        errors["kind"] = "Choisissez direction ou service."
    if errors:
        raise ValidationFailed(errors)
    name = _check_unit_name(name)
    parent = _open_unit_in(institution_id, parent_id, "parent_id")
    unit = OrgUnit(institution_id=institution_id, code=code, name=name, kind=kind, parent=parent)
    db.session.add(unit)
    db.session.flush()
    record("org_unit.created", actor=actor, institution_id=institution_id, target=unit,
           data={"code": code, "name": name, "parent_id": parent_id})
    return unit


def rename_org_unit(actor: User, unit: OrgUnit, *, name: str) -> None:
    require_admin(actor, unit.institution_id)
    name = _check_unit_name(name)
    old = unit.name
    unit.name = name
    record("org_unit.renamed", actor=actor, institution_id=unit.institution_id, target=unit,
           data={"from": old, "to": name})


def move_org_unit(actor: User, unit: OrgUnit, *, parent_id: int | None) -> None:
    require_admin(actor, unit.institution_id)
    parent = _open_unit_in(unit.institution_id, parent_id, "parent_id")
    ancestor = parent
    while ancestor is not None:
        if ancestor.id == unit.id:
            raise ValidationFailed(
                {"parent_id": "Une unité ne peut être rattachée à elle-même ou à l'une de ses sous-unités."}
            )
        ancestor = ancestor.parent
    old = unit.parent_id
    unit.parent = parent
    record("org_unit.moved", actor=actor, institution_id=unit.institution_id, target=unit,
           data={"from": old, "to": parent_id})


def close_org_unit(actor: User, unit: OrgUnit, *, on: date) -> None:
    require_admin(actor, unit.institution_id)
    if not unit.is_open:
        raise ValidationFailed({"closed_on": "Cette unité est déjà fermée."})
    open_children = db.session.scalar(
        select(func.count()).select_from(OrgUnit)
        .where(OrgUnit.parent_id == unit.id, OrgUnit.closed_on.is_(None))
    )
    agents = db.session.scalar(
        select(func.count()).select_from(User)
        .where(User.org_unit_id == unit.id, User.is_active.is_(True))
    )
    if open_children or agents:
        parts = []
        if open_children:
            parts.append(f"{open_children} sous-unité(s) ouverte(s)")
        if agents:
            parts.append(f"{agents} agent(s) actif(s)")
        raise ValidationFailed({"closed_on": (
            "Impossible de fermer : " + " et ".join(parts)
            + " y sont encore rattaché(e)s. Déplacez-les d'abord."
        )})
    unit.closed_on = on
    record("org_unit.closed", actor=actor, institution_id=unit.institution_id, target=unit,
           data={"closed_on": on.isoformat()})


def reopen_org_unit(actor: User, unit: OrgUnit) -> None:
    require_admin(actor, unit.institution_id)
    if unit.is_open:
        raise ValidationFailed({"closed_on": "Cette unité est déjà ouverte."})
    if unit.parent is not None and not unit.parent.is_open:
        raise ValidationFailed({"closed_on": "Rouvrez d'abord l'unité parente."})
    unit.closed_on = None
    record("org_unit.reopened", actor=actor, institution_id=unit.institution_id, target=unit)


# --------------------------------------------------------------------------- users

USER_FIELDS = ("first_name", "last_name", "email", "category", "quotite", "org_unit_id",
               "manager_id")


def validate_user_data(
    institution_id: int, data: dict[str, Any], *, user: User | None = None
) -> dict[str, Any]:
    """Check and normalise the fields of an agent; raise ValidationFailed with every error."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for field, label in (("first_name", "Le prénom"), ("last_name", "Le nom")):
        value = (data.get(field) or "").strip()
        if not 1 <= len(value) <= 100:
            errors[field] = f"{label} est obligatoire (100 caractères au plus)."
        clean[field] = value
    email = normalise_email(data.get("email") or "")
    if not EMAIL_RE.match(email) or len(email) > 254:
        errors["email"] = "Adresse électronique invalide (ex. prenom.nom@ville.fr)."
    elif user is None or email != user.email:
        problem = email_problem(institution_id, email, db.session.scalar(
            select(User).where(User.email == email)))
        if problem:
            errors["email"] = problem
    clean["email"] = email
    category = (data.get("category") or "").strip().upper()
    if category not in CATEGORIES:
        errors["category"] = "Catégorie A, B ou C."
    clean["category"] = category
    try:
        quotite = int(data.get("quotite"))
        if not QUOTITE_MIN <= quotite <= QUOTITE_MAX:
            raise ValueError
        clean["quotite"] = quotite
    except (TypeError, ValueError):
        errors["quotite"] = (f"Quotité en pourcentage, entre {QUOTITE_MIN} et {QUOTITE_MAX} "
                             f"({QUOTITE_MAX} = temps plein).")
    try:
        unit = _open_unit_in(institution_id, data.get("org_unit_id"), "org_unit_id")
        if unit is None:
            errors["org_unit_id"] = "Choisissez la direction ou le service de l'agent."
        clean["org_unit_id"] = unit.id if unit else None
    except ValidationFailed as exc:
        errors.update({k: v[0] for k, v in exc.errors.items()})
    manager_id = data.get("manager_id")
    manager_email = normalise_email(data.get("manager_email") or "")
    clean["manager_id"] = None
    manager_field = "manager_email" if manager_email else "manager_id"
    if manager_email:
        manager_id = db.session.scalar(
            select(User.id).where(User.email == manager_email,
                                  User.institution_id == institution_id)
        ) or -1
    if manager_id is not None:
        manager = db.session.get(User, manager_id) if manager_id != -1 else None
        if manager is None or manager.institution_id != institution_id:
            errors[manager_field] = "Aucun agent de la collectivité n'a cette adresse."
        elif not manager.is_active:
            errors[manager_field] = "Ce N+1 a un compte désactivé."
        elif user is not None and _reports_to(manager, user):
            errors[manager_field] = "Un agent ne peut être son propre N+1, même indirectement."
        else:
            clean["manager_id"] = manager.id
    if errors:
        raise ValidationFailed(errors)
    return clean


def email_problem(institution_id: int, email: str, holder: User | None) -> str | None:
    """Why a valid address cannot be given to a new agent (or a new address to an agent)
    of this institution, `holder` being the account that has it, if any."""
    if email.endswith(".invalid") or (holder is not None and holder.institution_id != institution_id):
        return EMAIL_UNAVAILABLE
    if holder is not None:
        return EMAIL_TAKEN_HERE
    return None


def _reports_to(candidate: User, user: User) -> bool:
    """True if `candidate` is `user` or sits below `user` in the N+1 chain."""
    seen: set[int] = set()
    current: User | None = candidate
    while current is not None and current.id not in seen:
        if current.id == user.id:
            return True
        seen.add(current.id)
        current = current.manager
    return False


def create_user(
    actor: User | None, *, institution_id: int, data: dict[str, Any],
    password: str | None = None, roles: list[str] | None = None,
) -> User:
    """`actor` is None only for the command line and the demo data."""
    if actor is not None:
        require_admin(actor, institution_id)
    errors: dict[str, list[str] | str] = {}
    try:
        clean = validate_user_data(institution_id, data)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if password:
        errors.update(password_errors(password, first_name=data.get("first_name") or "",
                                      last_name=data.get("last_name") or "",
                                      email=normalise_email(data.get("email") or "")))
    if errors:
        raise ValidationFailed(errors)
    user = User(institution_id=institution_id, **clean,
                password_hash=hash_password(password) if password else None)
    db.session.add(user)
    db.session.flush()
    _apply_roles(user, roles or [])
    record("user.created", actor=actor, institution_id=institution_id, target=user,
           data={"email": user.email, "roles": sorted(roles or [])})
    return user


def update_user(actor: User, user: User, *, data: dict[str, Any]) -> None:
    require_admin_over(actor, user)
    clean = validate_user_data(user.institution_id, data, user=user)
    changes = {}
    for field, value in clean.items():
        if getattr(user, field) != value:
            changes[field] = [getattr(user, field), value]
            setattr(user, field, value)
    if changes:
        record("user.updated", actor=actor, institution_id=user.institution_id, target=user,
               data={"changes": changes})


def _apply_roles(user: User, roles: list[str]) -> None:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValidationFailed({"roles": "Rôle inconnu : " + ", ".join(sorted(unknown))})
    wanted = set(roles)
    for role in list(user.roles):
        if role.institution_id == user.institution_id and role.role not in wanted:
            user.roles.remove(role)
    for role in sorted(wanted - user.role_names):
        user.roles.append(UserRole(institution_id=user.institution_id, role=role))


def set_roles(actor: User, user: User, *, roles: list[str]) -> None:
    require_admin_over(actor, user)
    before = sorted(user.role_names)
    if user.id == actor.id and "admin" in before and "admin" not in roles:
        raise ValidationFailed(
            {"roles": "Vous ne pouvez pas retirer votre propre rôle d'administration."}
        )
    _apply_roles(user, roles)
    after = sorted(set(roles))
    if before != after:
        record("user.roles_changed", actor=actor, institution_id=user.institution_id,
               target=user, data={"from": before, "to": after})


def set_password(actor: User, user: User, *, password: str) -> None:
    require_admin_over(actor, user)
    errors = password_errors(password, own=user.id == actor.id, **_holder(user))
    if errors:
        raise ValidationFailed(errors)
    user.password_hash = hash_password(password)
    revoke_sessions(user)
    record("user.password_set", actor=actor, institution_id=user.institution_id, target=user)


def deactivate_user(actor: User, user: User) -> None:
    require_admin_over(actor, user)
    if user.id == actor.id:
        raise ValidationFailed({"user": "Vous ne pouvez pas désactiver votre propre compte."})
    if not user.is_active:
        raise ValidationFailed({"user": "Ce compte est déjà désactivé."})
    user.is_active = False
    user.deactivated_at = utcnow()
    revoke_sessions(user)
    record("user.deactivated", actor=actor, institution_id=user.institution_id, target=user)


def reactivate_user(actor: User, user: User) -> None:
    require_admin_over(actor, user)
    if user.is_active:
        raise ValidationFailed({"user": "Ce compte est déjà actif."})
    user.is_active = True
    user.deactivated_at = None
    record("user.reactivated", actor=actor, institution_id=user.institution_id, target=user)


# --------------------------------------------------------------------------- collective


def _overlapping_terms(user_id: int, starts_on: date, ends_on: date | None,
                       exclude_id: int | None = None) -> int:
    stmt = select(func.count()).select_from(CollectiveMembership).where(
        CollectiveMembership.user_id == user_id,
        (CollectiveMembership.ends_on.is_(None)) | (CollectiveMembership.ends_on >= starts_on),
        *([CollectiveMembership.starts_on <= ends_on] if ends_on else []),
    )
    if exclude_id is not None:
        stmt = stmt.where(CollectiveMembership.id != exclude_id)
    return db.session.scalar(stmt)


def add_collective_member(
    actor: User | None, *, institution_id: int, user_id: int | None, starts_on: date | None,
    ends_on: date | None,
) -> CollectiveMembership:
    if actor is not None:
        require_collective_manager(actor, institution_id)
    errors: dict[str, str] = {}
    member = db.session.get(User, user_id) if user_id else None
    if member is None or member.institution_id != institution_id:
        errors["user_id"] = "Choisissez un agent de la collectivité."
    elif not member.is_active:
        errors["user_id"] = "Ce compte est désactivé."
    if starts_on is None:
        errors["starts_on"] = "Indiquez la date de début du mandat."
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = "La fin du mandat doit suivre son début."
    if not errors and _overlapping_terms(member.id, starts_on, ends_on):
        errors["user_id"] = "Cet agent a déjà un mandat sur cette période."
    if errors:
        raise ValidationFailed(errors)
    membership = CollectiveMembership(
        institution_id=institution_id, user_id=member.id, starts_on=starts_on, ends_on=ends_on
    )
    db.session.add(membership)
    db.session.flush()
    record("collective.member_added", actor=actor, institution_id=institution_id,
           target=membership, data={"user_id": member.id, "starts_on": starts_on.isoformat(),
                                    "ends_on": ends_on.isoformat() if ends_on else None},
           public=True)
    return membership


def end_collective_membership(
    actor: User, membership: CollectiveMembership, *, ends_on: date | None
) -> None:
    require_collective_manager(actor, membership.institution_id)
    if ends_on is None:
        raise ValidationFailed({"ends_on": "Indiquez la date de fin du mandat."})
    if ends_on < membership.starts_on:
        raise ValidationFailed({"ends_on": "La fin du mandat doit suivre son début."})
    if _overlapping_terms(membership.user_id, membership.starts_on, ends_on, exclude_id=membership.id):
        raise ValidationFailed({"ends_on": "Cette date ferait chevaucher un autre mandat du même agent."})
    membership.ends_on = ends_on
    record("collective.member_ended", actor=actor, institution_id=membership.institution_id,
           target=membership, data={"user_id": membership.user_id,
                                    "ends_on": ends_on.isoformat()}, public=True)


def is_collective_member(user: User, on: date) -> bool:
    return bool(db.session.scalar(
        select(func.count()).select_from(CollectiveMembership).where(
            CollectiveMembership.user_id == user.id,
            CollectiveMembership.starts_on <= on,
            (CollectiveMembership.ends_on.is_(None)) | (CollectiveMembership.ends_on >= on),
        )
    ))


def last_seen(user: User) -> datetime | None:
    return db.session.scalar(
        select(func.max(AuthSession.last_seen_at)).where(AuthSession.user_id == user.id)
    )


def anonymise_departed(before: datetime) -> int:
    """Anonymise agents deactivated before `before`: their name and address go, their
    records (decisions, projects, hours) stay, attached to an anonymous account."""
    users = db.session.scalars(select(User).where(
        User.is_active.is_(False), User.deactivated_at.is_not(None), User.deactivated_at < before,
        ~User.email.like("anonyme-%@anonymise.invalid"))).all()
    by_institution: dict[int, int] = {}
    for user in users:
        user.first_name, user.last_name = "Agent", f"anonymisé n° {user.id}"
        user.email = f"anonyme-{user.id}@anonymise.invalid"
        user.password_hash = None
        by_institution[user.institution_id] = by_institution.get(user.institution_id, 0) + 1
    for institution_id, count in by_institution.items():
        record("agents.anonymised", actor=None, institution_id=institution_id,
               data={"count": count, "before": before.isoformat()})
    return len(users)
