"""Single sign-on rules without a provider: linking (accounts.sso), password sign-in closed
for agents, the settings page, and the settings read from the environment."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from incubator import ConfigurationError, create_app
from incubator.accounts import sso
from incubator.accounts.models import ExternalIdentity, SignInSettings
from incubator.audit.models import AuditEvent
from incubator.extensions import db
from incubator.people.services import anonymise_departed
from tests.conftest import app_config
from tests.factories import (
    make_external_identity,
    make_institution,
    make_org_unit,
    make_sign_in_settings,
    make_user,
)
from tests.helpers import field_errors, text

ISSUER = "https://idp.example.fr"


def claims(email="lea@ville.fr", **extra):
    return {"sub": "abc", "email": email, "given_name": "Léa", "usual_name": "Petit", **extra}


def test_an_email_the_provider_says_is_unverified_links_nobody():
    institution = make_institution()
    make_sign_in_settings(institution, email_domains="ville.fr")
    make_user(org_unit=make_org_unit(institution), email="lea@ville.fr")
    with pytest.raises(sso.NoAccount):
        sso.sign_in_with_provider("idp", ISSUER, claims(email_verified=False), "127.0.0.1")
    # ProConnect sends no email_verified at all: its emails are verified ones.
    assert sso.sign_in_with_provider("idp", ISSUER, claims(), "127.0.0.1").user.email == "lea@ville.fr"


def test_a_domain_shared_by_two_institutions_designates_neither():
    for _ in range(2):
        make_sign_in_settings(make_institution(), email_domains="ville.fr")
    with pytest.raises(sso.NoAccount):
        sso.sign_in_with_provider("idp", ISSUER, claims(), "127.0.0.1")


def test_the_subject_of_another_issuer_is_another_identity():
    user = make_user()
    make_external_identity(user, issuer="https://autre.example.fr", subject="abc")
    with pytest.raises(sso.NoAccount):
        sso.sign_in_with_provider("idp", ISSUER, claims(email="x@nulle-part.fr"), "127.0.0.1")


# --------------------------------------------------------------------------- passwords


def test_agents_sign_in_without_password_once_closed_administrators_keep_theirs(client, make_client, login):
    institution = make_institution()
    unit = make_org_unit(institution)
    agent = make_user(org_unit=unit)
    admin = make_user(org_unit=unit, roles=["admin"])
    make_sign_in_settings(institution, agents_use_passwords=False)
    response = client.post("/connexion", data={"email": agent.email, "password": "mot-de-passe-de-test"})
    assert response.status_code == 422 and "fermé la connexion par mot de passe" in text(response)
    login(make_client(), admin)
    refused = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login_refused")).one()
    assert refused.data == {"reason": "password_disabled"}


# --------------------------------------------------------------------------- settings page


def test_the_settings_page_saves_and_audits(client, login):
    admin = make_user(roles=["admin"])
    login(client, admin)
    assert "Connexion des agents" in text(client.get("/admin/parametres/connexion"))
    response = client.post("/admin/parametres/connexion", data={
        "siret": "217 500 016 00019", "email_domains": "Ville.fr, @ccas-ville.fr",
        "provisions_agents": "y", "agents_use_passwords": "y"})
    assert response.status_code == 303
    saved = db.session.scalars(select(SignInSettings)).one()
    assert (saved.siret, saved.email_domains, saved.provisions_agents) == ("21750001600019", "ville.fr ccas-ville.fr", True)
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "institution.sign_in_settings_changed")).one()
    assert event.data["siret"] == "21750001600019"


def test_bad_values_are_refused_next_to_their_fields(client, login):
    other = make_institution()
    make_sign_in_settings(other, siret="21750001600019")
    login(client, make_user(institution=make_institution(), roles=["admin"]))
    response = client.post("/admin/parametres/connexion", data={"siret": "123", "email_domains": "pas un domaine"})
    page = text(response)
    assert response.status_code == 422
    assert field_errors(page, "siret") == "Un SIRET compte 14 chiffres."
    assert "Domaine invalide" in field_errors(page, "email_domains")
    response = client.post("/admin/parametres/connexion", data={"siret": "21750001600019"})
    assert "déjà celui d'une autre collectivité" in field_errors(text(response), "siret")
    assert [s.institution_id for s in db.session.scalars(select(SignInSettings))] == [other.id]


def test_passwords_stay_open_until_single_sign_on_has_worked():
    institution = make_institution()
    admin = make_user(org_unit=make_org_unit(institution), roles=["admin"])
    for configured in (False, True):
        with pytest.raises(sso.ValidationFailed) as refused:
            sso.update_sign_in_settings(admin, institution.id, siret="", email_domains="", provisions_agents=False,
                                        agents_use_passwords=False, providers_configured=configured)
        assert "agents_use_passwords" in refused.value.errors
    make_external_identity(make_user(org_unit=admin.org_unit))
    sso.update_sign_in_settings(admin, institution.id, siret="", email_domains="", provisions_agents=False,
                                agents_use_passwords=False, providers_configured=True)
    assert SignInSettings.of(institution.id).agents_use_passwords is False


# --------------------------------------------------------------------------- configuration


def test_settings_from_the_environment_stay_text(monkeypatch, database_url):
    """from_prefixed_env reads JSON: a secret of digits would become a number, "1e5" 100000.0."""
    monkeypatch.setenv("INCUBATEUR_OIDC_ISSUER", "https://auth.agentconnect.gouv.fr/api/v2/")
    monkeypatch.setenv("INCUBATEUR_OIDC_CLIENT_ID", "0123456")
    monkeypatch.setenv("INCUBATEUR_OIDC_CLIENT_SECRET", "1e5")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
    (provider,) = app.extensions["oidc_providers"]
    assert (provider.client_id, provider.client_secret) == ("0123456", "1e5")
    assert provider.issuer == "https://auth.agentconnect.gouv.fr/api/v2"
    assert provider.scopes == "openid email given_name usual_name uid siret"
    assert "form-action 'self' https://auth.agentconnect.gouv.fr" in \
        app.test_client().get("/healthz").headers["Content-Security-Policy"]


def test_several_providers_from_the_instance_configuration(database_url):
    app = create_app(app_config(database_url, OIDC_PROVIDERS=[
        {"name": "ProConnect", "issuer": "https://proconnect.example", "client_id": "a", "client_secret": 123},
        {"name": "Keycloak de la ville", "issuer": "https://sso.ville.fr/realms/agents", "client_id": "b",
         "client_secret": "s", "scopes": "email profile"}]))
    slugs = [(p.slug, p.client_secret, p.scopes) for p in app.extensions["oidc_providers"]]
    assert slugs == [("proconnect", "123", "openid email given_name usual_name uid siret"),
                     ("keycloak-de-la-ville", "s", "openid email profile")]
    page = text(app.test_client().get("/connexion"))
    assert "S'identifier avec ProConnect" in page and "S'identifier avec Keycloak de la ville" in page


@pytest.mark.parametrize("settings", [
    {"OIDC_ISSUER": "https://idp.example", "OIDC_CLIENT_ID": "a"},
    {"OIDC_ISSUER": "idp.example", "OIDC_CLIENT_ID": "a", "OIDC_CLIENT_SECRET": "s"},
    {"OIDC_PROVIDERS": "pas une liste"},
])
def test_incomplete_provider_settings_stop_the_start_with_a_message(database_url, settings):
    with pytest.raises(ConfigurationError, match="OIDC|Fournisseur"):
        create_app(app_config(database_url, **settings))


def test_without_provider_the_login_page_has_no_button(client):
    assert "S'identifier avec" not in text(client.get("/connexion"))


def test_anonymising_a_departed_agent_drops_their_provider_identities():
    departed = make_user(is_active=False, deactivated_at=datetime(2010, 1, 1))
    make_external_identity(departed)
    kept = make_external_identity(make_user())
    assert anonymise_departed(datetime(2020, 1, 1)) == 1
    assert db.session.scalars(select(ExternalIdentity.id)).all() == [kept.id]
