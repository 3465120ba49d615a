"""Agents without a professional address: an identifier (matricule...) instead, unique on
the instance whatever the case; sign-in with it; notifications kept in the application;
the form, the import, the forms that designate an agent, anonymisation and the logs."""

import re
from datetime import timedelta
from io import BytesIO

from sqlalchemy import func, select

from incubator.accounts.models import AccountToken
from incubator.audit.models import AuditEvent
from incubator.extensions import db
from incubator.notifications.links import link
from incubator.notifications.models import Notification, OutboxMessage
from incubator.notifications.services import notify, send_digests
from incubator.people.models import User
from incubator.people.services import anonymise_departed
from incubator.timeutil import utcnow
from tests.factories import (
    DEFAULT_PASSWORD,
    make_account_token,
    make_institution,
    make_notification,
    make_org_unit,
    make_user,
)
from tests.helpers import field_errors, text


def _valid(unit, **changes):
    data = {"first_name": "Bruno", "last_name": "Lefort", "email": "", "login_id": "M04512",
            "category": "C", "quotite": "100", "org_unit_id": str(unit.id), "manager_email": ""}
    data.update(changes)
    return data


def test_an_agent_without_an_address_is_created_with_an_identifier(client, login):
    admin = make_user(roles=["admin"])
    login(client, admin)
    response = client.post("/admin/agents/nouveau", data=_valid(admin.org_unit))
    assert response.status_code == 303, text(response)
    user = db.session.scalar(select(User).where(User.login_id == "m04512"))
    assert user.email is None and user.login == "m04512"
    page = text(client.get(f"/admin/agents/{user.id}"))
    assert "sans adresse électronique" in page and "identifiant m04512" in page
    assert "identifiant : m04512" in text(client.get("/admin/agents?q=m045"))


def test_an_address_or_an_identifier_is_required_and_identifiers_are_unique(client, login):
    admin = make_user(roles=["admin"])
    login(client, admin)
    make_user(org_unit=admin.org_unit, login_id="m0001")
    make_user(org_unit=make_org_unit(make_institution()), login_id="m0002")
    cases = [
        (_valid(admin.org_unit, login_id=""), "email", "Indiquez l'adresse électronique de l'agent, ou à défaut"),
        (_valid(admin.org_unit, login_id="M0001"), "login_id", "Un compte utilise déjà cet identifiant."),
        (_valid(admin.org_unit, login_id="m0002"), "login_id", "Cet identifiant ne peut pas être utilisé"),
        (_valid(admin.org_unit, login_id="jean@ville"), "login_id", "Identifiant invalide"),
        (_valid(admin.org_unit, login_id="é"), "login_id", "Identifiant invalide"),
    ]
    before = db.session.scalar(select(func.count()).select_from(User))
    for data, field, message in cases:
        response = client.post("/admin/agents/nouveau", data=data)
        assert response.status_code == 422
        assert message in field_errors(text(response), field), (data, text(response)[-3000:])
    assert db.session.scalar(select(func.count()).select_from(User)) == before


def test_sign_in_with_the_identifier_whatever_the_case(client):
    make_user(email=None, login_id="m04512")
    response = client.post("/connexion", data={"email": " M04512 ", "password": DEFAULT_PASSWORD})
    assert response.status_code == 303


def test_wrong_identifier_or_password_gives_the_usual_answer(client):
    make_user(email=None, login_id="m04512")
    for login in ("m04512", "m09999"):
        response = client.post("/connexion", data={"email": login, "password": "pas le bon mot de passe"})
        assert response.status_code == 422
        assert "Adresse électronique, identifiant ou mot de passe incorrect." in text(response)


def test_an_agent_without_an_address_is_notified_in_the_application_only(app):
    with_email = make_user()
    without = make_user(org_unit=with_email.org_unit, email=None, login_id="m04512")
    with app.test_request_context():
        assert notify([with_email, without], "proposals", "Votre proposition", "Elle avance.",
                      link("core.home")) == 2
    db.session.flush()
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == without.id)) == 1
    assert [m.recipient for m in db.session.scalars(select(OutboxMessage))] == [with_email.email]


def test_the_daily_digest_skips_agents_without_an_address(app):
    without = make_user(email=None, login_id="m04512")
    make_notification(without, digest_pending=True)
    with app.test_request_context():
        send_digests()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_forms_designate_an_agent_without_an_address_by_identifier(client, login):
    admin = make_user(roles=["admin"])
    login(client, admin)
    make_user(org_unit=admin.org_unit, email=None, login_id="m04512", first_name="Bruno")
    response = client.post("/admin/agents/nouveau", data=_valid(admin.org_unit, login_id="m0777", manager_email="M04512"))
    assert response.status_code == 303, text(response)
    agent = db.session.scalar(select(User).where(User.login_id == "m0777"))
    assert agent.manager.login_id == "m04512"
    page = text(client.get(f"/admin/agents/{agent.id}"))
    assert 'value="m04512"' in page  # the N+1 field shows the identifier
    response = client.post("/admin/collectif", data={"member_email": "m04512", "starts_on": "2026-01-05"})
    assert response.status_code == 303


def test_import_with_an_identifier_column(client, login):
    admin = make_user(roles=["admin"])
    make_org_unit(admin.institution, code="DST-VOI")
    login(client, admin)
    existing = make_user(org_unit=admin.org_unit, email="karim.benali@ville.fr", login_id="m0100")
    content = ("email;identifiant;prenom;nom;categorie;service;n_plus_1\n"
               ";M04512;Bruno;Lefort;C;DST-VOI;karim.benali@ville.fr\n"
               ";m0777;Aïcha;Diallo;C;DST-VOI;m04512\n"
               ";m0100;Karim;Benali;B;DST-VOI;\n")
    response = client.post("/admin/import", data={"file": (BytesIO(content.encode()), "agents.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 200, text(response)
    assert "2 agents créés, 1 mis à jour" in text(response)
    bruno = db.session.scalar(select(User).where(User.login_id == "m04512"))
    aicha = db.session.scalar(select(User).where(User.login_id == "m0777"))
    assert bruno.email is None and bruno.manager_id == existing.id and aicha.manager_id == bruno.id
    assert existing.email == "karim.benali@ville.fr"  # an empty cell removes nothing
    assert len(re.findall(r'name="agent"', text(response))) == 2  # the two without a password


def test_import_refuses_lines_without_address_nor_identifier(client, login):
    admin = make_user(roles=["admin"])
    make_org_unit(admin.institution, code="DST-VOI")
    make_user(org_unit=make_org_unit(make_institution()), login_id="m0002")
    login(client, admin)
    content = ("email;identifiant;prenom;nom;categorie;service\n"
               ";;Bruno;Lefort;C;DST-VOI\n"
               ";m0002;Aïcha;Diallo;C;DST-VOI\n"
               ";x@y;Eva;Durand;C;DST-VOI\n"
               ";m0003;Eva;Durand;C;DST-VOI\n"
               ";M0003;Eve;Durand;C;DST-VOI\n")
    page = text(client.post("/admin/import", data={"file": (BytesIO(content.encode()), "agents.csv")},
                            content_type="multipart/form-data"))
    assert "Ligne 2" in page and "Ni adresse électronique ni identifiant" in page
    assert "Cet identifiant ne peut pas être utilisé" in page
    assert "Identifiant invalide" in page and "Identifiant déjà présent ligne 5" in page
    # Twice the same identifier, beside two addresses: refused, never a database error.
    content = ("email;identifiant;prenom;nom;categorie;service\n"
               "a@ville.fr;m0009;Bruno;Lefort;C;DST-VOI\n"
               "b@ville.fr;M0009;Aïcha;Diallo;C;DST-VOI\n"
               ";m0009;Eva;Durand;C;DST-VOI\n")
    page = text(client.post("/admin/import", data={"file": (BytesIO(content.encode()), "agents.csv")},
                            content_type="multipart/form-data"))
    assert "Ligne 3 : Identifiant déjà présent ligne 2" in page and "Ligne 4 : Identifiant déjà présent ligne 2" in page
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email.is_(None))) == 0
    page = text(client.post("/admin/import", data={"file": (BytesIO(b"prenom;nom;categorie;service\n"), "a.csv")},
                            content_type="multipart/form-data"))
    assert "colonnes manquantes : email ou identifiant" in page


def test_anonymisation_covers_agents_without_an_address():
    departed = make_user(email=None, login_id="m04512", is_active=False,
                         deactivated_at=utcnow() - timedelta(days=365 * 6))
    make_account_token(departed, purpose="sheet")
    assert anonymise_departed(utcnow() - timedelta(days=365 * 5)) == 1
    assert departed.login_id is None and departed.email.endswith("@anonymise.invalid")
    assert db.session.scalar(select(AccountToken.revoked_at)) is not None


def test_retention_deletes_ended_tokens(app):
    user = make_user(activated=False)
    make_account_token(user, expires_at=utcnow() - timedelta(days=31))
    make_account_token(user, expires_at=utcnow() + timedelta(days=1))
    db.session.commit()
    output = app.test_cli_runner().invoke(args=["retention", "apply"]).output
    assert "1 lien(s) ou code(s) d'accès périmé(s) supprimé(s)" in output
    assert db.session.scalar(select(func.count()).select_from(AccountToken)) == 1


def test_the_token_of_a_link_is_masked_in_the_request_log(client, capsys):
    token = "Zx9" * 14 + "a"
    capsys.readouterr()
    client.get(f"/activation/{token}")
    client.get(f"/mot-de-passe-oublie/{token}")
    client.post(f"/activation/{token}", data={"password": "x", "confirm_password": "x"})
    err = capsys.readouterr().err
    assert token not in err
    assert "GET /activation/*** 200" in err and "GET /mot-de-passe-oublie/*** 200" in err
    assert "POST /activation/*** 422" in err


def test_an_agent_reads_their_identifier_on_their_account_page(client):
    user = make_user(email=None, login_id="m04512")
    client.post("/connexion", data={"email": "m04512", "password": DEFAULT_PASSWORD})
    page = text(client.get("/mon-compte"))
    assert "m04512" in page and "les notifications restent dans l'application" in page
    assert user.login == "m04512"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "auth.login")) == 1


def test_the_preferences_page_says_emails_do_not_reach_an_agent_without_an_address(client):
    make_user(email=None, login_id="m04512")
    client.post("/connexion", data={"email": "m04512", "password": DEFAULT_PASSWORD})
    assert "vos notifications restent dans l'application" in text(client.get("/notifications/preferences"))
