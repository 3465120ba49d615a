"""Security headers, CSP, session loading, and the permission decorators."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, Response, abort, g, request, session
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


def init_security(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Connectez-vous pour accéder à cette page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # the server-side AuthSession does this job

    @login_manager.user_loader
    def load_user(user_id: str):
        from .accounts.sessions import resolve_session

        token = session.get(SESSION_TOKEN_KEY)
        if not token:
            return None
        return resolve_session(token, user_id)

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask import flash, redirect, url_for

        from .web import is_htmx

        target = url_for("accounts.login", next=request.full_path.rstrip("?"))
        if is_htmx():
            response = Response(status=401)
            response.headers["HX-Redirect"] = target
            return response
        flash(login_manager.login_message, "info")
        return redirect(target)

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if getattr(g, "no_store", False) or current_user.is_authenticated:
            # Personal pages must not be kept by shared caches or the back button after logout.
            headers["Cache-Control"] = "no-store"
        return response


def client_address() -> str:
    """The client's address; behind a proxy, configure ProxyFix so this is the real one."""
    return (request.remote_addr or "inconnue")[:45]


def login_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    return wrapper


def roles_required(*roles: str) -> Callable:
    """Logged in, and holding one of `roles` in one's own institution (else 403)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not any(current_user.has_role(r) for r in roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def instance_admin_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_instance_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper
