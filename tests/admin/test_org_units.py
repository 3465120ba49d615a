from sqlalchemy import func, select

from incubator.audit.models import AuditEvent
from incubator.extensions import db
from incubator.organisation.models import OrgUnit
from tests.factories import make_org_unit, make_user
from tests.helpers import field_errors, text, without_error_title


def _admin(login, client):
    admin = make_user(roles=["admin"])
    login(client, admin)
    return admin


def test_create_org_unit(client, login):
    admin = _admin(login, client)
    parent = make_org_unit(admin.institution, code="DST", name="Direction des services techniques", kind="direction")
    response = client.post("/admin/services/nouveau", data={
        "name": "Bâtiments", "code": "dst-bat", "kind": "service", "parent_id": str(parent.id)})
    assert response.status_code == 303
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "DST-BAT"))
    assert unit.parent_id == parent.id and unit.institution_id == admin.institution_id
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.target_id == unit.id,
                                                             AuditEvent.target_type == "OrgUnit")) == "org_unit.created"


def test_create_org_unit_bad_input_writes_nothing(client, login):
    admin = _admin(login, client)
    make_org_unit(admin.institution, code="DUP")
    before = db.session.scalar(select(func.count()).select_from(OrgUnit))
    cases = [
        ({"name": "", "code": "X", "kind": "service"}, "Indiquez un nom."),
        ({"name": "Un nom", "code": "", "kind": "service"}, "Indiquez un code."),
        ({"name": "Un nom", "code": "dup", "kind": "service"}, "Ce code est déjà utilisé."),
        ({"name": "Un nom", "code": "a b!", "kind": "service"}, "Code : 1 à 40 lettres"),
        ({"name": "Un nom", "code": "OK", "kind": "autre"}, "N'est pas un choix valide"),
        ({"name": "Un nom", "code": "OK", "kind": "service", "parent_id": "999999"}, "Direction ou service inconnu."),
        ({"name": "Un nom", "code": "OK", "kind": "service", "parent_id": "abc"}, "Choix non valide"),
        ({"name": "x" * 201, "code": "OK", "kind": "service"}, "200 caractères"),
    ]
    for data, message in cases:
        response = client.post("/admin/services/nouveau", data=data)
        assert response.status_code == 422, data
        body = text(response)
        # Every message is in the error summary at the top, whether or not its field shows it.
        start = body.index("data-error-summary")
        summary = body[start:body.index("<form", start)]
        assert message in summary, (data, summary)
    assert db.session.scalar(select(func.count()).select_from(OrgUnit)) == before


def test_rename_and_move_with_cycle_refused(client, login):
    admin = _admin(login, client)
    top = make_org_unit(admin.institution, code="TOP", kind="direction")
    child = make_org_unit(admin.institution, code="CHILD", parent=top)
    assert client.post(f"/admin/services/{top.id}/renommer", data={"rename-name": "Direction renommée"}).status_code == 303
    assert top.name == "Direction renommée"
    response = client.post(f"/admin/services/{top.id}/deplacer", data={"move-parent_id": str(child.id)})
    assert response.status_code == 422
    assert "sous-unités" in text(response)
    assert top.parent_id is None
    response = client.post(f"/admin/services/{child.id}/deplacer", data={"move-parent_id": ""})
    assert response.status_code == 303
    assert child.parent_id is None


def test_close_refused_while_agents_or_open_children_then_allowed(client, login):
    admin = _admin(login, client)
    unit = make_org_unit(admin.institution, code="CLOSE")
    sub = make_org_unit(admin.institution, code="SUB", parent=unit)
    agent = make_user(org_unit=unit)
    response = client.post(f"/admin/services/{unit.id}/fermer", data={"closed_on": "2026-12-31"})
    assert response.status_code == 422
    assert "1 sous-unité(s) ouverte(s) et 1 agent(s) actif(s)" in text(response)
    assert unit.closed_on is None
    agent.org_unit = admin.org_unit
    assert client.post(f"/admin/services/{sub.id}/fermer", data={"closed_on": "2026-12-31"}).status_code == 303
    assert client.post(f"/admin/services/{unit.id}/fermer", data={"closed_on": "2026-12-31"}).status_code == 303
    assert unit.closed_on.isoformat() == "2026-12-31"
    # A closed unit takes no new agent and cannot be a parent.
    response = client.post("/admin/services/nouveau", data={"name": "Nouveau", "code": "N", "kind": "service", "parent_id": str(unit.id)})
    body = text(response)
    assert "Cette direction ou ce service est fermé." in body, body[body.find("<main"):body.find("</main>")]
    # Reopening a child under a closed parent is refused; the parent first.
    assert client.post(f"/admin/services/{sub.id}/rouvrir").status_code == 422
    assert client.post(f"/admin/services/{unit.id}/rouvrir").status_code == 303
    assert unit.closed_on is None


def test_close_page_asks_for_confirmation(client, login):
    admin = _admin(login, client)
    unit = make_org_unit(admin.institution)
    page = client.get(f"/admin/services/{unit.id}/fermer").get_data(as_text=True)
    assert "Confirmer la fermeture" in page
    assert unit.closed_on is None


def test_tree_lists_units_in_order_with_counts(client, login):
    admin = _admin(login, client)
    top = make_org_unit(admin.institution, code="A-TOP", name="Aaa direction", kind="direction")
    make_org_unit(admin.institution, code="A-SUB", name="Aaa service", parent=top)
    page = client.get("/admin/services").get_data(as_text=True)
    assert page.index("Aaa direction") < page.index("Aaa service")
    assert "tree-depth-1" in page


def test_create_org_unit_through_htmx_answers_the_form_block_then_redirects(client, login, make_client):
    admin = _admin(login, client)
    before = db.session.scalar(select(func.count()).select_from(OrgUnit))
    htmx = {"HX-Request": "true"}
    response = client.post("/admin/services/nouveau", data={"name": "", "code": "X", "kind": "service"}, headers=htmx)
    body = text(response)
    assert response.status_code == 422 and without_error_title(body).startswith('<div class="card narrow" id="org-unit-form"')
    assert "<html" not in body and field_errors(body, "name") == "Indiquez un nom."
    assert db.session.scalar(select(func.count()).select_from(OrgUnit)) == before
    response = client.post("/admin/services/nouveau", data={"name": "Bâtiments", "code": "BAT", "kind": "service"},
                           headers=htmx)
    assert (response.status_code, response.headers["HX-Redirect"]) == (204, "/admin/services")
    assert db.session.scalar(select(OrgUnit.institution_id).where(OrgUnit.code == "BAT")) == admin.institution_id
    # Who is not an administrator of the institution is refused, with the reason.
    agent = make_client()
    login(agent, make_user(org_unit=admin.org_unit))
    assert agent.post("/admin/services/nouveau", data={"name": "Autre", "code": "AUT", "kind": "service"}).status_code == 403
