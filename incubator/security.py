"""Security headers, CSP, session loading, and the permission decorators."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user

from .extensions import login_manager

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "object-src 'none'",
])

SESSION_TOKEN_KEY = "auth_token"
# Answers that are the same for everyone: a signed-in person's session cookie comes with
# them (the browser sends it to the whole site) and is not read.
SESSIONLESS_ENDPOINTS = frozenset({"core.healthz", "static"})
# The time left to the session, on every signed-in answer (htmx ones included): app.js
# warns before it runs out (RGAA 13.1).
SESSION_TIME_LEFT_HEADER = "X-Session-Time-Left"


def content_security_policy(form_origins: list[str] | tuple[str, ...] = ()) -> str:
    """The policy, with `form-action` opened to the single sign-on providers' origins: the
    sign-in and sign-out forms answer with a redirect to the provider, which browsers check
    against form-action too."""
    if not form_origins:
        return CONTENT_SECURITY_POLICY
    extra = " ".join(dict.fromkeys(form_origins))
    return CONTENT_SECURITY_POLICY.replace("form-action 'self'", f"form-action 'self' {extra}")


def init_security(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Connectez-vous pour accéder à cette page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # the server-side AuthSession does this job
    # Pages ask it before linking to a page reserved to some roles.
    app.jinja_env.globals["may_open"] = may_open

    # Imported here: the session and web layers import this module for its decorators.
    from .accounts import sessions
    from .web import is_htmx

    @login_manager.user_loader
    def load_user(user_id: str):
        token = session.get(SESSION_TOKEN_KEY)
        if not token:
            return None
        view = current_app.view_functions.get(request.endpoint or "")
        return sessions.resolve_session(token, user_id, touch=not getattr(view, "is_background", False))

    @login_manager.unauthorized_handler
    def unauthorized():
        target = url_for("accounts.login", next=request.full_path.rstrip("?"))
        if is_htmx():
            # Back, after signing in again, to the page the request came from, not to the
            # fragment it asked for.
            page = urlsplit(request.headers.get("HX-Current-URL", ""))
            if page.netloc == request.host and page.path.startswith("/"):
                target = url_for("accounts.login", next=page.path + (f"?{page.query}" if page.query else ""))
            response = Response(status=401)
            response.headers["HX-Redirect"] = target
            return response
        flash(login_manager.login_message, "info")
        return redirect(target)

    policy = content_security_policy([p.origin for p in app.extensions.get("oidc_providers", [])])

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.endpoint in SESSIONLESS_ENDPOINTS:
            # Not a page: the signed-in person is not looked up for it (no query, no
            # touch of the idle clock), and a stylesheet keeps its own caching.
            return response
        if getattr(g, "no_store", False) or current_user.is_authenticated:
            # Personal pages must not be kept by shared caches or the back button after logout.
            headers["Cache-Control"] = "no-store"
        clock = getattr(current_user, "session_clock", None) if current_user.is_authenticated else None
        if clock is not None:
            left = clock.seconds_left()
            headers[SESSION_TIME_LEFT_HEADER] = f"idle={left['idle']}, end={left['end']}"
        return response


def client_address() -> str:
    """The client's address: the socket's peer, or behind TRUSTED_PROXIES reverse proxies
    the one they forwarded (ProxyFix, see create_app)."""
    return (request.remote_addr or "inconnue")[:45]


def background(view: Callable) -> Callable:
    """A request the page makes by itself (a poll): it is not the person's activity, so it
    leaves the session's idle clock alone (the warning of RGAA 13.1 then means something)."""
    view.is_background = True
    return view


def login_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    return wrapper


def holds_any(user, roles: frozenset[str]) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and any(user.has_role(r) for r in roles)


def roles_required(*roles: str) -> Callable:
    """Logged in, and holding one of `roles` in one's own institution (else 403). The
    roles stay on the view (`required_roles`), for `may_open`."""
    required = frozenset(roles)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not holds_any(current_user, required):
                abort(403)
            return view(*args, **kwargs)

        wrapper.required_roles = required
        return wrapper

    return decorator


def may_open(endpoint: str) -> bool:
    """Whether the current user passes the role guard of `endpoint` (roles_required): what
    a page asks before linking to a page reserved to some roles, instead of testing the
    roles itself. An endpoint without a role guard has its rule in its domain's policy:
    asking here about it is a mistake, and raises."""
    return user_may_open(current_user, endpoint)


def user_may_open(user, endpoint: str) -> bool:
    """`may_open` for a given user (the inbox, read for the digest outside a request too)."""
    roles = getattr(current_app.view_functions[endpoint], "required_roles", None)
    if roles is None:
        raise LookupError(f"{endpoint} has no role guard: ask its domain's policy.")
    return holds_any(user, roles)


def instance_admin_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_instance_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper
