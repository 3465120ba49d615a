from __future__ import annotations

from functools import wraps

from flask import Blueprint, flash, g, jsonify, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from ..security import SESSION_TOKEN_KEY, client_address, login_required
from ..web import done, local_path, redirect_see_other, render_page, write
from . import oidc_web, recovery, services, sessions, tokens
from .forms import (
    ActivationCodeForm,
    ForgotPasswordForm,
    LoginForm,
    NewPasswordForm,
    PasswordChangeForm,
)

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    """Only local paths: never redirect to another site after login."""
    return local_path(target, url_for("core.home"))


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()

    def page(_=None):
        return render_page("accounts/login.html", form=form)

    def welcome(result: services.LoginResult):
        # A fresh session at login: nothing from before survives (fixation).
        session.clear()
        session[SESSION_TOKEN_KEY] = result.session_token
        login_user(result.user)
        flash(f"Bienvenue, {result.user.first_name}.", "success")
        return redirect_see_other(_safe_next(request.args.get("next")))

    if request.method == "GET":
        return page()
    # A refused attempt is committed all the same (LoginRefused.keeps_writes): throttling counts it.
    return write(form, lambda: services.log_in(form.email.data, form.password.data, client_address()),
                 success=welcome, invalid=page)


@bp.post("/deconnexion")
def logout():
    user = current_user._get_current_object() if current_user.is_authenticated else None
    # Kept before the session is cleared: the provider's logout needs the ID token.
    through_provider = session.get(oidc_web.SIGNED_IN_KEY)

    def signed_out(_):
        logout_user()
        session.clear()
        provider_logout = oidc_web.provider_logout(through_provider)
        if provider_logout:  # its return, /deconnexion/retour, says "déconnecté·e"
            return redirect_see_other(provider_logout)
        flash("Vous êtes déconnecté·e.", "info")
        return redirect_see_other(url_for("accounts.login"))

    return write(None, lambda: sessions.log_out(session.get(SESSION_TOKEN_KEY), user), success=signed_out)


@bp.post("/session/prolonger")
@login_required
def extend_session():
    """« Rester connecté » (RGAA 13.1): the idle clock starts again. Sent by app.js, which
    reads the time left in JSON (a session already over answers the sign-in page, which
    app.js takes for the end); the plain form goes back to the page it was on."""
    user = current_user._get_current_object()

    def extended(clock: sessions.SessionClock):
        if request.accept_mimetypes.best == "application/json":
            return jsonify(clock.seconds_left())
        flash("Votre session est prolongée.", "success")
        return redirect_see_other(_safe_next(request.form.get("next")))

    return write(None, lambda: sessions.extend_session(user, session.get(SESSION_TOKEN_KEY)), success=extended)


@bp.route("/mon-compte", methods=["GET", "POST"])
@login_required
def account():
    form = PasswordChangeForm()

    def page(_=None):
        return render_page("accounts/account.html", form=form, block="password_form")

    def changed(_):
        flash("Votre mot de passe a été modifié. Vos autres sessions ont été fermées.", "success")
        return redirect_see_other(url_for("accounts.account"))

    if request.method == "GET":
        return page()
    return write(form, lambda: services.change_own_password(
        current_user, current=form.current_password.data, new=form.new_password.data,
        confirm=form.confirm_password.data, keep_token=session.get(SESSION_TOKEN_KEY)),
        success=changed, invalid=page)


# --------------------------------------------------------------------------- reset and activation


def secret_page(view):
    """A page whose address or form carries a secret (a token): no Referer leaves it, even
    to this site, no cache keeps it; the access log masks the token (observability)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        g.no_store = True
        response = view(*args, **kwargs)
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    return wrapper


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@secret_page
def forgot_password():
    form = ForgotPasswordForm()

    def page(_=None):
        return render_page("accounts/forgot_password.html", form=form, lifetimes=tokens.lifetimes())

    if request.method == "GET":
        return page()
    # The same answer whether or not an account has the address (accounts.recovery).
    return write(form, lambda: recovery.request_password_reset(form.email.data, client_address()),
                 success=lambda _: done(
                     "Si un compte actif correspond à cette adresse, un message vient d'y être envoyé avec un "
                     f"lien pour choisir un nouveau mot de passe, valable {tokens.lifetimes()['reset_minutes']} "
                     "minutes. Pensez à regarder dans les courriels indésirables.", url_for("accounts.forgot_password")),
                 invalid=page)


def _password_page(template: str, token: str, purpose: str, action):
    """The reset and invitation pages: the form while the link is valid, the reason otherwise."""
    form = NewPasswordForm()
    valid = recovery.live_token(token, purpose) is not None

    def page(_=None):
        return render_page(template, form=form, valid=valid, token=token)

    if request.method == "GET":
        return page()
    return write(form, lambda: action(token, password=form.password.data, confirm=form.confirm_password.data),
                 success=lambda _: done(SIGNED_OUT_AFTER[purpose], url_for("accounts.login")), invalid=page)


SIGNED_OUT_AFTER = {
    "reset": "Votre mot de passe a été modifié et vos sessions ouvertes ont été fermées. Connectez-vous "
             "avec le nouveau mot de passe.",
    "invitation": "Votre compte est activé. Connectez-vous avec votre adresse et le mot de passe choisi.",
}


@bp.route("/mot-de-passe-oublie/<token>", methods=["GET", "POST"])
@secret_page
def reset_password(token: str):
    return _password_page("accounts/reset_password.html", token, "reset", recovery.reset_password)


@bp.route("/activation/<token>", methods=["GET", "POST"])
@secret_page
def activate(token: str):
    return _password_page("accounts/activate.html", token, "invitation", recovery.activate)


@bp.route("/activation", methods=["GET", "POST"])
@secret_page
def activate_with_code():
    form = ActivationCodeForm()

    def page(_=None):
        return render_page("accounts/activate_code.html", form=form)

    if request.method == "GET":
        return page()
    return write(form, lambda: recovery.activate_with_code(
        form.login.data, form.code.data, password=form.password.data, confirm=form.confirm_password.data,
        ip_address=client_address()),
        success=lambda _: done("Votre compte est activé. Connectez-vous avec votre identifiant et le mot de passe "
                               "choisi.", url_for("accounts.login")),
        invalid=page)
