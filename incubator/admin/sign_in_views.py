"""The institution's sign-in settings (/admin/parametres/connexion), on the admin
blueprint: SIRET and email domains (how single sign-on finds the institution), accounts
created for unknown agents, password sign-in for agents."""

from __future__ import annotations

from flask import request, url_for
from flask_login import current_user

from ..accounts import oidc_web, sso
from ..web import done, render_page, write
from . import forms
from .views import admin_only, bp


@bp.route("/parametres/connexion", methods=["GET", "POST"])
@admin_only
def sign_in_settings():
    institution_id = current_user.institution_id
    current = sso.settings_for(institution_id)
    form = forms.SignInSettingsForm(data={
        "siret": current.siret or "", "email_domains": current.email_domains,
        "provisions_agents": current.provisions_agents,
        "agents_use_passwords": current.agents_use_passwords,
    } if request.method == "GET" else None)

    def page(_=None):
        return render_page("admin/sign_in_settings.html", form=form, block="form",
                           providers=oidc_web.providers(),
                           sso_works=sso.has_signed_in_agents(institution_id))

    if request.method == "GET":
        return page()
    return write(form, lambda: sso.update_sign_in_settings(
        current_user, institution_id, siret=form.siret.data or "",
        email_domains=form.email_domains.data or "",
        provisions_agents=form.provisions_agents.data,
        agents_use_passwords=form.agents_use_passwords.data,
        providers_configured=bool(oidc_web.providers()),
    ), success=lambda _: done("Les réglages de connexion ont été enregistrés.",
                              url_for("admin.sign_in_settings")), invalid=page)
