"""A real OpenID Connect provider (tests/oidc/provider.py) for each test process, and an
application configured to use it, sharing the test database with `app`."""

from __future__ import annotations

import pytest

from incubator import create_app
from incubator.accounts import oidc
from tests.conftest import Client, app_config

from .provider import CLIENT_ID, CLIENT_SECRET, ProviderProcess

CALLBACK = "http://localhost/connexion/oidc/retour"
LOGOUT_RETURN = "http://localhost/deconnexion/retour"


@pytest.fixture(scope="session")
def provider():
    process = ProviderProcess([CALLBACK], [LOGOUT_RETURN])
    yield process
    process.stop()


def oidc_app(database_url: str, issuer: str, **extra):
    settings = {"OIDC_ISSUER": issuer, "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": CLIENT_SECRET,
                "OIDC_NAME": "ProConnect", "OIDC_TIMEOUT": 3, **extra}
    return create_app(app_config(database_url, **settings))


@pytest.fixture(scope="session")
def oidc_server(server, database_url, provider):
    """The app with ProConnect configured (`server` applied the migrations)."""
    return oidc_app(database_url, provider.issuer)


@pytest.fixture
def oidc_client(oidc_server):
    oidc_server.test_client_class = Client
    return oidc_server.test_client()


@pytest.fixture(autouse=True)
def fresh_provider_metadata(request):
    """Each test reads the discovery document and keys again (one test changes the keys)."""
    oidc.forget_metadata()
    yield
    oidc.forget_metadata()
    if "provider" in request.fixturenames:
        request.getfixturevalue("provider").publish_rogue_keys(False)
        request.getfixturevalue("provider").set_accounts({})


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """The provider's log, with a failing test."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and "provider" in getattr(item, "funcargs", {}):
        report.sections.append(("fournisseur OpenID Connect", item.funcargs["provider"].log()[-5000:]))
