"""Terms of office in the collectif pilote: who sits in it on a given day."""

from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, func, select

from ..audit.services import record
from ..dbutil import prebuilt, request_cached
from ..errors import NotAllowed, ValidationFailed
from ..extensions import db
from ..people.models import User
from ..timeutil import today_paris
from .models import CollectiveMembership


def require_collective_manager(actor: User, institution_id: int) -> None:
    """Collective memberships: the institution's admin or the coordinator."""
    if actor.institution_id != institution_id or not (
        actor.has_role("admin") or actor.has_role("coordinator")
    ):
        raise NotAllowed("Cette action est réservée à l'administration ou à l'animation du collectif.")


def _overlapping_terms(user_id: int, starts_on: date, ends_on: date | None,
                       exclude_id: int | None = None) -> int:
    stmt = select(func.count()).select_from(CollectiveMembership).where(
        CollectiveMembership.user_id == user_id,
        CollectiveMembership.overlapping(starts_on, ends_on),
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
            CollectiveMembership.held_on(on),
        )
    ))


def with_current_terms(stmt):
    """`stmt` (on CollectiveMembership) narrowed to the terms that active agents hold on the
    day `on` in the institution `institution_id` (both bindparams, for prebuilt statements)."""
    return (stmt.join(User, User.id == CollectiveMembership.user_id)
            .where(CollectiveMembership.institution_id == bindparam("institution_id"),
                   CollectiveMembership.held_on(bindparam("on")), User.is_active.is_(True)))


@prebuilt
def _current_members_query():
    return with_current_terms(select(CollectiveMembership.user_id))


@request_cached("collective_memberships", "users")
def current_member_ids(institution_id: int, on: date) -> frozenset[int]:
    return frozenset(db.session.scalars(_current_members_query(), {"institution_id": institution_id, "on": on}))


def users_by_id(ids) -> list[User]:
    return list(db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.id))) if ids else []


def is_member(user: User, on: date | None = None) -> bool:
    return user.id in current_member_ids(user.institution_id, on or today_paris())
