"""What single sign-on keeps in the person's (signed) session cookie between requests, and
the providers configured: shared by the sign-in pages (accounts.sso_views) and the logout
(accounts.views)."""

from __future__ import annotations

import secrets
from typing import Any

from flask import current_app, session, url_for

from . import oidc

# The sign-in under way: provider, state, nonce, PKCE verifier, where to go next.
PENDING_KEY = "oidc_pending"
# After a sign-in through a provider: which one, and the ID token (id_token_hint at logout).
SIGNED_IN_KEY = "oidc_signed_in"
# Between the logout and the provider's return: the state it must bring back.
LOGOUT_STATE_KEY = "oidc_logout_state"


def providers() -> list[oidc.Provider]:
    return current_app.extensions.get("oidc_providers", [])


def provider(slug: str | None) -> oidc.Provider | None:
    return next((p for p in providers() if p.slug == slug), None)


def callback_url() -> str:
    return url_for("accounts.oidc_callback", _external=True)


def signed_in_through(chosen: oidc.Provider, id_token: str) -> None:
    """Called once the session is fresh (cleared at sign-in)."""
    session[SIGNED_IN_KEY] = {"provider": chosen.slug, "id_token": id_token}


def provider_logout(saved: dict[str, Any] | None) -> str | None:
    """After the session was cleared at logout: the provider's logout address for someone
    who signed in through it (the state to check on return kept in the session), or None."""
    chosen = provider((saved or {}).get("provider"))
    if chosen is None or not saved.get("id_token"):
        return None
    state = secrets.token_urlsafe(32)
    target = oidc.logout_url(chosen, saved["id_token"], state,
                             url_for("accounts.logout_return", _external=True))
    if target:
        session[LOGOUT_STATE_KEY] = state
    return target
