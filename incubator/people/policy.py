"""Who may change whose account: one rule, asked by the forms' services, the CSV import
and the administration pages (which hide what the actor may not do)."""

from __future__ import annotations

from ..errors import NotAllowed
from .models import User

ADMIN_ONLY = "Cette action est réservée à l'administration de la collectivité."
INSTANCE_ADMIN_ONLY = ("Ce compte administre l'instance : seule l'administration de l'instance "
                       "peut le modifier.")


def user_edit_refusal(actor: User, user: User) -> str | None:
    """Why `actor` may not change `user`'s account (profile, roles, password, status), or
    None. Only an administrator of the user's own institution may; and an instance
    administrator's account only another instance administrator (else a local admin
    could take over the instance)."""
    if actor.institution_id != user.institution_id or not actor.has_role("admin"):
        return ADMIN_ONLY
    if user.is_instance_admin and not actor.is_instance_admin:
        return INSTANCE_ADMIN_ONLY
    return None


def can_edit_user(actor: User, user: User) -> bool:
    return user_edit_refusal(actor, user) is None


def require_admin(actor: User, institution_id: int) -> None:
    if actor.institution_id != institution_id or not actor.has_role("admin"):
        raise NotAllowed(ADMIN_ONLY)


def require_admin_over(actor: User, user: User) -> None:
    """The guard of every change to an account: see people.policy.can_edit_user."""
    refusal = user_edit_refusal(actor, user)
    if refusal:
        raise NotAllowed(refusal)


def require_instance_admin(actor: User) -> None:
    if not actor.is_instance_admin:
        raise NotAllowed("Cette action est réservée à l'administration de l'instance.")


OWN_ACCOUNT = "Vous ne pouvez pas désactiver votre propre compte."
ALREADY_DEACTIVATED = "Ce compte est déjà désactivé."


LAST_ADMIN = ("C'est le dernier compte d'administration actif de la collectivité : il reste "
              "actif tant qu'aucun autre compte n'a le rôle d'administration.")


def deactivation_refusal(actor: User | None, user: User, *, is_last_admin: bool = False) -> str | None:
    """Why `actor` may not deactivate `user`'s account, or None: the account rule above, then
    nobody deactivates their own account (an institution keeps an administrator), nor an
    account already deactivated. `actor` None is the server's operator (command line,
    directory sync): no account rule, but the institution's last active administrator
    (`is_last_admin`, which the caller counts) stays (through the pages, an administrator
    only acts on another account, so one always stays)."""
    if actor is not None:
        if refusal := user_edit_refusal(actor, user):
            return refusal
        if user.id == actor.id:
            return OWN_ACCOUNT
    if not user.is_active:
        return ALREADY_DEACTIVATED
    if actor is None and is_last_admin:
        return LAST_ADMIN
    return None
