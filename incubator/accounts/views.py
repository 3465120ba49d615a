from __future__ import annotations

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from ..security import SESSION_TOKEN_KEY, client_address, login_required
from ..web import local_path, redirect_see_other, render_page, write
from . import oidc_web, services, sessions
from .forms import LoginForm, PasswordChangeForm

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
