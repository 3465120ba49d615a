"""What agents and administrators read about the directory: the personal-data page, the
agent's page in the administration, and anonymisation, which takes the directory's
identifiers away too."""

from __future__ import annotations

from datetime import timedelta

from incubator.extensions import db
from incubator.people.models import User
from incubator.people.services import anonymise_departed
from incubator.timeutil import utcnow
from tests.factories import make_user
from tests.helpers import text


def test_personal_data_page_says_what_comes_from_the_directory(client):
    page = " ".join(text(client.get("/donnees-personnelles")).split())
    assert "annuaire (LDAP, Active Directory)" in page and "matricule" in page
    assert "ni mot de passe, ni téléphone, ni photo, ni groupes" in page
    assert "le matricule et l'identifiant d'annuaire sont effacés" in page


def test_the_agent_page_says_the_directory_keeps_the_record(client, login):
    admin = make_user(role="admin")
    synced = make_user(institution=admin.institution, directory_key="6c0e4f9a", employee_number="1004")
    by_hand = make_user(institution=admin.institution)
    login(client, admin)
    assert "Fiche tenue par l'annuaire de la collectivité (matricule 1004)" in text(
        client.get(f"/admin/agents/{synced.id}"))
    assert "Fiche tenue par l'annuaire" not in text(client.get(f"/admin/agents/{by_hand.id}"))


def test_anonymisation_removes_the_directory_identifiers():
    gone = make_user(directory_key="6c0e4f9a", employee_number="1004", is_active=False,
                     deactivated_at=utcnow() - timedelta(days=6 * 365))
    assert anonymise_departed(utcnow() - timedelta(days=5 * 365)) == 1
    user = db.session.get(User, gone.id)
    assert user.directory_key is None and user.employee_number is None
