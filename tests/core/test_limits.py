"""A limit is defined once and read by the forms, the services, the import, the column
and the pages: the quotité range, the cap's warning share, the largest id, text lengths."""

from __future__ import annotations

import re
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from incubator.errors import ValidationFailed
from incubator.extensions import db
from incubator.people import services as people_services
from incubator.people.models import QUOTITE_MAX, QUOTITE_MIN
from incubator.release_time import services as time_services
from tests.factories import make_org_unit, make_project, make_user
from tests.helpers import field_errors, text

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("quotite, accepted", [
    (QUOTITE_MIN - 1, False), (QUOTITE_MIN, True), (QUOTITE_MAX, True), (QUOTITE_MAX + 1, False)])
def test_the_quotite_range_is_the_same_everywhere(client, login, quotite, accepted):
    admin = make_user(roles=["admin"])
    make_org_unit(admin.institution, code="DST")
    login(client, admin)
    # The form.
    data = {"first_name": "Léa", "last_name": "Petit", "email": "lea@ville.fr", "category": "C",
            "quotite": str(quotite), "org_unit_id": str(admin.org_unit_id), "manager_email": ""}
    response = client.post("/admin/agents/nouveau", data=data)
    assert response.status_code == (303 if accepted else 422)
    if not accepted:
        assert field_errors(text(response), "quotite") == f"Entre {QUOTITE_MIN} et {QUOTITE_MAX}."
    # The service.
    data |= {"email": "noe@ville.fr", "quotite": quotite, "org_unit_id": admin.org_unit_id}
    if accepted:
        people_services.create_user(admin, institution_id=admin.institution_id, data=data)
    else:
        with pytest.raises(ValidationFailed) as refused:
            people_services.create_user(admin, institution_id=admin.institution_id, data=data)
        assert f"entre {QUOTITE_MIN} et {QUOTITE_MAX}" in refused.value.errors["quotite"][0]
    db.session.rollback()
    # The import.
    csv = f"email;prenom;nom;categorie;service;quotite\nana@ville.fr;Ana;Roy;B;DST;{quotite}\n"
    response = client.post("/admin/import", data={"file": (BytesIO(csv.encode()), "agents.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == (200 if accepted else 422)
    if not accepted:
        assert f"entier de {QUOTITE_MIN} à {QUOTITE_MAX} attendu" in text(response)
    # The column.
    column = {"org_unit": admin.org_unit, "first_name": "Col", "last_name": "Onne", "email": "col@ville.fr",
              "category": "A", "quotite": quotite}
    if accepted:
        make_user(**column)
    else:
        with pytest.raises(IntegrityError):
            make_user(**column)
    db.session.rollback()


def test_the_import_page_and_the_part_time_mark_read_the_range(client, login):
    admin = make_user(roles=["admin"])
    make_user(org_unit=admin.org_unit, last_name="Partiel", quotite=QUOTITE_MAX - 20)
    login(client, admin)
    assert f"{QUOTITE_MIN} à {QUOTITE_MAX} ({QUOTITE_MAX} par défaut)" in text(client.get("/admin/import"))
    agents = text(client.get("/admin/agents"))
    assert f"B · {QUOTITE_MAX - 20} %" in agents and f"B · {QUOTITE_MAX} %" not in agents


@pytest.mark.parametrize("share, warned", [(0.8, False), (0.5, True)])
def test_the_week_page_warns_from_the_share_the_submission_warns_from(client, login, monkeypatch, share, warned):
    monkeypatch.setattr(time_services, "WARN_SHARE", share)
    manager = make_user()
    agent = make_user(org_unit=manager.org_unit, manager=manager)
    project = make_project(title="Carnet", starts_on=date(2026, 9, 1), ends_on=date(2027, 6, 30),
                           members=(agent,), member_role="Membre", hours_budget=100)
    login(client, agent)
    monday = date(2026, 11, 16)  # cap of the month: 26,78 h; 16 h are 60 % of it
    hours = {f"h-{project.id}-202611{day}": "4" for day in (16, 17, 18, 19)}
    response = client.post(f"/mon-temps?semaine={monday}", data=hours | {"action": "submit"})
    assert response.status_code == 303
    page = text(client.get(response.headers["Location"]))
    assert ("Vous atteignez 60 % de votre plafond" in page) is warned  # the submission's warning
    assert ("Au-delà du plafond, la transmission sera refusée" in page) is warned  # the page's
    assert ('class="flash flash-warning" role="status">Ce mois-ci' in page) is warned


def test_no_limit_is_retyped():
    """The largest id is defined once (dbutil.MAX_ID); pages take their lengths from the
    forms or the context (a form's Length gives its field a maxlength)."""
    python = list((ROOT / "incubator").rglob("*.py"))
    ids = [f"{p.relative_to(ROOT)}:{n}" for p in python
           for n, line in enumerate(p.read_text().splitlines(), 1) if re.search(r"2\s*\*\*\s*31", line)]
    assert ids == ["incubator/dbutil.py:" + str(next(
        n for n, line in enumerate((ROOT / "incubator/dbutil.py").read_text().splitlines(), 1)
        if "MAX_ID = " in line))], ids
    typed = [f"{p.relative_to(ROOT)}:{n}" for p in (ROOT / "templates").rglob("*.html")
             for n, line in enumerate(p.read_text().splitlines(), 1)
             if re.search(r'(max|min)length="\d', line)]
    assert not typed, typed


def test_an_id_past_the_largest_is_unknown_not_an_error(client, login):
    from incubator.dbutil import MAX_ID

    author = make_user()
    login(client, author)
    for theme, message in ((MAX_ID, "Thème inconnu."),  # an id the database could hold: looked up
                           (MAX_ID + 1, "Choix non valide, ne peut pas être converti."),  # never sent
                           (10**30, "Choix non valide, ne peut pas être converti.")):
        response = client.post("/propositions/nouvelle", data={"title": "Un carnet numérique", "theme_id": str(theme),
                                                                "intent": "draft"})
        assert response.status_code == 422 and field_errors(text(response), "theme_id") == message
    assert client.get(f"/propositions?theme={MAX_ID + 1}").status_code == 200
