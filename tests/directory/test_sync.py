"""`flask directory sync` against a real OpenLDAP server (conftest.py): creation, a second
run that changes nothing, changes, departures, the agents it must not touch, dry runs, the
safety brake, and French errors when the directory cannot be read."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from incubator.audit.models import AuditEvent
from incubator.extensions import db
from incubator.organisation.models import OrgUnit
from incubator.people.models import User
from incubator.proposals.models import Proposal
from incubator.release_time.models import TimeEntry
from tests.factories import make_institution, make_proposal, make_time_entry, make_user

from .conftest import AGENTS, ROOT_DN


@pytest.fixture
def sync(app, directory, monkeypatch):
    """Run the command for an institution (a new one unless given) with the test's directory."""
    institution = make_institution(slug="ville")

    def run(*args, institution=institution, **config):
        for key, value in directory.config(**config).items():
            monkeypatch.setitem(app.config, key, value)
        db.session.commit()
        result = app.test_cli_runner().invoke(args=["directory", "sync", "--institution",
                                                    institution.slug, *args])
        db.session.expire_all()
        assert "Traceback" not in result.output
        return result

    run.institution = institution
    return run


def agent(directory, uid: str) -> User:
    return db.session.scalar(select(User).where(User.email == directory.email(uid)))


def counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (User, OrgUnit, AuditEvent))


def test_first_sync_creates_agents_units_and_managers(sync, directory):
    result = sync()
    assert result.exit_code == 0, result.output
    assert f"Agents créés ({len(AGENTS)})" in result.output
    units = {u.code: u for u in db.session.scalars(select(OrgUnit))}
    assert set(units) == {"DG", "DRH", "DST", "DST-BAT"}
    assert units["DRH"].name == "Direction des ressources humaines"
    assert units["DST-BAT"].parent.code == "DST" and units["DG"].parent is None
    claire, lea, tom = agent(directory, "dgs"), agent(directory, "rh1"), agent(directory, "bat2")
    assert (lea.first_name, lea.last_name, lea.category, lea.org_unit.code) == ("Léa", "Petit", "B", "DRH")
    assert lea.manager == agent(directory, "drh") and agent(directory, "drh").manager == claire
    assert claire.manager is None and claire.employee_number == "1001" and claire.directory_key
    assert tom.category == "B"  # « Catégorie B »
    assert lea.password_hash is None and lea.is_active and lea.quotite == 100
    # The N+1 of the last one is not in the directory: said, by entry, and she is synced anyway.
    assert agent(directory, "orphan").manager is None
    assert f"! {directory.agent_dn('orphan')} : N+1 « uid=inconnu" in result.output
    events = db.session.scalars(select(AuditEvent.action)).all()
    assert events.count("user.created") == len(AGENTS) and events.count("org_unit.created") == 4
    assert events.count("directory.synced") == 1


def test_second_sync_changes_nothing(sync):
    assert sync().exit_code == 0
    before = counts()
    result = sync()
    assert result.exit_code == 0, result.output
    assert "Aucun changement" in result.output and "Agents créés" not in result.output
    assert counts() == before


def test_changes_in_the_directory_are_applied(sync, directory):
    sync()
    directory.modify("rh1", departmentNumber="DST", sn="Petit-Dubois", manager=directory.agent_dn("dst"))
    directory.modify("bat1", mail="ines.moreau-lambert@ville.test", employeeType="B")
    result = sync()
    assert result.exit_code == 0, result.output
    lea = agent(directory, "rh1")
    assert lea.last_name == "Petit-Dubois" and lea.org_unit.code == "DST"
    assert lea.manager == agent(directory, "dst")
    assert ("~ Léa Petit-Dubois <lea.petit@ville.test> : nom Petit → Petit-Dubois ; service DRH → DST ; "
            "N+1 paul.durand@ville.test → nadia.benali@ville.test") in result.output
    ines = db.session.scalar(select(User).where(User.email == "ines.moreau-lambert@ville.test"))
    assert ines.category == "B" and ines.employee_number == "1006"
    updated = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.updated")).all()
    assert {e.target_id for e in updated} == {lea.id, ines.id}
    assert updated[0].data["source"] == "directory"


def test_a_departure_deactivates_the_agent_and_keeps_their_history(sync, directory):
    sync()
    hugo = agent(directory, "rh2")
    proposal = make_proposal(author=hugo)
    entry = make_time_entry(hugo)
    db.session.commit()
    directory.delete("rh2")
    result = sync()
    assert result.exit_code == 0, result.output
    assert "Agents désactivés (partis de l'annuaire ; leur historique est conservé) (1)" in result.output
    hugo = agent(directory, "rh2")
    assert not hugo.is_active and hugo.deactivated_at is not None
    assert db.session.get(Proposal, proposal.id).author_id == hugo.id
    assert db.session.get(TimeEntry, entry.id).user_id == hugo.id
    assert agent(directory, "rh1").is_active
    # Back in the directory: reported, not silently reactivated.
    directory.add_agent(*next(a for a in AGENTS if a[0] == "rh2"))
    result = sync()
    assert "est désactivé dans l'Incubateur : ni réactivé ni modifié" in result.output
    assert not agent(directory, "rh2").is_active


def test_agents_made_by_hand_are_untouched_and_existing_ones_are_linked(sync, directory):
    institution = sync.institution
    unit = make_user(institution=institution).org_unit
    by_hand = make_user(institution=institution, org_unit=unit, email="jean.main@ville.test",
                        first_name="Jean", last_name="Main", quotite=80)
    # The same person as an entry, found by address the first time (another case), then by key.
    lea = make_user(institution=institution, org_unit=unit, email="Lea.Petit@ville.test".lower(),
                    first_name="Lea", last_name="Petit", quotite=50, category="C")
    # Found by employee number, although the address differs.
    tom = make_user(institution=institution, org_unit=unit, email="t.garnier@ville.test",
                    employee_number="1007")
    result = sync()
    assert result.exit_code == 0, result.output
    assert f"Agents créés ({len(AGENTS) - 2})" in result.output
    db.session.refresh(by_hand)
    assert by_hand.is_active and by_hand.directory_key is None and by_hand.quotite == 80
    lea, tom = db.session.get(User, lea.id), db.session.get(User, tom.id)
    assert lea.directory_key and lea.first_name == "Léa" and lea.category == "B" and lea.quotite == 50
    assert tom.email == directory.email("bat2") and tom.directory_key
    # Deleting every entry but one would deactivate only agents that came from the directory.
    for uid, *_ in AGENTS[1:]:
        directory.delete(uid)
    assert sync("--force").exit_code == 0
    assert db.session.get(User, by_hand.id).is_active
    assert not db.session.get(User, lea.id).is_active


def test_dry_run_writes_nothing(sync, directory):
    before = counts()
    result = sync("--dry-run")
    assert result.exit_code == 0, result.output
    assert f"Agents créés ({len(AGENTS)})" in result.output and "Services créés (4)" in result.output
    assert "Simulation (--dry-run) : rien n'a été écrit." in result.output
    assert counts() == before
    sync()
    directory.delete("rh2")
    directory.modify("rh1", sn="Petit-Dubois")
    before = counts()
    result = sync("--dry-run")
    assert "Agents désactivés" in result.output and "nom Petit → Petit-Dubois" in result.output
    assert counts() == before
    assert agent(directory, "rh2").is_active and agent(directory, "rh1").last_name == "Petit"


def test_safety_brake(sync, directory):
    assert sync().exit_code == 0
    for uid in ("rh1", "rh2", "bat1"):
        directory.delete(uid)
    before = counts()
    result = sync()
    assert result.exit_code == 1
    assert "Synchronisation refusée : La synchronisation désactiverait 3 agent(s) sur 8" in result.output
    assert counts() == before and agent(directory, "rh1").is_active
    assert sync(DIRECTORY_MAX_DEACTIVATION_PERCENT=50).exit_code == 0
    assert not agent(directory, "rh1").is_active


def test_safety_brake_when_the_directory_returns_nobody(sync, directory):
    sync()
    before = counts()
    result = sync(DIRECTORY_USER_FILTER="(uid=personne)")
    assert result.exit_code == 1 and "L'annuaire n'a renvoyé aucun agent" in result.output
    assert counts() == before
    result = sync("--force", DIRECTORY_USER_FILTER="(uid=personne)")
    assert result.exit_code == 0 and "Frein de sécurité levé par --force" in result.output
    assert not agent(directory, "dgs").is_active


def test_manager_loop_is_reported_not_applied(sync, directory):
    sync()
    directory.modify("dgs", manager=directory.agent_dn("rh1"))  # rh1 → drh → dgs → rh1
    result = sync()
    assert result.exit_code == 0, result.output
    assert f"! {directory.agent_dn('dgs')} : la chaîne des N+1 formerait une boucle" in result.output
    assert agent(directory, "dgs").manager is None
    directory.modify("rh1", manager=directory.agent_dn("rh1"))
    assert "un agent ne peut être son propre N+1" in sync().output
    assert agent(directory, "rh1").manager == agent(directory, "drh")


def test_last_administrator_is_not_deactivated(sync, directory):
    claire = make_user(institution=sync.institution, email=directory.email("dgs"), roles=["admin"])
    sync()
    directory.delete("dgs")
    result = sync()
    assert result.exit_code == 0, result.output
    assert "parti de l'annuaire, mais non désactivé : C'est le dernier compte d'administration" in result.output
    assert db.session.get(User, claire.id).is_active


def test_other_institutions_are_untouched(sync, directory):
    other = make_institution(slug="ccas")
    elsewhere = make_user(institution=other, directory_key="cle-du-ccas", email=directory.email("bat1"))
    result = sync()
    assert result.exit_code == 0, result.output
    assert db.session.get(User, elsewhere.id).is_active
    assert "agent non créé : adresse « ines.moreau@ville.test » : cette adresse ne peut pas être utilisée" in result.output
    assert db.session.scalar(select(func.count()).select_from(User).where(
        User.institution_id == sync.institution.id)) == len(AGENTS) - 1
    # The other institution synced from the same directory: its own units; its agent found
    # by address, the others' addresses refused there; the first institution unchanged.
    result = sync(institution=other)
    assert result.exit_code == 0, result.output
    assert {"DG", "DRH", "DST", "DST-BAT"} <= set(db.session.scalars(
        select(OrgUnit.code).where(OrgUnit.institution_id == other.id)))
    assert db.session.get(User, elsewhere.id).directory_key not in (None, "cle-du-ccas")
    assert db.session.scalar(select(func.count()).select_from(User).where(
        User.institution_id == sync.institution.id, User.is_active.is_(True))) == len(AGENTS) - 1


@pytest.mark.parametrize("config, message", [
    ({"DIRECTORY_BIND_PASSWORD": "faux-mot-de-passe"}, "identifiant ou mot de passe du compte de lecture incorrect"),
    ({"DIRECTORY_BIND_DN": f"cn=personne,{ROOT_DN.split(',', 1)[1]}"}, "identifiant ou mot de passe"),
    ({"DIRECTORY_BASE_DN": "ou=absente,dc=ville,dc=test"}, "La branche « ou=absente,dc=ville,dc=test » n'existe pas"),
    ({"DIRECTORY_URL": "ldap://127.0.0.1:1"}, "L'annuaire ne répond pas (ldap://127.0.0.1:1)"),
    ({"DIRECTORY_URL": "http://annuaire"}, "DIRECTORY_URL invalide"),
    ({"DIRECTORY_URL": None}, "DIRECTORY_URL manquante"),
    ({"DIRECTORY_USER_FILTER": "(mail=*"}, "Filtre de recherche invalide"),
])
def test_unreadable_directory_is_a_french_error(sync, config, message):
    before = counts()
    result = sync(**config)
    assert result.exit_code == 1
    assert message in result.output
    assert counts() == before


def test_tls_failures_are_french_errors(sync, directory, tmp_path):
    """The test server speaks plain LDAP: ldaps:// and StartTLS fail, without a traceback."""
    result = sync(DIRECTORY_URL=directory.server.url.replace("ldap://", "ldaps://"))
    assert result.exit_code == 1 and "Échec de la connexion chiffrée (TLS)" in result.output
    result = sync(DIRECTORY_START_TLS=True)
    assert result.exit_code == 1 and "StartTLS a échoué" in result.output
    result = sync(DIRECTORY_CA_FILE=str(tmp_path / "absent.pem"))
    assert result.exit_code == 1 and "DIRECTORY_CA_FILE : fichier" in result.output
