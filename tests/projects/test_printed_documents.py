"""The three documents an administration prints and files: letterhead, « Fait à …, le … »
and a signature block (its look on paper: tests/e2e/test_print_journeys.py)."""

import re
from datetime import date, datetime

import pytest
import time_machine

from incubator.timeutil import PARIS
from tests.factories import (
    make_application,
    make_institution,
    make_org_unit,
    make_project,
    make_project_member,
    make_proposal,
    make_user,
)
from tests.helpers import text

DAY = datetime(2026, 3, 1, 10, tzinfo=PARIS)  # a Sunday: « le 1er mars 2026 »


@pytest.fixture(autouse=True)
def on_a_known_day():
    with time_machine.travel(DAY):
        yield


def _block(page: str) -> str:
    found = re.search(r'<section class="signature-block".*?</section>', page, re.S)
    assert found, "no signature block"
    return re.sub(r"<[^>]+>", " ", found.group(0))


@pytest.mark.parametrize("name, place", [
    ("Ville de Belleville-sur-Loire", "Belleville-sur-Loire"),
    ("CCAS de Belleville-sur-Loire", "Belleville-sur-Loire"),
    ("Commune d'Annecy", "Annecy"),
    ("Mairie de Lyon", "Lyon"),
    ("Département de l'Isère", "Département de l'Isère"),
    ("Ville de ", "Ville de "),
])
def test_signing_place_comes_from_the_name(name, place):
    assert make_institution(name).signing_place == place


def test_mission_letter(client, login):
    institution = make_institution("Ville de Belleville-sur-Loire")
    unit = make_org_unit(institution)
    boss = make_user(org_unit=unit, first_name="Nora", last_name="Chef")
    lead = make_user(org_unit=unit, first_name="Léa", last_name="Petit", manager=boss)
    sponsor = make_user(org_unit=unit, first_name="Karim", last_name="Benali")
    project = make_project(institution, title="Carnet des bâtiments", lead=lead, sponsor=sponsor,
                           starts_on=date(2026, 3, 2), ends_on=date(2026, 6, 30))
    make_project_member(project, lead, hours_budget=40)
    login(client, lead)
    page = text(client.get(f"/projets/{project.id}/lettre-de-mission"))
    assert '<p class="letterhead-name">Ville de Belleville-sur-Loire</p>' in page
    block = " ".join(_block(page).split())
    assert "Fait à Belleville-sur-Loire, le 1er mars 2026" in block
    for words in ("Le ou la commanditaire Karim Benali", "Le ou la chef·fe de projet Léa Petit",
                  "N+1 de Léa Petit Nora Chef"):
        assert words in block


def test_engagement_record(client, login):
    institution = make_institution("CCAS de Belleville-sur-Loire")
    boss = make_user(org_unit=make_org_unit(institution), first_name="Nora", last_name="Chef")
    agent = make_user(org_unit=boss.org_unit, first_name="Camille", last_name="Martin", manager=boss,
                      employee_number="M-0042")
    login(client, agent)
    page = text(client.get("/mon-engagement?annee=2026"))
    assert '<p class="letterhead-name">CCAS de Belleville-sur-Loire</p>' in page
    assert "Relevé d'engagement du 1er janvier 2026 au 31 décembre 2026" in page
    assert "Camille Martin, matricule M-0042" in page
    block = " ".join(_block(page).split())
    assert "Fait à Belleville-sur-Loire, le 1er mars 2026" in block
    assert "L'agent Camille Martin" in block
    assert "Le ou la N+1, qui conduit l'entretien professionnel Nora Chef" in block


def test_immersion_agreement_between_employers(client, login):
    host_institution = make_institution("Ville de Belleville-sur-Loire")
    host = make_user(org_unit=make_org_unit(host_institution))
    partner = make_institution("Commune partenaire")
    boss = make_user(org_unit=make_org_unit(partner))
    visitor = make_user(org_unit=boss.org_unit, manager=boss, first_name="Jade", last_name="Roux")
    offer = make_proposal(author=host, kind="mobility", state="accepted", places=1, open_to="partners",
                          window_starts_on=date(2026, 6, 1), window_ends_on=date(2026, 6, 30), duration_days=5)
    project = make_project(host_institution, kind="immersion", title="Immersion de Jade Roux", proposal=offer,
                           lead=host, starts_on=date(2026, 6, 1), ends_on=date(2026, 6, 5))
    make_project_member(project, visitor, role="Agent en immersion", hours_budget=35)
    make_application(offer, visitor, manager=boss, starts_on=date(2026, 6, 1), ends_on=date(2026, 6, 5),
                     working_days=5, status="selected", project_id=project.id, decided_at=datetime(2026, 2, 2, 9))
    login(client, visitor)
    page = text(client.get(f"/projets/{project.id}/convention"))
    assert '<p class="letterhead-name">Ville de Belleville-sur-Loire</p>' in page
    block = " ".join(_block(page).split())
    assert "Fait à Belleville-sur-Loire, le 1er mars 2026" in block
    assert "Pour l'employeur d'origine Commune partenaire" in block
    assert "Pour l'employeur d'accueil Ville de Belleville-sur-Loire" in block and "L'agent Jade Roux" in block
