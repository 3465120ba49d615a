import pytest
from sqlalchemy import select

from incubator.audit.models import AuditEvent
from incubator.audit.services import record
from incubator.core import rgaa
from incubator.extensions import db
from tests.factories import make_user
from tests.helpers import text


def test_healthz_touches_nothing(client, count_queries):
    with count_queries() as counter:
        response = client.get("/healthz")
    assert response.status_code == 200 and response.get_data(as_text=True) == "ok\n"
    assert counter.count == 0


def test_healthz_and_static_files_do_not_look_up_a_signed_in_person(client, login, count_queries):
    """The browser sends the session cookie with every stylesheet and script: neither they
    nor a probe carrying it read the session (no query, no write of its idle clock), and a
    stylesheet keeps Flask's revalidation instead of the personal pages' « no-store »."""
    login(client, make_user())
    for path in ["/healthz", "/static/css/app.css", "/static/vendor/htmx-2.0.11/htmx.min.js"]:
        with count_queries() as counter:
            response = client.get(path)
        assert response.status_code == 200, path
        assert counter.count == 0, path
        assert "no-store" not in response.headers.get("Cache-Control", ""), path
        assert "X-Session-Time-Left" not in response.headers, path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
    stylesheet = client.get("/static/css/app.css")
    assert client.get("/static/css/app.css",
                      headers={"If-None-Match": stylesheet.headers["ETag"]}).status_code == 304
    # A page still is personal: not kept, with its session's time left.
    with count_queries() as counter:
        page = client.get("/")
    assert counter.count > 0
    assert page.headers["Cache-Control"] == "no-store" and "X-Session-Time-Left" in page.headers


@pytest.mark.parametrize("path", ["/accessibilite", "/donnees-personnelles", "/connexion", "/mot-de-passe-oublie",
                                  "/activation", "/activation/jeton-inconnu", "/mot-de-passe-oublie/jeton-inconnu"])
def test_public_pages(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert f"Accessibilité : {rgaa.result().status}" in text(response)


def test_accessibility_statement_and_personal_data_have_real_content(client):
    page = text(client.get("/accessibilite"))
    assert "RGAA" in page and rgaa.result().status in page and "Défenseur des droits" in page
    page = text(client.get("/donnees-personnelles"))
    assert "Durées de conservation" in page and "CNIL" in page and "anonymisation" in page
    # What reset links, invitations and activation codes leave behind, and for how long.
    assert "Seule une empreinte de chaque lien ou code est conservée" in page
    assert "supprimés 30 jours après leur utilisation" in page


def test_security_headers_and_csp_on_pages(client, login):
    user = make_user(roles=["admin"])
    login(client, user)
    for path in ["/", "/connexion", "/admin/agents", "/nope", "/accessibilite"]:
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"
        body = response.get_data(as_text=True)
        assert "<script>" not in body and " style=" not in body and "onclick" not in body
    # The pages whose address carries a token: no Referer at all, not kept in any cache.
    for path in ["/mot-de-passe-oublie/jeton", "/activation/jeton", "/activation", "/mot-de-passe-oublie"]:
        response = client.get(path)
        assert response.headers["Referrer-Policy"] == "no-referrer", path
        assert response.headers["Cache-Control"] == "no-store", path
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        body = response.get_data(as_text=True)
        assert "<script>" not in body and " style=" not in body and "onclick" not in body
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_htmx_is_vendored_and_configured(client):
    page = client.get("/connexion").get_data(as_text=True)
    assert '/static/vendor/htmx-2.0.11/htmx.min.js' in page
    assert '"includeIndicatorStyles": false' in page and '"code": "422", "swap": true' in page
    assert client.get("/static/vendor/htmx-2.0.11/htmx.min.js").status_code == 200


def test_csrf_header_is_on_every_page_for_htmx(client):
    assert 'data-hx-headers=\'{"X-CSRFToken": "' in client.get("/connexion").get_data(as_text=True)


def test_french_error_pages(client, login):
    response = client.get("/page-qui-n-existe-pas")
    assert response.status_code == 404 and "Page introuvable" in text(response)
    login(client, make_user())
    assert "Accès refusé" in text(client.get("/admin/"))
    response = client.post("/healthz")
    assert response.status_code == 405 and "Méthode non autorisée" in text(response)


def test_unexpected_error_is_a_french_500_without_trace(database_url):
    from incubator import create_app
    from tests.conftest import app_config

    fresh = create_app(app_config(database_url))

    @fresh.get("/__casse")
    def broken():
        raise RuntimeError("secret interne")

    response = fresh.test_client().get("/__casse")
    assert response.status_code == 500
    page = text(response)
    assert "Erreur interne" in page and "secret interne" not in page and "Traceback" not in page


def test_home_is_personal(client, login):
    manager = make_user(first_name="Karim")
    make_user(manager=manager)
    login(client, manager)
    page = text(client.get("/"))
    assert "Bonjour Karim" in page and "Rien ne vous attend pour l'instant" in page  # tests/inbox: the cards
    assert "Administration" not in page


def test_navigation_by_role(client, login, make_client):
    admin = make_user(roles=["admin"])
    login(client, admin)
    page = text(client.get("/"))
    assert 'href="/admin/"' in page and "Collectivités" not in page
    coordinator = make_user(org_unit=admin.org_unit, roles=["coordinator"])
    other = make_client()
    login(other, coordinator)
    page = text(other.get("/"))
    assert 'href="/admin/collectif"' in page and 'href="/admin/"' not in page


def test_theme_uses_the_institution_accent_colour(client, login):
    user = make_user()
    user.institution.accent_color = "#7a4b94"
    login(client, user)
    assert "--accent: #7a4b94" in client.get("/theme.css").get_data(as_text=True)
    user.institution.accent_color = "red;}x{"
    assert "--accent: #1f5f8b" in client.get("/theme.css").get_data(as_text=True)


def test_audit_events_are_append_only():
    user = make_user()
    event = record("test.event", actor=user, institution_id=user.institution_id, target=user)
    db.session.commit()
    event.action = "forged"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, event.id))
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.id == event.id)) == "test.event"


def test_audit_view_filters(client, login):
    admin = make_user(roles=["admin"], email="admin@ville.fr")
    other = make_user(org_unit=admin.org_unit, email="autre@ville.fr")
    record("user.created", actor=other, institution_id=admin.institution_id, target=other)
    login(client, admin)
    page = text(client.get("/admin/journal"))
    assert "Connexion" in page and "Agent créé" in page
    page = text(client.get("/admin/journal?action=user.created"))
    assert "Agent créé" in page and "<td data-label=\"Action\">Connexion</td>" not in page
    page = text(client.get("/admin/journal?acteur=autre@"))
    assert "Agent créé" in page and "<td data-label=\"Action\">Connexion</td>" not in page
    assert "Aucun événement" in text(client.get("/admin/journal?du=2199-01-01"))
    assert client.get("/admin/journal?du=pas-une-date&action=inconnue").status_code == 200
