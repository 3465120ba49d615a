"""The HR report for the CIA campaign: search by name or matricule, direction and service,
and the files (period on the first line / in the heading, XLSX layout, sheet by project)."""

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from incubator.audit.models import AuditEvent
from incubator.exports import sheet_title
from incubator.extensions import db
from incubator.organisation.models import OrgUnit
from tests.factories import (
    make_institution,
    make_org_unit,
    make_project,
    make_time_entry,
    make_user,
)
from tests.helpers import text


@pytest.fixture
def world():
    hr = make_user(roles=["hr"], last_name="Rh", first_name="Rose")
    institution = hr.institution
    direction = make_org_unit(institution, kind="direction", name="Direction technique")
    service = make_org_unit(institution, parent=direction, name="Bâtiments")
    team = make_org_unit(institution, parent=service, name="Équipe menuiserie")  # a service under a service
    loose = make_org_unit(institution, name="Accueil")  # a service with no direction above
    camille = make_user(org_unit=team, last_name="Martin", first_name="Camille", quotite=80, category="C",
                        employee_number="M-0042")
    marc = make_user(org_unit=direction, last_name="Martinez", first_name="Marc", employee_number="M-0007")
    nadia = make_user(org_unit=loose, last_name="Benali", first_name="Nadia")
    # Another institution's agent named like ours: never in a page or a file.
    other = make_institution()
    make_user(org_unit=make_org_unit(other), last_name="Martin", first_name="Intrus", employee_number="M-0042")
    carnet = make_project(institution, title="Carnet des bâtiments", starts_on=date(2026, 1, 1),
                          ends_on=date(2026, 12, 31))
    accueil = make_project(institution, title="Accueil unique", starts_on=date(2026, 1, 1),
                           ends_on=date(2026, 12, 31))
    make_time_entry(camille, carnet, day=date(2026, 3, 2), minutes=135, status="approved")
    make_time_entry(camille, accueil, day=date(2026, 3, 3), minutes=60, status="approved")
    make_time_entry(camille, accueil, day=date(2025, 12, 1), minutes=600, status="approved")  # out of the period
    make_time_entry(marc, carnet, day=date(2026, 4, 1), minutes=90, status="approved")
    make_time_entry(nadia, carnet, day=date(2026, 4, 1), minutes=30, status="submitted")  # not approved
    return {"hr": hr, "camille": camille, "marc": marc, "nadia": nadia}


def _csv(response):
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:], newline=""), delimiter=";"))


@pytest.mark.parametrize("q, found", [
    ("martin", {"Martin Camille", "Martinez Marc"}),
    ("MARTIN", {"Martin Camille", "Martinez Marc"}),
    ("camille martin", {"Martin Camille"}),
    ("Martin Camille", {"Martin Camille"}),
    ("m-0007", {"Martinez Marc"}),
    ("100%_", set()),  # LIKE wildcards are taken literally
])
def test_search_by_name_or_matricule(world, client, login, q, found):
    login(client, world["hr"])
    page = text(client.get("/rh/engagement", query_string={"annee": 2026, "q": q}))
    shown = {name for name in ("Martin Camille", "Martinez Marc", "Benali Nadia", "Martin Intrus") if name in page}
    assert shown == found
    if not found:
        assert "Aucun agent ne correspond à « 100%_ »" in page


def test_search_is_kept_in_pagination_and_export_links_and_logged(world, client, login):
    for n in range(55):
        make_user(org_unit=world["camille"].org_unit, last_name=f"Martin-{n:02d}")
    login(client, world["hr"])
    page = text(client.get("/rh/engagement?annee=2026&q=martin"))
    assert 'href="/rh/engagement?annee=2026&q=martin&page=2"' in page
    assert 'href="/rh/engagement?annee=2026&q=martin&format=csv"' in page
    assert 'value="martin"' in page
    rows = _csv(client.get("/rh/engagement?annee=2026&q=martinez&format=csv"))
    assert [row[1] for row in rows[2:]] == ["Martinez"]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("engagement.%"))
                                .order_by(AuditEvent.id)).all()
    assert [(e.action, e.data["q"]) for e in events] == [("engagement.listed", "martin"),
                                                         ("engagement.exported", "martinez")]


@pytest.mark.parametrize("role", ["agent", "manager", "coordinator", "admin"])
def test_export_with_a_search_is_for_hr_only(world, client, login, role):
    user = make_user(org_unit=world["camille"].org_unit, roles=[] if role in ("agent", "manager") else [role])
    if role == "manager":
        world["camille"].manager = user
    login(client, user)
    for export in ("csv", "xlsx"):
        assert client.get(f"/rh/engagement?q=martin&format={export}").status_code == 403
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "engagement.exported")) is None


def test_csv_period_line_columns_and_units(world, client, login):
    login(client, world["hr"])
    response = client.get("/rh/engagement?du=2026-01-01&au=2026-12-31&format=csv")
    assert 'filename=engagement-2026-01-01-2026-12-31.csv' in response.headers["Content-Disposition"]
    rows = _csv(response)
    assert rows[0] == ["Période : du 1er janvier 2026 au 31 décembre 2026"]
    header = rows[1]
    assert header[:8] == ["matricule", "nom", "prénom", "adresse", "direction", "service", "catégorie", "quotité"]
    by_name = {row[1] + " " + row[2]: dict(zip(header, row, strict=True)) for row in rows[2:]}
    assert "Martin Intrus" not in by_name
    camille = by_name["Martin Camille"]
    assert (camille["matricule"], camille["direction"], camille["service"]) == (
        "M-0042", "Direction technique", "Équipe menuiserie")
    assert (camille["quotité"], camille["heures validées"]) == ("80", "3,25")  # 135 + 60 minutes
    assert camille["détail par projet"] == "Accueil unique : 1 h | Carnet des bâtiments : 2,25 h"
    marc = by_name["Martinez Marc"]
    assert (marc["direction"], marc["service"], marc["heures validées"]) == ("Direction technique", "", "1,5")
    nadia = by_name["Benali Nadia"]
    assert (nadia["matricule"], nadia["direction"], nadia["service"], nadia["heures validées"]) == (
        "", "", "Accueil", "0")


def test_xlsx_layout_read_back(world, client, login):
    login(client, world["hr"])
    response = client.get("/rh/engagement?annee=2026&format=xlsx")
    assert response.status_code == 200
    assert 'filename=engagement-2026-01-01-2026-12-31.xlsx' in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["Engagement 2026", "Par projet"]
    sheet = workbook["Engagement 2026"]
    assert sheet["A1"].value == "Relevé d'engagement du 1er janvier 2026 au 31 décembre 2026"
    assert sheet["A1"].font.b
    header = [cell.value for cell in sheet[2]]
    assert header[:3] == ["matricule", "nom", "prénom"] and all(cell.font.b for cell in sheet[2])
    assert sheet.freeze_panes == "D3"
    last = sheet.max_row
    assert last == 2 + 4  # hr, three agents
    assert sheet.auto_filter.ref == f"A2:Y{last}" and len(header) == 25
    assert sheet.column_dimensions["B"].width == 18 and sheet.column_dimensions["J"].width == 40
    rows = {(r[1].value, r[2].value): {h: c for h, c in zip(header, r, strict=True)}
            for r in sheet.iter_rows(min_row=3)}
    camille = rows[("Martin", "Camille")]
    assert camille["heures validées"].value == pytest.approx(3.25)
    assert camille["heures validées"].number_format == "0.00"
    assert camille["quotité"].value == 80 and camille["quotité"].number_format == '0" %"'
    assert camille["propositions"].value == 0 and camille["propositions"].number_format == "0"
    assert camille["matricule"].value == "M-0042" and camille["matricule"].data_type == "s"
    assert ("Martin", "Intrus") not in rows
    by_project = workbook["Par projet"]
    assert by_project.freeze_panes == "D3" and all(cell.font.b for cell in by_project[2])
    assert [c.value for c in by_project[2]] == ["matricule", "nom", "prénom", "direction", "service", "projet",
                                                "heures validées"]
    values = [[c.value for c in r] for r in by_project.iter_rows(min_row=3)]
    assert values == [
        ["M-0042", "Martin", "Camille", "Direction technique", "Équipe menuiserie", "Accueil unique", 1],
        ["M-0042", "Martin", "Camille", "Direction technique", "Équipe menuiserie", "Carnet des bâtiments", 2.25],
        ["M-0007", "Martinez", "Marc", "Direction technique", None, "Carnet des bâtiments", 1.5],
    ]
    assert by_project.auto_filter.ref == "A2:G5"
    assert by_project["G3"].number_format == "0.00"


def test_xlsx_of_a_search_and_a_shorter_period(world, client, login):
    login(client, world["hr"])
    response = client.get("/rh/engagement?du=2026-03-01&au=2026-03-31&q=camille&format=xlsx")
    assert 'filename=engagement-2026-03-01-2026-03-31.xlsx' in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["2026-03-01 au 2026-03-31", "Par projet"]
    sheet = workbook.worksheets[0]
    assert sheet["A1"].value == "Relevé d'engagement du 1er mars 2026 au 31 mars 2026"
    assert [r[1].value for r in sheet.iter_rows(min_row=3)] == ["Martin"]
    assert sheet.auto_filter.ref == "A2:Y3"
    assert [r[5].value for r in workbook["Par projet"].iter_rows(min_row=3)] == ["Accueil unique",
                                                                                 "Carnet des bâtiments"]


def test_empty_export_keeps_its_header_and_filter(world, client, login):
    login(client, world["hr"])
    workbook = load_workbook(io.BytesIO(client.get("/rh/engagement?annee=2026&q=personne&format=xlsx").data))
    assert workbook.worksheets[0].auto_filter.ref == "A2:Y2"
    assert workbook["Par projet"].max_row == 2
    assert _csv(client.get("/rh/engagement?annee=2026&q=personne&format=csv"))[2:] == []


def test_the_units_are_read_once_then_again_after_any_change(world, client, login, count_queries):
    """The process keeps the institution's unit tree while its units are unchanged (units.py):
    a rename, a move or a new unit, by any path, shows in the next file."""
    login(client, world["hr"])

    def camille_places():
        with count_queries() as counter:
            rows = _csv(client.get("/rh/engagement?annee=2026&format=csv"))
        by_name = {row[1] + " " + row[2]: dict(zip(rows[1], row, strict=True)) for row in rows[2:]}
        read_units = any("FROM org_units" in statement for statement in counter.statements)
        # The units' token comes with the session (the person's institution): no query of its own.
        assert not [s for s in counter.statements if s.startswith("SELECT institutions.org_units_token")]
        return (by_name["Martin Camille"]["direction"], by_name["Martin Camille"]["service"]), read_units

    assert camille_places() == (("Direction technique", "Équipe menuiserie"), True)
    assert camille_places() == (("Direction technique", "Équipe menuiserie"), False)
    team = world["camille"].org_unit
    team.name = "Équipe charpente"
    db.session.commit()
    assert camille_places() == (("Direction technique", "Équipe charpente"), True)
    team.parent = make_org_unit(team.institution, kind="direction", name="Direction du patrimoine")
    db.session.commit()
    assert camille_places() == (("Direction du patrimoine", "Équipe charpente"), True)
    # Written without the models (as a directory or a bulk load may): the database draws the token.
    db.session.execute(update(OrgUnit).where(OrgUnit.id == team.id).values(name="Équipe bois"))
    db.session.commit()
    assert camille_places() == (("Direction du patrimoine", "Équipe bois"), True)
    assert camille_places()[1] is False


def test_export_reads_the_database_a_fixed_number_of_times(world, client, login, count_queries):
    login(client, world["hr"])
    client.get("/rh/engagement?annee=2026&format=xlsx")  # the process reads the units once (units.py)
    with count_queries() as few:
        client.get("/rh/engagement?annee=2026&format=xlsx")
    for n in range(30):
        agent = make_user(org_unit=world["camille"].org_unit, last_name=f"Zz{n:02d}", employee_number=f"Z{n}")
        make_time_entry(agent, day=date(2026, 5, 4), minutes=60, status="approved")
    with count_queries() as many:
        client.get("/rh/engagement?annee=2026&format=xlsx")
    assert few.count == many.count


@pytest.mark.parametrize("raw, expected", [
    ("Engagement 2026", "Engagement 2026"),
    ("a/b\\c[d]e:f*g?h", "a-b-c-d-e-f-g-h"),
    ("x" * 40, "x" * 31),
    ("''", "Feuille"),
])
def test_sheet_titles_excel_accepts(raw, expected):
    assert sheet_title(raw) == expected
