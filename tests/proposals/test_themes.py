from sqlalchemy import select

from incubator.extensions import db
from incubator.proposals.models import Theme
from tests.factories import make_theme, make_user
from tests.helpers import text


def test_admin_manages_themes(client, login, make_client):
    admin = make_user(roles=["admin"])
    login(client, admin)
    assert client.post("/admin/themes", data={"name": " Numérique "}).status_code == 303
    theme = db.session.scalar(select(Theme))
    assert theme.name == "Numérique" and theme.is_active
    response = client.post("/admin/themes", data={"name": "Numérique"})
    assert response.status_code == 422 and "Ce thème existe déjà." in text(response)
    assert client.post("/admin/themes", data={"name": "x"}).status_code == 422
    assert client.post(f"/admin/themes/{theme.id}/basculer").status_code == 303
    assert theme.is_active is False
    # A retired theme is no longer offered to authors.
    author = make_client()
    login(author, make_user(org_unit=admin.org_unit))
    assert "Numérique" not in text(author.get("/propositions/nouvelle"))


def test_themes_are_for_admins_of_the_institution(client, login):
    theme = make_theme(make_user().institution)
    login(client, make_user(org_unit=theme.institution.org_units[0], roles=["coordinator", "hr"]))
    assert client.get("/admin/themes").status_code == 403
    assert client.post(f"/admin/themes/{theme.id}/basculer").status_code == 403
    assert theme.is_active
