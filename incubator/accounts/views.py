from __future__ import annotations

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from ..errors import ValidationFailed
from ..extensions import db
from ..security import SESSION_TOKEN_KEY, client_address, login_required
from ..web import apply_errors, local_path, redirect_see_other, render_page
from . import services, sessions
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
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                result = services.log_in(form.email.data, form.password.data, client_address())
            except services.LoginRefused as refused:
                db.session.commit()  # keep the failed attempt: throttling counts it
                form.form_errors.append(refused.message)
                status = 429 if refused.throttled else 422
            else:
                # A fresh session at login: nothing from before survives (fixation).
                session.clear()
                session[SESSION_TOKEN_KEY] = result.session_token
                login_user(result.user)
                db.session.commit()
                flash(f"Bienvenue, {result.user.first_name}.", "success")
                return redirect_see_other(_safe_next(request.args.get("next")))
        else:
            status = 422
    return render_page("accounts/login.html", form=form, status=status)


@bp.post("/deconnexion")
def logout():
    user = current_user._get_current_object() if current_user.is_authenticated else None
    sessions.log_out(session.get(SESSION_TOKEN_KEY), user)
    db.session.commit()
    logout_user()
    session.clear()
    flash("Vous êtes déconnecté·e.", "info")
    return redirect_see_other(url_for("accounts.login"))


@bp.route("/mon-compte", methods=["GET", "POST"])
@login_required
def account():
    form = PasswordChangeForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.change_own_password(
                    current_user, current=form.current_password.data,
                    new=form.new_password.data, confirm=form.confirm_password.data,
                    keep_token=session.get(SESSION_TOKEN_KEY),
                )
            except ValidationFailed as exc:
                db.session.rollback()
                apply_errors(form, exc)
                status = 422
            else:
                db.session.commit()
                flash("Votre mot de passe a été modifié. Vos autres sessions ont été fermées.",
                      "success")
                return redirect_see_other(url_for("accounts.account"))
        else:
            status = 422
    return render_page("accounts/account.html", form=form, block="password_form",
                       status=status)
