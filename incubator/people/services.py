"""Agents' accounts as the administration keeps them: profile, N+1, roles, password set by
an administrator, deactivation, and the anonymisation of departed agents."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select

from ..accounts.models import AuthSession, ExternalIdentity
from ..accounts.passwords import hash_password, password_errors, password_holder
from ..accounts.sessions import revoke_sessions
from ..accounts.tokens import revoke_tokens
from ..audit.services import record
from ..errors import ValidationFailed
from ..extensions import db
from ..organisation.services import open_unit_in
from ..timeutil import utcnow
from .models import (
    CATEGORIES,
    EMAIL_MAX,
    EMPLOYEE_NUMBER_MAX,
    LOGIN_ID_MAX,
    LOGIN_ID_PATTERN,
    QUOTITE_MAX,
    QUOTITE_MIN,
    ROLES,
    User,
    UserRole,
)
from .policy import deactivation_refusal, require_admin, require_admin_over

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LOGIN_ID_RE = re.compile(rf"^{LOGIN_ID_PATTERN}$")
LOGIN_ID_INVALID = ("Identifiant invalide : 2 à 64 lettres sans accents, chiffres, points, tirets ou soulignés, "
                    "sans @ (par exemple le matricule).")
LOGIN_ID_TAKEN_HERE = "Un compte utilise déjà cet identifiant."
LOGIN_ID_UNAVAILABLE = ("Cet identifiant ne peut pas être utilisé : choisissez-en un autre ou contactez "
                        "l'administration de l'instance.")
EMAIL_OR_LOGIN_ID = "Indiquez l'adresse électronique de l'agent, ou à défaut un identifiant."

# Addresses are unique on the whole instance (they are the login), so an address taken in
# another institution cannot be used; this answer says so without saying why, the same
# for the addresses kept for anonymised agents (reserved ".invalid" domain), so that an
# administrator learns nothing about the accounts of other institutions.
EMAIL_UNAVAILABLE = ("Cette adresse ne peut pas être utilisée : vérifiez-la ou contactez "
                     "l'administration de l'instance.")

EMAIL_TAKEN_HERE = "Un compte utilise déjà cette adresse."


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def normalise_login_id(login_id: str | None) -> str:
    return (login_id or "").strip().lower()


def login_clause(login: str):
    """SQL: the account signing in as `login` (normalised): by address when it has an "@",
    else by identifier (identifiers never have one)."""
    return User.email == login if "@" in login else User.login_id == login


def find_account(login: str | None) -> User | None:
    """The account whose address or identifier this is (case and spaces ignored), or None:
    the one lookup of sign-in, password reset and activation."""
    login = normalise_email(login or "")
    if not login or not login.isprintable():
        return None
    return db.session.scalar(select(User).where(login_clause(login)))


def agent_by_email(institution_id: int, email: str | None, *, active_only: bool = True) -> User | None:
    """The agent of this institution with this address, or this identifier for an agent
    without an address (case and spaces ignored), or None. Forms designate agents by it."""
    email = normalise_email(email or "")
    if not email or not email.isprintable():
        return None  # no address has control characters (and PostgreSQL refuses NUL)
    stmt = select(User).where(login_clause(email), User.institution_id == institution_id)
    if active_only:
        stmt = stmt.where(User.is_active.is_(True))
    return db.session.scalar(stmt)


EMPLOYEE_NUMBER_TAKEN = "Un autre agent de la collectivité a déjà ce matricule."
EMPLOYEE_NUMBER_FORM = f"Le matricule tient en {EMPLOYEE_NUMBER_MAX} caractères imprimables au plus."


def employee_number_problem(institution_id: int, number: str, user: User | None = None) -> str | None:
    """Why `number` cannot be the matricule of `user` (None: a new agent): its form, or
    another agent of the institution has it (the HR report and the directory sync know an
    agent by it). Another institution's agents may have the same number."""
    if len(number) > EMPLOYEE_NUMBER_MAX or not number.isprintable():
        return EMPLOYEE_NUMBER_FORM
    holder = db.session.scalar(select(User.id).where(User.institution_id == institution_id,
                                                     User.employee_number == number))
    return EMPLOYEE_NUMBER_TAKEN if holder is not None and (user is None or holder != user.id) else None


USER_FIELDS = ("first_name", "last_name", "email", "login_id", "category", "quotite", "org_unit_id",
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
    login_id = normalise_login_id(data.get("login_id"))
    if not email:
        if not login_id:
            errors["email"] = EMAIL_OR_LOGIN_ID
    elif not EMAIL_RE.match(email) or len(email) > EMAIL_MAX:
        errors["email"] = "Adresse électronique invalide (ex. prenom.nom@ville.fr)."
    elif user is None or email != user.email:
        problem = email_problem(institution_id, email, db.session.scalar(
            select(User).where(User.email == email)))
        if problem:
            errors["email"] = problem
    clean["email"] = email or None
    if login_id and (problem := login_id_problem(institution_id, login_id, user)):
        errors["login_id"] = problem
    clean["login_id"] = login_id or None
    if "employee_number" in data:  # only the forms that show it change it (not the command line)
        number = (data.get("employee_number") or "").strip()
        if number and (problem := employee_number_problem(institution_id, number, user)):
            errors["employee_number"] = problem
        clean["employee_number"] = number or None
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
        unit = open_unit_in(institution_id, data.get("org_unit_id"), "org_unit_id")
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
            select(User.id).where(login_clause(manager_email),
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


def login_id_problem(institution_id: int, login_id: str, user: User | None = None) -> str | None:
    """Why an identifier cannot be given to `user` (None: a new agent) of this institution:
    its form, or another account has it (on the instance: identifiers sign in, so they are
    unique there; another institution's is refused without saying so)."""
    if not LOGIN_ID_RE.match(login_id) or len(login_id) > LOGIN_ID_MAX:
        return LOGIN_ID_INVALID
    holder = db.session.scalar(select(User).where(User.login_id == login_id))
    if holder is None or (user is not None and holder.id == user.id):
        return None
    return LOGIN_ID_TAKEN_HERE if holder.institution_id == institution_id else LOGIN_ID_UNAVAILABLE


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
                                      email=normalise_email(data.get("email") or "")
                                      or normalise_login_id(data.get("login_id"))))
    if errors:
        raise ValidationFailed(errors)
    user = User(institution_id=institution_id, **clean,
                password_hash=hash_password(password) if password else None)
    db.session.add(user)
    db.session.flush()
    _apply_roles(user, roles or [])
    record("user.created", actor=actor, institution_id=institution_id, target=user,
           data={"email": user.email, "login_id": user.login_id, "roles": sorted(roles or [])})
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
    errors = password_errors(password, own=user.id == actor.id, **password_holder(user))
    if errors:
        raise ValidationFailed(errors)
    user.password_hash = hash_password(password)
    revoke_sessions(user)
    revoke_tokens(user)
    record("user.password_set", actor=actor, institution_id=user.institution_id, target=user)


def deactivate_user(actor: User | None, user: User, *, source: str | None = None) -> None:
    """`actor` is None for the server's operator (the directory sync, `source="directory"`,
    which the audit event notes): the institution then keeps its last active administrator."""
    if actor is not None:
        require_admin_over(actor, user)
    last_admin = actor is None and user.is_active and is_last_active_admin(user)
    if refusal := deactivation_refusal(actor, user, is_last_admin=last_admin):
        raise ValidationFailed({"user": refusal})
    user.is_active = False
    user.deactivated_at = utcnow()
    revoke_sessions(user)
    revoke_tokens(user)
    record("user.deactivated", actor=actor, institution_id=user.institution_id, target=user,
           data={"source": source} if source else None)


def is_last_active_admin(user: User) -> bool:
    """True if `user` is an administrator of their institution and no other active account is."""
    if not user.has_role("admin"):
        return False
    return not db.session.scalar(select(func.count()).select_from(UserRole).join(User).where(
        UserRole.institution_id == user.institution_id, UserRole.role == "admin",
        User.is_active.is_(True), User.id != user.id))


def reactivate_user(actor: User, user: User) -> None:
    require_admin_over(actor, user)
    if user.is_active:
        raise ValidationFailed({"user": "Ce compte est déjà actif."})
    user.is_active = True
    user.deactivated_at = None
    record("user.reactivated", actor=actor, institution_id=user.institution_id, target=user)


def last_seen(user: User) -> datetime | None:
    return db.session.scalar(
        select(func.max(AuthSession.last_seen_at)).where(AuthSession.user_id == user.id)
    )


def anonymise_departed(before: datetime) -> int:
    """Anonymise agents deactivated before `before`: their name and address go, their
    records (decisions, projects, hours) stay, attached to an anonymous account."""
    users = db.session.scalars(select(User).where(
        User.is_active.is_(False), User.deactivated_at.is_not(None), User.deactivated_at < before,
        or_(User.email.is_(None), ~User.email.like("anonyme-%@anonymise.invalid")))).all()
    by_institution: dict[int, int] = {}
    for user in users:
        user.first_name, user.last_name = "Agent", f"anonymisé n° {user.id}"
        user.email = f"anonyme-{user.id}@anonymise.invalid"
        user.directory_key = user.employee_number = None  # the directory's identifiers go too
        user.login_id = None
        user.password_hash = None
        revoke_tokens(user)
        by_institution[user.institution_id] = by_institution.get(user.institution_id, 0) + 1
    if users:  # their identities at single sign-on providers go too
        db.session.execute(delete(ExternalIdentity).where(
            ExternalIdentity.user_id.in_([user.id for user in users])))
    for institution_id, count in by_institution.items():
        record("agents.anonymised", actor=None, institution_id=institution_id,
               data={"count": count, "before": before.isoformat()})
    return len(users)
