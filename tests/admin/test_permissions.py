"""Every administration route against every role, anonymous included, and against
objects of another institution."""

from datetime import date

import pytest

from incubator.extensions import db
from tests.factories import make_collective_membership, make_institution, make_org_unit, make_user

ROLES = ["anonymous", "agent", "manager", "collective", "coordinator", "hr", "admin",
         "instance_admin_elsewhere"]


@pytest.fixture
def world():
    institution = make_institution("Ville de Test", slug="ville-de-test")
    unit = make_org_unit(institution, code="SRV")
    # Without a password yet: the administration may invite the agent or print a sheet.
    target = make_user(org_unit=unit, email="cible@example.fr", login_id="cible", activated=False)
    membership = make_collective_membership(target, starts_on=date(2024, 1, 1))
    users = {
        "agent": make_user(org_unit=unit),
        "collective": make_user(org_unit=unit, collective=True),
        "coordinator": make_user(org_unit=unit, roles=["coordinator"]),
        "hr": make_user(org_unit=unit, roles=["hr"]),
        "admin": make_user(org_unit=unit, roles=["admin"]),
    }
    users["manager"] = make_user(org_unit=unit)
    make_user(org_unit=unit, manager=users["manager"])
    other = make_institution("Autre commune", slug="autre-commune")
    users["instance_admin_elsewhere"] = make_user(org_unit=make_org_unit(other), roles=["admin"],
                                                  is_instance_admin=True)
    db.session.flush()
    return {"unit": unit, "target": target, "membership": membership, "users": users}


def _client_as(role, world, make_client, login):
    client = make_client()
    if role != "anonymous":
        login(client, world["users"][role])
    return client


# (method, url template, roles allowed, success statuses)
ADMIN_ONLY = {"admin"}
COLLECTIVE_MANAGERS = {"admin", "coordinator"}
ROUTES = [
    ("GET", "/admin/", ADMIN_ONLY),
    ("GET", "/admin/services", ADMIN_ONLY),
    ("GET", "/admin/services/nouveau", ADMIN_ONLY),
    ("POST", "/admin/services/nouveau", ADMIN_ONLY),
    ("GET", "/admin/services/{unit}", ADMIN_ONLY),
    ("POST", "/admin/services/{unit}/renommer", ADMIN_ONLY),
    ("POST", "/admin/services/{unit}/deplacer", ADMIN_ONLY),
    ("GET", "/admin/services/{unit}/fermer", ADMIN_ONLY),
    ("POST", "/admin/services/{unit}/fermer", ADMIN_ONLY),
    ("POST", "/admin/services/{unit}/rouvrir", ADMIN_ONLY),
    ("GET", "/admin/agents", ADMIN_ONLY),
    ("GET", "/admin/agents/nouveau", ADMIN_ONLY),
    ("POST", "/admin/agents/nouveau", ADMIN_ONLY),
    ("GET", "/admin/agents/{target}", ADMIN_ONLY),
    ("POST", "/admin/agents/{target}", ADMIN_ONLY),
    ("POST", "/admin/agents/{target}/roles", ADMIN_ONLY),
    ("POST", "/admin/agents/{target}/mot-de-passe", ADMIN_ONLY),
    ("GET", "/admin/agents/{target}/desactiver", ADMIN_ONLY),
    ("POST", "/admin/agents/{target}/desactiver", ADMIN_ONLY),
    ("POST", "/admin/agents/{target}/reactiver", ADMIN_ONLY),
    ("POST", "/admin/agents/{target}/invitation", ADMIN_ONLY),
    ("POST", "/admin/agents/{target}/fiche-activation", ADMIN_ONLY),
    ("GET", "/admin/import", ADMIN_ONLY),
    ("POST", "/admin/import", ADMIN_ONLY),
    ("GET", "/admin/import/modele.csv", ADMIN_ONLY),
    ("POST", "/admin/import/invitations", ADMIN_ONLY),
    ("GET", "/admin/import-unites", ADMIN_ONLY),
    ("POST", "/admin/import-unites", ADMIN_ONLY),
    ("GET", "/admin/import-unites/modele.csv", ADMIN_ONLY),
    ("GET", "/admin/collectif", COLLECTIVE_MANAGERS),
    ("POST", "/admin/collectif", COLLECTIVE_MANAGERS),
    ("POST", "/admin/collectif/{membership}/fin", COLLECTIVE_MANAGERS),
    ("GET", "/admin/journal", ADMIN_ONLY),
    ("GET", "/admin/parametres/connexion", ADMIN_ONLY),
    ("POST", "/admin/parametres/connexion", ADMIN_ONLY),
    ("GET", "/admin/collectivites", {"instance_admin_elsewhere"}),
    ("POST", "/admin/collectivites", {"instance_admin_elsewhere"}),
]


def test_every_admin_endpoint_is_in_this_table(server):
    covered = {(method, url.split("{")[0].rstrip("/")) for method, url, _ in ROUTES}
    for rule in server.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        path = rule.rule.split("<")[0].rstrip("/")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (method, path) in covered, f"{method} {rule.rule} n'est pas dans la matrice"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method,url,allowed", ROUTES, ids=[f"{m} {u}" for m, u, _ in ROUTES])
def test_admin_route_by_role(role, method, url, allowed, world, make_client, login):
    client = _client_as(role, world, make_client, login)
    path = url.format(unit=world["unit"].id, target=world["target"].id,
                      membership=world["membership"].id)
    response = client.open(path, method=method, data={})
    # The outsider is an admin too, but of another institution.
    outsider = role == "instance_admin_elsewhere"
    if role == "anonymous":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/connexion")
    elif outsider and "{" in url:
        # An admin of another institution does not even learn that the object exists.
        assert response.status_code == 404
    elif role in allowed or (outsider and "admin" in allowed):
        # Allowed: the page, or the form refused for its empty input (never 403/404/500).
        assert response.status_code in (200, 303, 422), response.status_code
    else:
        assert response.status_code == 403


def test_admin_of_another_institution_cannot_read_or_change_objects(world, make_client, login):
    outsider = world["users"]["instance_admin_elsewhere"]
    client = make_client()
    login(client, outsider)
    target = world["target"]
    assert client.get(f"/admin/agents/{target.id}").status_code == 404
    response = client.post(f"/admin/agents/{target.id}/desactiver")
    assert response.status_code == 404
    assert target.is_active is True
    # Lists only show the outsider's own institution.
    page = client.get("/admin/agents?statut=all").get_data(as_text=True)
    assert "cible@example.fr" not in page
