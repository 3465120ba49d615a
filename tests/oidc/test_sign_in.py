"""Single sign-on against a real OpenID Connect provider configured like ProConnect
(tests/oidc/provider/server.mjs), through the HTTP client: the journey, the linking rules,
and every failure ending on a French page with nothing written."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import func, select

from incubator.accounts import oidc
from incubator.accounts.models import AuthSession, ExternalIdentity
from incubator.audit.models import AuditEvent
from incubator.extensions import db
from incubator.people.models import User
from tests.conftest import Client
from tests.factories import (
    make_external_identity,
    make_institution,
    make_org_unit,
    make_sign_in_settings,
    make_user,
)
from tests.helpers import text

from .conftest import CALLBACK, oidc_app
from .provider import CLIENT_ID, CLIENT_SECRET, ProviderProcess, free_port

SIRET = "21750001600019"


def start(client, next_path: str | None = None) -> str:
    """Press the provider's button: the authorization request's address."""
    response = client.post("/connexion/oidc/proconnect" + (f"?next={next_path}" if next_path else ""))
    assert response.status_code == 303, text(response)[:2000]
    return response.headers["Location"]


def back(client, callback_url: str):
    """The browser brought back by the provider to the callback."""
    assert callback_url.startswith(CALLBACK), callback_url
    parts = urlsplit(callback_url)
    return client.get(f"{parts.path}?{parts.query}")


def sign_in(client, provider, login: str, **kwargs):
    return back(client, provider.sign_in(start(client), login, **kwargs))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def agent_with_settings(email="camille.martin@ville.fr", **settings):
    institution = make_institution("Ville de Rivière")
    settings.setdefault("email_domains", "ville.fr")
    make_sign_in_settings(institution, siret=SIRET, **settings)
    return make_user(org_unit=make_org_unit(institution), email=email, first_name="Camille")


def assert_signed_out(client):
    assert client.get("/").status_code == 302


def assert_nothing_written(sessions_before=0):
    assert count(AuthSession) == sessions_before
    assert count(ExternalIdentity) == 0


# --------------------------------------------------------------------------- the journey


def test_first_sign_in_by_email_then_by_subject_opens_a_session(oidc_client, provider):
    user = agent_with_settings()
    provider.set_accounts({"camille.martin@ville.fr": {"siret": SIRET}})
    address = start(oidc_client, "/propositions")
    query = parse_qs(urlsplit(address).query)
    # ProConnect wants state and nonce of 32 characters at least (Authlib's are 30 and 20).
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["scope"] == ["openid email given_name usual_name uid siret"]
    assert query["redirect_uri"] == [CALLBACK]

    response = back(oidc_client, provider.sign_in(address, "camille.martin@ville.fr"))
    assert response.status_code == 303 and response.headers["Location"] == "/propositions"
    # The return from the provider is a cross-site navigation: Lax lets the cookie come back.
    assert "SameSite=Lax" in response.headers["Set-Cookie"]
    assert oidc_client.get("/").status_code == 200
    identity = db.session.scalars(select(ExternalIdentity)).one()
    # ProConnect's subject is its own (per service), not the email.
    assert (identity.user_id, identity.issuer) == (user.id, provider.issuer)
    assert identity.subject != user.email
    login = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login")).one()
    assert login.data == {"method": "oidc:proconnect", "address": "127.0.0.1"} and login.actor_id == user.id
    assert count(AuditEvent.__table__) >= 2  # the link is recorded too

    # Next time, the (issuer, subject) finds the agent, whatever email the provider sends.
    provider.set_accounts({"camille.martin@ville.fr": {"siret": SIRET, "email": "c.martin@autre.fr"}})
    second = oidc_client.application.test_client()
    response = sign_in(second, provider, "camille.martin@ville.fr")
    assert response.status_code == 303
    assert count(ExternalIdentity) == 1 and count(AuthSession) == 2
    assert db.session.get(ExternalIdentity, identity.id).last_login_at is not None


def test_institution_found_by_email_domain_when_no_siret_matches(oidc_client, provider):
    institution = make_institution()
    make_sign_in_settings(institution, email_domains="ville.fr mairie-ville.fr")
    user = make_user(org_unit=make_org_unit(institution), email="lea.petit@mairie-ville.fr")
    provider.set_accounts({"lea.petit@mairie-ville.fr": {"siret": "11111111111111"}})
    assert sign_in(oidc_client, provider, "lea.petit@mairie-ville.fr").status_code == 303
    assert db.session.scalars(select(ExternalIdentity.user_id)).one() == user.id


def test_the_token_endpoint_takes_client_secret_post_only(provider):
    """ProConnect documents only client_secret_post: the provider refuses Basic, which is
    Authlib's default (the sign-ins above went through)."""
    token_endpoint = requests.get(f"{provider.issuer}/.well-known/openid-configuration", timeout=5).json()["token_endpoint"]
    basic = requests.post(token_endpoint, data={"grant_type": "authorization_code", "code": "x",
                                                "redirect_uri": CALLBACK},
                          auth=(CLIENT_ID, CLIENT_SECRET), timeout=5)
    assert basic.status_code in (400, 401) and basic.json()["error"] == "invalid_client"


def test_userinfo_is_a_signed_jwt_and_is_read_at_once_with_a_60_second_token(oidc_client, provider, monkeypatch):
    agent_with_settings(provisions_agents=True)
    seen = {}
    real_exchange, real_get = oidc._exchange, requests.get

    def exchange(*args, **kwargs):
        seen["token"] = real_exchange(*args, **kwargs)
        return seen["token"]

    def get(url, *args, **kwargs):
        response = real_get(url, *args, **kwargs)
        if url.endswith("/me"):
            seen["userinfo_type"] = response.headers["Content-Type"]
        return response

    monkeypatch.setattr(oidc, "_exchange", exchange)
    monkeypatch.setattr(oidc.requests, "get", get)
    provider.set_accounts({"nouveau.venu@ville.fr": {"siret": SIRET, "given_name": "Nour",
                                                      "usual_name": "Benali", "uid": "nbenali"}})
    assert sign_in(oidc_client, provider, "nouveau.venu@ville.fr").status_code == 303
    assert seen["token"]["expires_in"] == 60
    assert seen["userinfo_type"].startswith("application/jwt")
    # The surname is usual_name (ProConnect has no family_name), read from the signed userinfo.
    created = db.session.scalars(select(User).where(User.email == "nouveau.venu@ville.fr")).one()
    assert (created.first_name, created.last_name) == ("Nour", "Benali")


def test_a_provider_answering_userinfo_in_json_works_too(server, database_url, provider):
    agent_with_settings()
    app = oidc_app(database_url, provider.issuer, OIDC_CLIENT_ID=f"{CLIENT_ID}-json")
    app.test_client_class = Client
    client = app.test_client()
    assert sign_in(client, provider, "camille.martin@ville.fr").status_code == 303
    assert client.get("/").status_code == 200


# --------------------------------------------------------------------------- accounts


def test_unknown_agent_without_provisioning_gets_a_clear_page_and_nothing_is_written(oidc_client, provider):
    agent_with_settings(provisions_agents=False)
    users = count(User)
    response = sign_in(oidc_client, provider, "inconnu@ville.fr")
    page = text(response)
    assert response.status_code == 403, page
    assert "Votre compte n'existe pas encore" in page and "Ville de Rivière" in page
    assert count(User) == users
    assert_nothing_written()
    assert_signed_out(oidc_client)


def test_unknown_institution_gets_the_same_page(oidc_client, provider):
    provider.set_accounts({"quelquun@ailleurs.fr": {"siret": "99999999999999"}})
    response = sign_in(oidc_client, provider, "quelquun@ailleurs.fr")
    assert response.status_code == 403 and "Votre compte n'existe pas encore" in text(response)
    assert_nothing_written()


def test_provisioning_creates_an_agent_without_unit(oidc_client, provider):
    agent_with_settings(provisions_agents=True)
    provider.set_accounts({"new.agent@ville.fr": {"siret": SIRET, "given_name": "Sacha", "usual_name": "Durand",
                                                   "organizational_unit": "DRH", "belonging_population": "agent"}})
    assert sign_in(oidc_client, provider, "new.agent@ville.fr").status_code == 303
    created = db.session.scalars(select(User).where(User.email == "new.agent@ville.fr")).one()
    assert created.org_unit_id is None and created.is_active and created.password_hash is None
    assert created.institution.name == "Ville de Rivière"
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"user.provisioned", "auth.identity_linked", "auth.login"} <= actions


def test_provisioning_never_takes_an_address_of_another_institution(oidc_client, provider):
    agent_with_settings(provisions_agents=True)
    make_user(institution=make_institution(), email="pris@ville.fr")  # in another institution
    provider.set_accounts({"pris@ville.fr": {"siret": SIRET}})
    assert sign_in(oidc_client, provider, "pris@ville.fr").status_code == 403
    assert_nothing_written()


@pytest.mark.parametrize("linked", [False, True], ids=["premiere-connexion", "identite-connue"])
def test_a_deactivated_agent_cannot_sign_in(oidc_client, provider, linked):
    user = agent_with_settings()
    user.is_active = False
    if linked:
        make_external_identity(user, issuer=provider.issuer, subject=provider_subject("camille.martin@ville.fr"))
    identities = count(ExternalIdentity)
    response = sign_in(oidc_client, provider, "camille.martin@ville.fr")
    assert response.status_code == 422 and "Ce compte est désactivé" in text(response)
    assert count(AuthSession) == 0 and count(ExternalIdentity) == identities
    assert db.session.scalars(select(AuditEvent.action)).all() == ["auth.login_refused"]


def provider_subject(login: str) -> str:
    """The subject the test provider gives a login (server.mjs)."""
    return hashlib.sha256(f"{CLIENT_ID}:{login}".encode()).hexdigest()


# --------------------------------------------------------------------------- errors


def test_access_denied_by_the_provider(oidc_client, provider):
    agent_with_settings()
    response = sign_in(oidc_client, provider, "refus@ville.fr")
    page = text(response)
    assert response.status_code == 403 and "Connexion annulée" in page
    assert "Réessayer avec ProConnect" in page
    assert_nothing_written()
    assert_signed_out(oidc_client)


def test_the_person_cancels_at_the_provider(oidc_client, provider):
    response = back(oidc_client, provider.sign_in(start(oidc_client), None, cancel=True))
    assert response.status_code == 403 and "Connexion annulée" in text(response)
    assert_nothing_written()


def test_a_code_used_twice_is_refused(oidc_client, oidc_server, provider):
    agent_with_settings()
    address = start(oidc_client)
    # A second browser with the same pending sign-in (a copy of the session cookie).
    cookie = oidc_client.get_cookie("incubateur_session")
    replay = oidc_server.test_client()
    replay.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
    callback = provider.sign_in(address, "camille.martin@ville.fr")
    assert back(oidc_client, callback).status_code == 303
    response = back(replay, callback)
    assert response.status_code == 400 and "Connexion expirée" in text(response)
    assert count(AuthSession) == 1
    assert_signed_out(replay)


def test_a_token_signed_with_other_keys_is_refused(oidc_client, provider):
    agent_with_settings()
    callback = provider.sign_in(start(oidc_client), "camille.martin@ville.fr")
    provider.publish_rogue_keys(True)  # the keys the client reads are not the signing ones
    oidc.forget_metadata()
    response = back(oidc_client, callback)
    assert response.status_code == 502 and "signature valide" in text(response)
    assert_nothing_written()


def test_a_wrong_state_is_refused(oidc_client, provider):
    agent_with_settings()
    callback = provider.sign_in(start(oidc_client), "camille.martin@ville.fr")
    tampered = callback.replace("state=", "state=x")
    response = back(oidc_client, tampered)
    assert response.status_code == 400 and "ne correspond à aucune connexion en cours" in text(response)
    assert_nothing_written()
    # The pending sign-in is spent: the genuine answer, afterwards, is refused too.
    assert back(oidc_client, callback).status_code == 400


def test_a_return_without_any_sign_in_started_is_refused(oidc_client):
    response = oidc_client.get("/connexion/oidc/retour?code=abc&state=def")
    assert response.status_code == 400
    assert oidc_client.get("/connexion/oidc/retour").status_code == 400


def test_a_wrong_nonce_is_refused(oidc_client, provider):
    agent_with_settings()
    callback = provider.sign_in(start(oidc_client), "camille.martin@ville.fr")
    with oidc_client.session_transaction() as session:
        pending = dict(session["oidc_pending"])
        pending["nonce"] = "n" * 43
        session["oidc_pending"] = pending
    response = back(oidc_client, callback)
    assert response.status_code == 400 and "ne correspond pas à la connexion demandée" in text(response)
    assert_nothing_written()


def test_provider_down_when_starting_and_when_coming_back(server, database_url, oidc_client):
    agent_with_settings()
    # Nobody listens at this issuer.
    down = oidc_app(database_url, f"http://127.0.0.1:{free_port()}")
    down.test_client_class = Client
    response = down.test_client().post("/connexion/oidc/proconnect")
    assert response.status_code == 503 and "ProConnect ne répond pas" in text(response)
    # A provider that stops while the person is on its pages.
    short_lived = ProviderProcess([CALLBACK], [])
    try:
        app = oidc_app(database_url, short_lived.issuer)
        app.test_client_class = Client
        client = app.test_client()
        callback = short_lived.sign_in(start(client), "camille.martin@ville.fr")
    finally:
        short_lived.stop()
    response = back(client, callback)
    assert response.status_code == 503 and "injoignable" in text(response)
    assert_nothing_written()


# --------------------------------------------------------------------------- logout


def test_logout_through_the_provider_and_back(oidc_client, provider):
    agent_with_settings()
    browser = requests.Session()
    assert back(oidc_client, provider.sign_in(start(oidc_client), "camille.martin@ville.fr",
                                               browser=browser)).status_code == 303
    response = oidc_client.post("/deconnexion")
    assert response.status_code == 303
    logout = urlsplit(response.headers["Location"])
    query = parse_qs(logout.query)
    assert response.headers["Location"].startswith(f"{provider.issuer}/session/end")
    assert query["post_logout_redirect_uri"] == ["http://localhost/deconnexion/retour"]
    assert len(query["state"][0]) >= 32 and query["id_token_hint"][0].count(".") == 2
    # Signed out here already: the server-side session is closed.
    assert db.session.scalars(select(AuthSession.revoked_at)).one() is not None
    assert_signed_out(oidc_client)

    returned = provider.log_out(response.headers["Location"], browser=browser)
    assert returned.startswith("http://localhost/deconnexion/retour?")
    assert parse_qs(urlsplit(returned).query)["state"] == query["state"]
    parts = urlsplit(returned)
    done = oidc_client.get(f"{parts.path}?{parts.query}", follow_redirects=True)
    assert "Vous êtes déconnecté·e." in text(done)
    # The state is spent: the same return again is a 400 page, not a 500.
    again = oidc_client.get(f"{parts.path}?{parts.query}")
    assert again.status_code == 400 and "Déconnexion à vérifier" in text(again)


@pytest.mark.parametrize("query", ["", "?state=", "?state=pas-le-bon"])
def test_a_logout_return_with_a_missing_or_wrong_state_is_a_400_page(oidc_client, query):
    response = oidc_client.get(f"/deconnexion/retour{query}")
    assert response.status_code == 400 and "Déconnexion à vérifier" in text(response)


def test_a_password_sign_in_logs_out_locally(oidc_client, login):
    user = make_user()
    login(oidc_client, user)
    response = oidc_client.post("/deconnexion")
    assert response.headers["Location"] == "/connexion"


# --------------------------------------------------------------------------- pages


def test_login_page_shows_the_button_above_the_form_not_boosted(oidc_client, provider):
    page = text(oidc_client.get("/connexion?next=/propositions"))
    button = page.index("S'identifier avec ProConnect")
    assert button < page.index('name="password"')
    form = page[page.rindex("<form", 0, button):button]
    assert 'data-hx-boost="false"' in form and 'action="/connexion/oidc/proconnect?next=/propositions"' in form


def test_csp_lets_the_forms_go_to_the_provider(oidc_client, provider):
    csp = oidc_client.get("/connexion").headers["Content-Security-Policy"]
    assert f"form-action 'self' {provider.issuer}" in csp
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp


def test_an_unknown_provider_goes_back_to_the_login_page(oidc_client):
    response = oidc_client.post("/connexion/oidc/autre")
    assert response.status_code == 303 and response.headers["Location"] == "/connexion"
