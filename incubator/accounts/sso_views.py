"""Single sign-on pages, on the accounts blueprint: the provider's button sends the person
there (POST, not boosted: htmx cannot follow a redirect to another site), the provider
sends them back to /connexion/oidc/retour, and after its logout to /deconnexion/retour.

Any failure ends on a French page that says what happened and offers to retry; nobody is
signed in half (no session, no link, no account is written unless all checks passed)."""

from __future__ import annotations

import secrets

from flask import current_app, flash, request, session, url_for
from flask_login import current_user, login_user

from ..security import SESSION_TOKEN_KEY, client_address
from ..web import redirect_see_other, render_page, write, writes_from_here
from . import oidc, oidc_web, services, sso
from .views import _safe_next as safe_next
from .views import bp

# kind of failure -> (status, title, what happened and what to do)
FAILURES = {
    "denied": (403, "Connexion annulée",
               "La connexion auprès de {name} a été annulée ou refusée. Vous pouvez réessayer, "
               "ou vous connecter avec votre adresse et votre mot de passe."),
    "state": (400, "Connexion expirée ou interrompue",
              "Le retour de {name} ne correspond à aucune connexion en cours dans ce navigateur "
              "(page ouverte trop longtemps, retour en arrière, ou autre onglet). Recommencez la connexion."),
    "expired_code": (400, "Connexion expirée",
                     "Le code de connexion transmis par {name} a expiré ou a déjà servi. Recommencez la connexion."),
    "signature": (502, "Réponse de {name} non vérifiable",
                  "La réponse de {name} ne porte pas une signature valide : par sécurité, la "
                  "connexion est refusée. Réessayez ; si cela se reproduit, prévenez l'équipe technique."),
    "nonce": (400, "Connexion refusée par sécurité",
              "La réponse de {name} ne correspond pas à la connexion demandée par ce navigateur. "
              "Recommencez la connexion."),
    "claims": (502, "Réponse de {name} non valable",
               "La réponse de {name} n'est pas valable pour cette application (émetteur, destinataire "
               "ou durée de validité). Réessayez ; si cela se reproduit, prévenez l'équipe technique."),
    "provider_error": (502, "Erreur de {name}",
                       "{name} a répondu par une erreur. Réessayez dans quelques instants."),
    "unavailable": (503, "{name} ne répond pas",
                    "{name} est injoignable pour le moment. Réessayez dans quelques minutes, ou "
                    "connectez-vous avec votre adresse et votre mot de passe."),
}


@bp.app_context_processor
def sign_in_providers():
    """The providers' buttons on the login page (accounts/_providers.html)."""
    return {"sign_in_providers": oidc_web.providers()}


def _failure_page(chosen: oidc.Provider | None, failure: oidc.OidcFailure):
    status, title, message = FAILURES[failure.kind]
    name = chosen.name if chosen else "Le fournisseur d'identité"
    current_app.logger.warning("Connexion unique refusée (%s) : %s", failure.kind, failure.detail)
    return render_page("accounts/sso_error.html", status=status, provider=chosen,
                       title=title.format(name=name), message=message.format(name=name))


@bp.post("/connexion/oidc/<provider>")
def oidc_start(provider: str):
    target = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect_see_other(target)
    chosen = oidc_web.provider(provider)
    if chosen is None:
        flash("Ce mode de connexion n'est pas proposé ici : connectez-vous avec votre mot de passe.", "info")
        return redirect_see_other(url_for("accounts.login"))
    try:
        address, pending = oidc.begin(chosen, oidc_web.callback_url())
    except oidc.OidcFailure as failure:
        return _failure_page(chosen, failure)
    session[oidc_web.PENDING_KEY] = {**pending, "next": target}
    return redirect_see_other(address)


@bp.get("/connexion/oidc/retour")
def oidc_callback():
    # One answer per sign-in started: taken out of the session whatever happens next.
    pending = session.pop(oidc_web.PENDING_KEY, None)
    chosen = oidc_web.provider(pending.get("provider")) if isinstance(pending, dict) else None
    try:
        oidc.check_state(pending if chosen else None, request.args)
        identity = oidc.finish(chosen, pending, request.args, oidc_web.callback_url())
    except oidc.OidcFailure as failure:
        return _failure_page(chosen, failure)

    def welcome(result: services.LoginResult):
        session.clear()  # a fresh session at sign-in: nothing from before survives (fixation)
        session[SESSION_TOKEN_KEY] = result.session_token
        oidc_web.signed_in_through(chosen, identity.id_token)
        login_user(result.user)
        flash(f"Bienvenue, {result.user.first_name}.", "success")
        return redirect_see_other(safe_next(pending.get("next")))

    def refused(refusal):
        if isinstance(refusal, sso.NoAccount):
            return render_page("accounts/sso_no_account.html", provider=chosen,
                               institution=refusal.institution)
        return render_page("accounts/sso_error.html", provider=chosen, title="Connexion refusée",
                           message=refusal.message)

    writes_from_here()
    return write(None, lambda: sso.sign_in_with_provider(chosen.slug, identity.issuer, identity.claims,
                                                        client_address()),
                 success=welcome, invalid=refused)


@bp.get("/deconnexion/retour")
def logout_return():
    expected = session.pop(oidc_web.LOGOUT_STATE_KEY, None)
    state = request.args.get("state") or ""
    if not expected or not secrets.compare_digest(expected.encode(), state.encode()):
        return render_page("accounts/sso_logout_unverified.html", status=400)
    flash("Vous êtes déconnecté·e.", "info")
    return redirect_see_other(url_for("accounts.login"))
