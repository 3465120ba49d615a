
from sqlalchemy import DateTime, func, select

from incubator.collective.models import CollectiveMembership
from incubator.extensions import db
from incubator.organisation.models import Institution
from incubator.people.models import User
from incubator.timeutil import today_paris, utcnow
from tests.factories import make_user
from tests.helpers import approved_months_from_entries, stored_approved_months, text


def test_instance_admin_creates_an_institution(client, login):
    admin = make_user(roles=["admin"], is_instance_admin=True)
    login(client, admin)
    response = client.post("/admin/collectivites", data={"name": "CCAS de Test", "slug": "ccas-de-test", "kind": "ccas"})
    assert response.status_code == 303
    assert db.session.scalar(select(Institution.kind).where(Institution.slug == "ccas-de-test")) == "ccas"
    for data, message in [
        ({"name": "CCAS de Test", "slug": "autre", "kind": "ccas"}, "Une collectivité porte déjà ce nom."),
        ({"name": "Autre", "slug": "ccas-de-test", "kind": "ccas"}, "Cet identifiant est déjà pris."),
        ({"name": "Autre", "slug": "Pas Bon!", "kind": "ccas"}, "Identifiant : lettres minuscules"),
    ]:
        response = client.post("/admin/collectivites", data=data)
        assert response.status_code == 422 and message in text(response)


def test_cli_create_institution_and_admin(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-institution", "Commune de Valmont", "--slug", "valmont"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["create-institution", "Commune de Valmont", "--slug", "valmont"]).exit_code == 1
    result = runner.invoke(args=["create-admin", "--institution", "valmont", "--email", "dgs@valmont.fr",
                                 "--first-name", "Anne", "--last-name", "Roy", "--password", "une longue phrase"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == "dgs@valmont.fr"))
    assert user.has_role("admin") and user.org_unit.code == "DG"
    result = runner.invoke(args=["create-admin", "--institution", "valmont", "--email", "x@valmont.fr",
                                 "--first-name", "A", "--last-name", "B", "--password", "court"])
    assert result.exit_code == 1 and "12 caractères" in result.output


# Columns that hold a schedule or a deadline rather than a moment already past.
SCHEDULED_COLUMNS = {"expires_at", "starts_at", "next_attempt_at"}


def recorded_in_the_future() -> list[str]:
    now = utcnow()
    return [f"{table.name}.{column.name}"
            for table in db.metadata.sorted_tables for column in table.columns
            if isinstance(column.type, DateTime) and column.name not in SCHEDULED_COLUMNS
            and db.session.scalar(select(func.count()).select_from(table).where(column > now))]


def test_demo_data_loads_both_institutions_and_the_accounts_log_in(app, make_client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "agent@demo.incubateur.fr" in result.output
    # Not twice on a non-empty database, unless asked to skip quietly.
    assert runner.invoke(args=["seed-demo"]).exit_code == 1
    assert runner.invoke(args=["seed-demo", "--if-empty"]).exit_code == 0
    db.session.expire_all()
    agent = db.session.scalar(select(User).where(User.email == "agent@demo.incubateur.fr"))
    assert agent.manager.email == "encadrant@demo.incubateur.fr"
    users = db.session.scalars(select(User).where(User.institution_id == agent.institution_id)).all()
    assert 55 <= len(users) <= 70
    assert {u.category for u in users} == {"A", "B", "C"}
    # What the demo records as having happened did happen: nothing is dated after now.
    assert recorded_in_the_future() == []
    # The dashboard's totals of the demo's approved hours, written without the approval service.
    assert stored_approved_months() == approved_months_from_entries() != {}
    expectations = {
        "agent@demo.incubateur.fr": ("/admin/", 403),
        "encadrant@demo.incubateur.fr": ("/", 200),
        "collectif@demo.incubateur.fr": ("/", 200),
        "animation@demo.incubateur.fr": ("/admin/collectif", 200),
        "rh@demo.incubateur.fr": ("/admin/", 403),
        "admin@demo.incubateur.fr": ("/admin/agents", 200),
        "admin@ccas.demo.incubateur.fr": ("/admin/agents", 200),
    }
    for email, (path, status) in expectations.items():
        client = make_client()
        response = client.post("/connexion", data={"email": email, "password": "incubateur-demo"})
        assert response.status_code == 303, email
        assert client.get(path).status_code == status, email
    # The CCAS admin sees only the CCAS.
    client = make_client()
    client.post("/connexion", data={"email": "admin@ccas.demo.incubateur.fr", "password": "incubateur-demo"})
    page = text(client.get("/admin/agents?statut=all"))
    assert "@belleville-sur-loire.fr" not in page and "@ccas-belleville-sur-loire.fr" in page
    members = db.session.scalars(select(CollectiveMembership).where(CollectiveMembership.ends_on > today_paris())).all()
    assert len(members) == 9
    assert {m.user.category for m in members} == {"A", "B", "C"}
