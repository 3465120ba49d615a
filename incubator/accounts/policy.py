"""Who may invite whom, print whose activation sheet, and which accounts a reset link, an
invitation or an activation code may still open. One rule each: the administration pages
(which button to show), the views and the services ask the same predicate."""

from __future__ import annotations

from ..errors import not_now
from ..people.models import User
from ..people.policy import user_edit_refusal

INACTIVE = "Ce compte est désactivé : réactivez-le d'abord."
ALREADY_ACTIVATED = ("Ce compte est déjà activé : l'agent se connecte avec son mot de passe, et peut en "
                     "choisir un nouveau par « Mot de passe oublié ? ».")
NO_EMAIL = ("Cet agent n'a pas d'adresse électronique : imprimez-lui plutôt une fiche d'activation, "
            "à lui remettre en main propre.")
NO_LOGIN = "Donnez d'abord à l'agent une adresse électronique ou un identifiant."


def _activation_refusal(actor: User, user: User) -> str | None:
    """What an invitation and an activation sheet both need: an administrator of the agent's
    institution (people.policy), an active account, no password yet."""
    if refusal := user_edit_refusal(actor, user):
        return refusal
    if not user.is_active:
        return not_now(INACTIVE)
    if user.password_hash:
        return not_now(ALREADY_ACTIVATED)
    return None


def invitation_refusal(actor: User, user: User) -> str | None:
    """Why `actor` may not email `user` an activation link, or None: an administrator of
    the agent's institution (people.policy), an active account with an address, that
    has no password yet (an activated agent uses « Mot de passe oublié ? »)."""
    return _activation_refusal(actor, user) or (None if user.email else not_now(NO_EMAIL))


def activation_sheet_refusal(actor: User, user: User) -> str | None:
    """Why `actor` may not print an activation sheet (identifier and code) for `user`."""
    return _activation_refusal(actor, user) or (None if user.login else not_now(NO_LOGIN))


def may_reset(user: User | None) -> bool:
    """Whether « mot de passe oublié » sends this account a link: an active agent with an
    address. (The answer on the page is the same either way.)"""
    return user is not None and user.is_active and bool(user.email)


def may_use_token(user: User, purpose: str) -> bool:
    """Whether a live token still opens this account: never a deactivated one; an
    invitation or a sheet, only while the account has no password."""
    if not user.is_active:
        return False
    return purpose == "reset" or not user.password_hash
