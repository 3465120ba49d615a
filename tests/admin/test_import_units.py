from datetime import date
from io import BytesIO

from sqlalchemy import func, select

from incubator.audit.models import AuditEvent
from incubator.extensions import db
from incubator.organisation.models import OrgUnit
from incubator.people.models import User
from tests.factories import make_institution, make_org_unit, make_user
from tests.helpers import text

HEADER = "code;nom;type;parent\n"


def _upload(client, content: str | bytes, name="unites.csv"):
    raw = content.encode("utf-8") if isinstance(content, str) else content
    return client.post("/admin/import-unites", data={"file": (BytesIO(raw), name)},
                       content_type="multipart/form-data")


def _units(institution) -> dict[str, tuple]:
    db.session.expire_all()
    rows = db.session.scalars(select(OrgUnit).where(OrgUnit.institution_id == institution.id))
    return {u.code: (u.name, u.kind, u.parent.code if u.parent else None) for u in rows}


def _lines(page: str) -> list[str]:
    import re

    return [re.sub(r"\s+", " ", item).strip()
            for item in re.findall(r'<li><a href="#file">(Ligne \d+ : .*?)</a></li>', page, re.S)]


def test_import_creates_and_updates_with_parents_in_any_order(client, login):
    admin = make_user(roles=["admin"])
    institution = admin.institution
    make_org_unit(institution, code="DG", name="Direction générale", kind="direction")
    make_org_unit(institution, code="DST", name="Ancien nom", kind="service")
    login(client, admin)
    content = ("\ufeff" + HEADER +
               "dst-bat;Service des bâtiments;;DST\n"  # parent later in the file
               "DST;Direction des services techniques;direction;DG\n"  # update: rename, kind, move
               "DST-VOI;Voirie;service;dst\n"
               "\n")
    response = _upload(client, content)
    assert response.status_code == 200, text(response)
    assert "2 unités créées, 1 mise à jour" in text(response)
    units = _units(institution)
    assert units["DST"] == ("Direction des services techniques", "direction", "DG")
    assert units["DST-BAT"] == ("Service des bâtiments", "service", "DST")
    assert units["DST-VOI"] == ("Voirie", "service", "DST")
    assert db.session.scalar(select(AuditEvent.data).where(AuditEvent.action == "org_units.imported")) == {
        "created": 2, "updated": 1, "lines": 3}


def test_without_parent_column_existing_parents_are_kept(client, login):
    admin = make_user(roles=["admin"])
    top = make_org_unit(admin.institution, code="DG", kind="direction")
    make_org_unit(admin.institution, code="RH", parent=top)
    login(client, admin)
    response = _upload(client, "code,nom\nRH,Ressources humaines\n")
    assert response.status_code == 200, text(response)
    assert _units(admin.institution)["RH"] == ("Ressources humaines", "service", "DG")


def test_bad_lines_are_all_reported_and_nothing_is_written(client, login):
    admin = make_user(roles=["admin"])
    institution = admin.institution
    make_org_unit(institution, code="FERME", closed_on=date(2020, 1, 1))
    a = make_org_unit(institution, code="A", kind="direction")
    make_org_unit(institution, code="B", parent=a)
    login(client, admin)
    before = _units(institution)
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    content = (HEADER +
               "OK;Une unité correcte;service;\n"         # 2
               "mauvais code!;Nom correct;service;\n"     # 3
               "X1;N;service;\n"                           # 4 name too short
               "X2;Nom correct;pôle;\n"                    # 5 bad type
               "X3;Nom correct;service;INCONNU\n"          # 6 unknown parent
               "X4;Nom correct;service;FERME\n"            # 7 closed parent
               "OK;Doublon;service;\n"                     # 8 duplicate
               "X5;Nom correct;service;X5\n"               # 9 itself
               "A;Direction A;direction;B\n"               # 10 cycle with the base
               "X6;Trop;de;colonnes;ici\n")               # 11 width
    response = _upload(client, content)
    assert response.status_code == 422
    page = text(response)
    assert "rien n'a été écrit" in page
    lines = _lines(page)
    assert [line.split(" : ")[0] for line in lines] == [f"Ligne {n}" for n in range(3, 12)], lines
    assert "Code « mauvais code! »" in lines[0]
    assert "entre 2 et 200 caractères" in lines[1]
    assert "direction ou service attendu" in lines[2]
    assert "« INCONNU » inconnue" in lines[3]
    assert "« FERME » est fermée" in lines[4]
    assert "déjà présent ligne 2" in lines[5]
    assert "elle-même" in lines[6]
    assert "boucle" in lines[7]
    assert "5 colonnes au lieu de 4" in lines[8]
    assert _units(institution) == before
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_cycle_inside_the_file_is_refused(client, login):
    admin = make_user(roles=["admin"])
    login(client, admin)
    before = _units(admin.institution)
    response = _upload(client, HEADER + "P;Unité P;;Q\nQ;Unité Q;;P\n")
    assert response.status_code == 422
    assert [line.split(" : ")[0] for line in _lines(text(response))] == ["Ligne 2", "Ligne 3"]
    assert _units(admin.institution) == before


def test_header_problems(client, login):
    login(client, make_user(roles=["admin"]))
    response = _upload(client, "code;libelle\nA;Nom\n")
    assert response.status_code == 422
    assert "colonnes manquantes : nom" in text(response) and "colonnes inconnues : libelle" in text(response)


def test_windows_1252_file_with_accents(client, login):
    admin = make_user(roles=["admin"])
    login(client, admin)
    raw = (HEADER + "DEF;Direction de l'enfance et de la famille;direction;\n"
           "DEF-CRE;Crèches et accueil périscolaire;service;DEF\n").encode("cp1252")
    response = _upload(client, raw)
    assert response.status_code == 200, text(response)
    assert _units(admin.institution)["DEF-CRE"] == ("Crèches et accueil périscolaire", "service", "DEF")


def test_non_admin_is_refused(client, login):
    agent = make_user()
    login(client, agent)
    assert client.get("/admin/import-unites").status_code == 403
    assert client.get("/admin/import-unites/modele.csv").status_code == 403
    before = db.session.scalar(select(func.count()).select_from(OrgUnit))
    assert _upload(client, HEADER + "NEW;Nouvelle unité;;\n").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(OrgUnit)) == before


def test_admin_of_another_institution_cannot_touch_its_units(client, login):
    admin = make_user(roles=["admin"])
    other = make_institution()
    theirs = make_org_unit(other, code="DRH", name="Leur direction", kind="direction")
    login(client, admin)
    response = _upload(client, HEADER + "DRH;Notre direction;direction;\nSUB;Sous-service;;DRH\n")
    assert response.status_code == 200, text(response)
    db.session.expire_all()
    assert (theirs.name, theirs.institution_id) == ("Leur direction", other.id)
    assert _units(other) == {"DRH": ("Leur direction", "direction", None)}
    assert _units(admin.institution)["SUB"] == ("Sous-service", "service", "DRH")
    # A parent code of the other institution only is unknown here.
    make_org_unit(other, code="AILLEURS")
    response = _upload(client, HEADER + "X;Unité X;;AILLEURS\n")
    assert response.status_code == 422 and "« AILLEURS » inconnue" in text(response)


def test_service_refuses_an_admin_of_another_institution(app):
    import pytest

    from incubator.errors import NotAllowed
    from incubator.organisation.importer import import_units

    admin = make_user(roles=["admin"])
    other = make_institution()
    with pytest.raises(NotAllowed):
        import_units(admin, institution_id=other.id, raw=(HEADER + "Z;Unité Z;;\n").encode())
    assert _units(other) == {}


def test_templates_download(client, login):
    admin = make_user(roles=["admin"])
    login(client, admin)
    for path, header, link in (
        ("/admin/import-unites/modele.csv", "code;nom;type;parent", "/admin/import-unites"),
        ("/admin/import/modele.csv", "email;identifiant;prenom;nom;categorie;service;quotite;n_plus_1;matricule",
         "/admin/import"),
    ):
        response = client.get(path)
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        raw = response.get_data()
        assert raw.startswith(b"\xef\xbb\xbf")
        lines = raw.decode("utf-8-sig").splitlines()
        assert lines[0] == header and len(lines) >= 2
        assert path in text(client.get(link))
    assert "/admin/import-unites" in text(client.get("/admin/services"))


def test_template_is_accepted_by_its_import(client, login):
    admin = make_user(roles=["admin"])
    login(client, admin)
    raw = client.get("/admin/import-unites/modele.csv").get_data()
    response = _upload(client, raw)
    assert response.status_code == 200, text(response)
    assert _units(admin.institution)["DST-BAT"][2] == "DST"
    # Then the agents template, as the README's production steps do: units first, then agents.
    agents = client.get("/admin/import/modele.csv").get_data()
    response = client.post("/admin/import", data={"file": (BytesIO(agents), "agents.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 200, text(response)
    db.session.expire_all()
    lea = db.session.scalar(select(User).where(User.email == "lea.petit@ville.fr"))
    assert lea.manager.email == "karim.benali@ville.fr" and lea.org_unit.code == "DST-BAT"
    assert (lea.manager.employee_number, lea.employee_number) == ("A00127", None)


def test_cli_import_units(app, tmp_path):
    institution = make_institution()
    slug = institution.slug
    db.session.commit()
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "CLI;Unité de la ligne de commande;direction;\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "CLI2;Unité;service;NULLE\n", encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-units", str(bad), "--institution", slug])
    assert result.exit_code == 1 and "ligne 2 : Unité parente « NULLE » inconnue" in result.output
    result = runner.invoke(args=["import-units", str(good), "--institution", slug])
    assert result.exit_code == 0, result.output
    assert "1 unité(s) créée(s), 0 mise(s) à jour" in result.output
    assert _units(institution) == {"CLI": ("Unité de la ligne de commande", "direction", None)}
    result = runner.invoke(args=["import-units", str(good), "--institution", "nulle-part"])
    assert result.exit_code == 1
