"""Every export is inert in a spreadsheet: hostile text in every text column of every CSV
and XLSX the application writes (HR report, dashboard charts, journal of decisions) comes
out neutralised in CSV and as plain string cells in XLSX, numbers staying numbers."""

import csv
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from incubator.extensions import db
from tests.factories import (
    make_decision,
    make_org_unit,
    make_project,
    make_proposal,
    make_theme,
    make_time_entry,
    make_user,
)

# Written here, not imported: the test must not trust the module it checks.
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
HOSTILE = ['=HYPERLINK("http://x","y")', "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1", "=cmd|/c calc!A1"]
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # the charset said once
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:], newline=""), delimiter=";"))


def assert_inert(rows: list[list[str]], expected_text: list[str]) -> None:
    """No cell starts a formula, and each hostile value is there, neutralised."""
    cells = [cell for row in rows for cell in row]
    for cell in cells:
        assert not cell.startswith(TRIGGERS), repr(cell)
    for value in expected_text:
        assert any(cell.startswith("'" + value) for cell in cells), value


@pytest.fixture
def hostile_world():
    """An institution whose every free text is hostile: names, units, themes, projects,
    proposal titles, decision reasons and rationales."""
    hr = make_user(roles=["hr", "coordinator"], last_name="Rh")
    theme_ids, agents = [], []
    for n, value in enumerate(HOSTILE):
        direction = make_org_unit(hr.institution, kind="direction", name=value)
        agent = make_user(org_unit=direction, last_name=value, first_name=value, email=f"{value}{n}@exemple.fr",
                          category="C")
        project = make_project(hr.institution, title=value)
        make_time_entry(agent, project, day=date(2026, 3, 2), minutes=90, status="approved")
        theme_ids.append(make_theme(hr.institution, value).id)
        agents.append(agent)
    for n, (agent, value) in enumerate(zip(agents, HOSTILE, strict=True)):
        proposal = make_proposal(author=agent, state="not_eligible", title=value, theme_id=theme_ids[n])
        proposal.submitted_at = datetime(2026, 3, 2, 9)
        make_decision(proposal, outcome="not_eligible", reason=value, rationale=value, decided_by=hr,
                      published_at=datetime(2026, 3, 3, 9))
    db.session.flush()
    return hr


def test_hr_csv_is_inert(hostile_world, client, login):
    login(client, hostile_world)
    rows = csv_rows(client.get("/rh/engagement?annee=2026&format=csv"))
    assert rows[0] == ["Période : du 1er janvier 2026 au 31 décembre 2026"]
    header = rows[1]
    assert_inert(rows, HOSTILE)
    by_name = {row[header.index("nom")]: row for row in rows[2:]}
    for value in HOSTILE:
        row = by_name["'" + value]
        for column in ("nom", "prénom", "direction"):  # each agent's unit is a direction
            assert row[header.index(column)] == "'" + value
        assert row[header.index("adresse")].startswith("'" + value.lower())  # addresses are stored lowercase
        assert row[header.index("détail par projet")] == f"'{value} : 1,5 h"
        assert row[header.index("heures validées")] == "1,5"  # numbers keep their decimal comma


def test_hr_xlsx_has_string_cells_and_no_formula(hostile_world, client, login):
    login(client, hostile_world)
    response = client.get("/rh/engagement?annee=2026&format=xlsx")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    sheets = [name for name in archive.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name)]
    assert sheets
    for name in sheets:
        root = ET.fromstring(archive.read(name))
        assert root.findall(f".//{MAIN}f") == [], "a formula element in the sheet"
        for cell in root.iter(f"{MAIN}c"):
            # Text inline or shared, or a number; never "str" (a formula's cached result).
            assert cell.get("t") in (None, "n", "s", "inlineStr"), cell.get("t")
    workbook = load_workbook(io.BytesIO(response.data))
    sheet = workbook.active
    header = [cell.value for cell in sheet[2]]  # under the heading
    seen = set()
    for row in sheet.iter_rows(min_row=3):
        for cell in row:
            assert cell.data_type in ("s", "n"), (cell.coordinate, cell.data_type, cell.value)  # never "f"
        values = {header[i]: cell for i, cell in enumerate(row)}
        name = values["nom"].value
        if name == "Rh":
            continue
        assert values["nom"].data_type == "s" and values["prénom"].value == name
        assert values["direction"].value == name and values["détail par projet"].value == f"{name} : 1,5 h"
        assert values["heures validées"].data_type == "n" and values["heures validées"].value == 1.5
        assert values["quotité"].data_type == "n" and values["quotité"].value == 100
        assert values["propositions"].data_type == "n" and values["propositions"].value == 1
        seen.add(name)
    # Every hostile name came back as its own text (XML turns a lone "\r" into "\n").
    assert seen == {value.replace("\r", "\n") for value in HOSTILE}
    # The sheet by project too: names, units and project titles as text.
    by_project = workbook["Par projet"]
    titles = [row[5].value for row in by_project.iter_rows(min_row=3)]
    assert sorted(titles) == sorted(value.replace("\r", "\n") for value in HOSTILE)
    assert all(row[5].data_type == "s" and row[6].data_type == "n" for row in by_project.iter_rows(min_row=3))


def test_every_dashboard_csv_is_inert(hostile_world, client, login, server, monkeypatch):
    monkeypatch.setitem(server.config, "MIN_GROUP_SIZE", 1)  # labels and figures both written
    login(client, hostile_world)
    page = client.get("/tableau-de-bord?annee=2026").get_data(as_text=True)
    charts = sorted(set(re.findall(r"graphique=([\w-]+)", page)))
    assert len(charts) == 9  # the coordinator's charts: every one of them
    labels = []
    for chart in charts:
        rows = csv_rows(client.get(f"/tableau-de-bord?annee=2026&format=csv&graphique={chart}"))
        assert rows[0] == ["libellé", "valeur"]
        assert_inert(rows, [])
        labels += [row[0] for row in rows[1:]]
        for _label, value in rows[1:]:
            assert re.fullmatch(r"\d+(,\d+)?", value), value  # a number, decimal comma
    # Theme names, and unit names in the two charts by direction.
    for value in HOSTILE:
        assert labels.count("'" + value) == 3, value


def test_journal_csv_is_inert(hostile_world, client, login):
    login(client, hostile_world)
    rows = csv_rows(client.get("/arbitrage/journal?format=csv"))
    header = rows[0]
    assert len(rows) == 1 + len(HOSTILE)
    assert_inert(rows, HOSTILE)
    for row in rows[1:]:
        title = row[header.index("titre")]
        assert row[header.index("motif")] == title and row[header.index("motivation")] == title
        assert row[header.index("proposition")].isdigit()


def test_the_export_module_rule():
    from incubator import exports

    assert exports.FORMULA_TRIGGERS == TRIGGERS
    for value in HOSTILE:
        assert exports.neutralise(value) == "'" + value
    assert exports.neutralise("Écologie = avenir") == "Écologie = avenir"
    assert [exports.csv_cell(v) for v in (2.5, 4.0, 80, None, "-1")] == ["2,5", "4", "80", "", "'-1"]


def test_xlsx_drops_characters_a_sheet_cannot_hold_and_marks_formula_like_text(app):
    from incubator import exports

    with app.test_request_context():
        response = exports.xlsx_response("x.xlsx", "Feuille", ["texte", "nombre"], [["\x01=1", 2.5], ["", None]])
        response.direct_passthrough = False
        data = response.get_data()
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert b"<f>" not in archive.read("xl/worksheets/sheet1.xml")
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.active
    assert (sheet["A2"].value, sheet["A2"].data_type, sheet["B2"].value) == ("=1", "s", 2.5)
    assert sheet["A2"].quotePrefix and not sheet["A1"].quotePrefix  # Excel's own « text typed with ' »
    assert sheet["A3"].value is None
