"""Invitations by email and printed activation sheets, through the real app: who may send
or print them, single use, expiry, a new one ending the previous one, the state shown on
the agent list, and a deactivated agent refused."""

import re
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
import time_machine
from sqlalchemy import func, select

from incubator.accounts import recovery
from incubator.accounts.models import AccountToken
from incubator.errors import InvalidTransition, NotAllowed
from incubator.extensions import db
from incubator.notifications.models import OutboxMessage
from tests.factories import (
    make_account_request,
    make_account_token,
    make_institution,
    make_org_unit,
    make_user,
)
from tests.helpers import text

PASSWORD = "une grange bleue au bord du canal"
LINK = re.compile(r"http://127\.0\.0\.1:5000/activation/([A-Za-z0-9_-]{43})")
CODE = re.compile(r'<dd class="code">([A-Z0-9]{4}(?:-[A-Z0-9]{4}){3})</dd>')
# In UTC: a day count across the change to summer time (29 March) stays 24-hour days.
MONDAY_MORNING = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def admin_client(make_client, login):
    admin = make_user(roles=["admin"], email="admin@ville.fr")
    client = make_client()
    login(client, admin)
    client.admin = admin
    return client


def invite(client, user):
    return client.post(f"/admin/agents/{user.id}/invitation")


def link_of(message: OutboxMessage) -> str:
    return LINK.search(message.text).group(1)


def invitations_to(address):
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == address)
                                   .order_by(OutboxMessage.id)))


def activate(client, token, password=PASSWORD):
    return client.post(f"/activation/{token}", data={"password": password, "confirm_password": password})


def print_sheet(client, user):
    return client.post(f"/admin/agents/{user.id}/fiche-activation")


def use_code(client, login, code, password=PASSWORD, **kwargs):
    return client.post("/activation", data={"login": login, "code": code, "password": password,
                                            "confirm_password": password}, **kwargs)


def test_an_invitation_lets_the_agent_choose_a_password_once(admin_client, make_client):
    agent = make_user(org_unit=admin_client.admin.org_unit, email="lea.petit@ville.fr", first_name="Léa",
                      activated=False)
    page = text(admin_client.get(f"/admin/agents/{agent.id}"))
    assert "Jamais invité" in page and "Envoyer l'invitation" in page
    response = invite(admin_client, agent)
    assert response.status_code == 303
    assert "L'invitation a été envoyée" in text(admin_client.get(response.headers["Location"]))
    (message,) = invitations_to("lea.petit@ville.fr")
    token = link_of(message)
    assert "Bonjour Léa" in message.text and "7 jours" in message.text and token not in message.subject
    assert "Invitation envoyée le" in text(admin_client.get(f"/admin/agents/{agent.id}"))

    visitor = make_client()
    form = visitor.get(f"/activation/{token}")
    assert form.status_code == 200 and "Activer mon compte" in text(form)
    assert form.headers["Referrer-Policy"] == "no-referrer"
    response = activate(visitor, token)
    assert response.status_code == 303 and response.headers["Location"] == "/connexion"
    assert visitor.post("/connexion", data={"email": "lea.petit@ville.fr", "password": PASSWORD}).status_code == 303
    assert "Compte activé" in text(admin_client.get(f"/admin/agents/{agent.id}"))
    # Single use.
    assert "Ce lien n'est pas ou plus valable" in text(make_client().get(f"/activation/{token}"))
    assert activate(make_client(), token, "encore une phrase assez longue").status_code == 422


def test_resending_ends_the_previous_link(admin_client, make_client):
    agent = make_user(org_unit=admin_client.admin.org_unit, activated=False)
    invite(admin_client, agent)
    invite(admin_client, agent)
    first, second = (link_of(m) for m in invitations_to(agent.email))
    assert activate(make_client(), first).status_code == 422
    assert activate(make_client(), second).status_code == 303


def test_an_invitation_expires_after_seven_days(make_client, login):
    admin = make_user(roles=["admin"])
    agent = make_user(org_unit=admin.org_unit, activated=False)
    with time_machine.travel(MONDAY_MORNING):
        admin_client = make_client()
        login(admin_client, admin)  # (a session cookie signed in the future would be refused)
        invite(admin_client, agent)
    token = link_of(invitations_to(agent.email)[0])
    with time_machine.travel(MONDAY_MORNING + timedelta(days=6, hours=23)):
        assert "Activer mon compte" in text(make_client().get(f"/activation/{token}"))
    with time_machine.travel(MONDAY_MORNING + timedelta(days=7, minutes=1)):
        assert "Ce lien n'est pas ou plus valable" in text(make_client().get(f"/activation/{token}"))
        assert activate(make_client(), token).status_code == 422
        admin_client = make_client()
        login(admin_client, admin)
        assert "(expirée)" in text(admin_client.get("/admin/agents?activation=invited"))


def test_a_deactivated_agent_can_neither_be_invited_nor_activate(admin_client, make_client):
    agent = make_user(org_unit=admin_client.admin.org_unit, activated=False)
    invite(admin_client, agent)
    token = link_of(invitations_to(agent.email)[0])
    agent.is_active = False
    assert activate(make_client(), token).status_code == 422
    assert "Envoyer l'invitation" not in text(admin_client.get(f"/admin/agents/{agent.id}"))
    assert invite(admin_client, agent).status_code == 409
    assert len(invitations_to(agent.email)) == 1


def test_an_activated_agent_is_not_invited(admin_client):
    agent = make_user(org_unit=admin_client.admin.org_unit)
    page = text(admin_client.get(f"/admin/agents/{agent.id}"))
    assert "Compte activé" in page and "Envoyer l'invitation" not in page
    assert invite(admin_client, agent).status_code == 409
    assert invitations_to(agent.email) == []


def test_only_the_agents_administration_invites_or_prints(admin_client, make_client, login):
    agent = make_user(org_unit=admin_client.admin.org_unit, login_id="m0042", activated=False)
    colleague = make_client()
    login(colleague, make_user(org_unit=agent.org_unit, roles=["hr"]))
    assert invite(colleague, agent).status_code == 403
    assert print_sheet(colleague, agent).status_code == 403
    outsider = make_client()
    other_admin = make_user(org_unit=make_org_unit(make_institution()), roles=["admin"])
    login(outsider, other_admin)
    # Another institution's administration does not even learn that the agent exists...
    assert invite(outsider, agent).status_code == 404
    assert print_sheet(outsider, agent).status_code == 404
    # ...and the services refuse it all the same.
    with pytest.raises(NotAllowed):
        recovery.invite(other_admin, agent)
    with pytest.raises(NotAllowed):
        recovery.issue_activation_sheet(other_admin, agent)
    assert db.session.scalar(select(func.count()).select_from(AccountToken)) == 0


def test_the_agent_list_shows_and_filters_the_access_state(admin_client):
    unit = admin_client.admin.org_unit
    make_user(org_unit=unit, last_name="Active")
    invited = make_user(org_unit=unit, last_name="Invitee", activated=False)
    make_account_token(invited, purpose="invitation")
    make_user(org_unit=unit, last_name="Oubliee", activated=False)
    page = text(admin_client.get("/admin/agents"))
    assert "Compte activé" in page and "Invitation envoyée le" in page and "Jamais invité" in page
    invited_only = text(admin_client.get("/admin/agents?activation=invited"))
    assert "Invitee" in invited_only and "Oubliee" not in invited_only and "Active " not in invited_only
    never = text(admin_client.get("/admin/agents?activation=never"))
    assert "Oubliee" in never and "Invitee" not in never
    activated = text(admin_client.get("/admin/agents?activation=activated"))
    assert "Active" in activated and "Oubliee" not in activated


def test_the_agents_of_an_import_are_invited_together(admin_client):
    unit = make_org_unit(admin_client.admin.institution, code="DST-BAT")
    csv = ("email;identifiant;prenom;nom;categorie;service\n"
           "lea.petit@ville.fr;;Léa;Petit;C;DST-BAT\n"
           ";m04512;Bruno;Lefort;C;DST-BAT\n")
    page = text(admin_client.post("/admin/import", data={"file": (BytesIO(csv.encode()), "agents.csv")},
                                  content_type="multipart/form-data"))
    assert "2 agents créés" in page and "Envoyer les invitations" in page
    ids = re.findall(r'name="agent" value="(\d+)"', page)
    assert len(ids) == 2
    response = admin_client.post("/admin/import/invitations", data={"agent": ids})
    assert response.status_code == 303
    assert "1 invitation envoyée. 1 agent n'en a pas reçu" in text(admin_client.get(response.headers["Location"]))
    assert len(invitations_to("lea.petit@ville.fr")) == 1
    assert unit.id  # the import used the unit
    # Ids of another institution are skipped, never invited.
    stranger = make_user(org_unit=make_org_unit(make_institution()), activated=False)
    response = admin_client.post("/admin/import/invitations", data={"agent": [str(stranger.id)]})
    assert invitations_to(stranger.email) == []


def test_an_activation_sheet_shows_its_code_once_and_activates_the_account(admin_client, make_client):
    agent = make_user(org_unit=admin_client.admin.org_unit, email=None, login_id="m04512", first_name="Bruno",
                      activated=False)
    page = text(admin_client.get(f"/admin/agents/{agent.id}"))
    assert "Envoyer l'invitation" not in page and "Imprimer une fiche d'activation" in page
    response = print_sheet(admin_client, agent)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    sheet = text(response)
    code = CODE.search(sheet).group(1)
    assert "m04512" in sheet and "http://127.0.0.1:5000/activation" in sheet and "Ce qu'il faut faire" in sheet
    assert code not in text(admin_client.get(f"/admin/agents/{agent.id}"))
    assert "Fiche d'activation remise le" in text(admin_client.get(f"/admin/agents/{agent.id}"))
    stored = db.session.scalar(select(AccountToken))
    assert stored.purpose == "sheet" and code.replace("-", "") not in stored.token_hash

    visitor = make_client()
    assert "Activer mon compte avec ma fiche" in text(visitor.get("/activation"))
    # Typed loosely: lower case, no dashes, spaces around.
    response = use_code(visitor, " M04512 ", f" {code.replace('-', '').lower()} ")
    assert response.status_code == 303, text(response)[:3000]
    assert visitor.post("/connexion", data={"email": "m04512", "password": PASSWORD}).status_code == 303
    # Single use.
    refused = use_code(make_client(), "m04512", code, "encore une autre phrase longue")
    assert refused.status_code == 422 and "Identifiant ou code incorrect" in text(refused)


def test_a_new_sheet_ends_the_previous_code_and_codes_expire(make_client, login):
    admin = make_user(roles=["admin"])
    agent = make_user(org_unit=admin.org_unit, email=None, login_id="m04512", activated=False)
    with time_machine.travel(MONDAY_MORNING):
        admin_client = make_client()
        login(admin_client, admin)
        first = CODE.search(text(print_sheet(admin_client, agent))).group(1)
        second = CODE.search(text(print_sheet(admin_client, agent))).group(1)
        assert use_code(make_client(), "m04512", first).status_code == 422
    with time_machine.travel(MONDAY_MORNING + timedelta(days=30, minutes=1)):
        assert use_code(make_client(), "m04512", second).status_code == 422
    with time_machine.travel(MONDAY_MORNING + timedelta(days=29)):
        assert use_code(make_client(), "m04512", second).status_code == 303


def test_wrong_codes_are_throttled_per_identifier_and_per_client(app, admin_client, make_client):
    agent = make_user(org_unit=admin_client.admin.org_unit, email=None, login_id="m04512", activated=False)
    code = CODE.search(text(print_sheet(admin_client, agent))).group(1)
    for n in range(app.config["ACTIVATION_CODE_MAX_FAILURES_PER_ACCOUNT"]):
        assert use_code(make_client(), "m04512", "AAAA-AAAA-AAAA-AAAA",
                        environ_base={"REMOTE_ADDR": f"10.0.0.{n}"}).status_code == 422
    refused = use_code(make_client(), "m04512", code, environ_base={"REMOTE_ADDR": "10.0.9.9"})
    assert refused.status_code == 429 and "Trop d'essais" in text(refused)
    # Per client, whatever the identifiers typed: the right code from that client is refused too.
    other = make_user(org_unit=agent.org_unit, email=None, login_id="m07777", activated=False)
    other_code = CODE.search(text(print_sheet(admin_client, other))).group(1)
    for n in range(app.config["ACTIVATION_CODE_MAX_FAILURES_PER_CLIENT"]):
        make_account_request(f"inconnu{n}", kind="code", ip_address="192.0.2.7")
    assert use_code(make_client(), "m07777", other_code, environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 429
    assert use_code(make_client(), "m07777", other_code, environ_base={"REMOTE_ADDR": "192.0.2.8"}).status_code == 303


def test_a_deactivated_agent_cannot_use_a_sheet(admin_client, make_client):
    agent = make_user(org_unit=admin_client.admin.org_unit, email=None, login_id="m04512", activated=False)
    code = CODE.search(text(print_sheet(admin_client, agent))).group(1)
    agent.is_active = False
    response = use_code(make_client(), "m04512", code)
    assert response.status_code == 422 and "Identifiant ou code incorrect" in text(response)
    assert print_sheet(admin_client, agent).status_code == 409


def test_the_services_refuse_what_the_pages_hide():
    admin = make_user(roles=["admin"])
    activated = make_user(org_unit=admin.org_unit)
    with pytest.raises(InvalidTransition):
        recovery.invite(admin, activated)
    with pytest.raises(InvalidTransition):
        recovery.issue_activation_sheet(admin, activated)
    without_email = make_user(org_unit=admin.org_unit, email=None, login_id="m1", activated=False)
    with pytest.raises(InvalidTransition):
        recovery.invite(admin, without_email)
