from sqlalchemy import func, select

from incubator.accounts.models import User
from incubator.audit.models import AuditEvent
from incubator.extensions import db
from tests.factories import make_institution, make_org_unit, make_user
from tests.helpers import text

HEADER = "email;prenom;nom;categorie;service;quotite;n_plus_1\n"


def _setup(login, client):
    admin = make_user(roles=["admin"])
    make_org_unit(admin.institution, code="DST-BAT")
    make_org_unit(admin.institution, code="DRUC-ACC")
    login(client, admin)
    return admin


def _upload(client, content: str | bytes, name="agents.csv"):
    from io import BytesIO

    raw = content.encode("utf-8") if isinstance(content, str) else content
    return client.post("/admin/import", data={"file": (BytesIO(raw), name)},
                       content_type="multipart/form-data")


def test_import_creates_and_updates_with_managers_from_file_and_base(client, login):
    admin = _setup(login, client)
    existing = make_user(org_unit=admin.org_unit, email="karim.benali@ville.fr", first_name="Karim")
    content = ("\ufeff" + HEADER +
               "lea.petit@ville.fr;Léa;Petit;C;dst-bat;80;karim.benali@ville.fr\n"
               "karim.benali@ville.fr;Karim;Benali;B;DST-BAT;;chef@ville.fr\n"
               "chef@ville.fr;Nora;Chef;A;DRUC-ACC;100;\n"
               "\n")
    response = _upload(client, content)
    assert response.status_code == 200, text(response)
    assert "2 agents créés, 1 mis à jour" in text(response)
    lea = db.session.scalar(select(User).where(User.email == "lea.petit@ville.fr"))
    chef = db.session.scalar(select(User).where(User.email == "chef@ville.fr"))
    assert (lea.quotite, lea.category, lea.manager_id, lea.password_hash) == (80, "C", existing.id, None)
    assert existing.manager_id == chef.id and existing.quotite == 100
    assert db.session.scalar(select(AuditEvent.data).where(AuditEvent.action == "agents.imported")) == {
        "created": 2, "updated": 1, "lines": 3}


def test_import_with_comma_separator(client, login):
    _setup(login, client)
    response = _upload(client, "email,prenom,nom,categorie,service\nx@ville.fr,X,Y,B,DST-BAT\n")
    assert response.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email == "x@ville.fr")) == 1


def test_bad_lines_are_all_reported_and_nothing_is_written(client, login):
    admin = _setup(login, client)
    other = make_institution()
    make_user(org_unit=make_org_unit(other), email="ailleurs@autre.fr")
    make_org_unit(admin.institution, code="FERME", closed_on=__import__("datetime").date(2020, 1, 1))
    before = db.session.scalar(select(func.count()).select_from(User))
    content = (HEADER +
               "ok@ville.fr;Ok;Ok;C;DST-BAT;;\n"                       # 2 fine
               "pas-une-adresse;A;B;C;DST-BAT;;\n"                    # 3
               "ok@ville.fr;Ok;Double;C;DST-BAT;;\n"                  # 4 duplicate
               "d@ville.fr;D;D;Z;DST-BAT;;\n"                         # 5 category
               "e@ville.fr;E;E;C;INCONNU;;\n"                         # 6 unit
               "f@ville.fr;F;F;C;DST-BAT;150;\n"                      # 7 quotite
               "g@ville.fr;G;G;C;DST-BAT;;personne@ville.fr\n"        # 8 manager unknown
               "ailleurs@autre.fr;H;H;C;DST-BAT;;\n"                  # 9 other institution
               "i@ville.fr;I;I;C;FERME;;\n"                           # 10 closed unit
               "j@ville.fr;;J;C;DST-BAT;;\n"                          # 11 first name missing
               "k@ville.fr;K;K;C\n"                                   # 12 short line
               "l@ville.fr;L;L;C;DST-BAT;;l@ville.fr\n")              # 13 own manager
    response = _upload(client, content)
    assert response.status_code == 422
    page = text(response)
    assert "Import refusé, rien n'a été écrit." in page
    for line, message in [
        (3, "Adresse électronique invalide"), (4, "Adresse déjà présente ligne 2"),
        (5, "Catégorie « Z »"), (6, "Service de code « INCONNU » inconnu"),
        (7, "Quotité « 150 »"), (8, "N+1 « personne@ville.fr » inconnu"),
        (9, "déjà utilisée par un autre compte"), (10, "est fermé"), (11, "Prénom manquant"),
        (12, "4 colonnes au lieu de 7"), (13, "propre N+1"),
    ]:
        assert f"Ligne {line} : " in page and message in page, (line, message)
    assert "Ligne 2 :" not in page
    assert db.session.scalar(select(func.count()).select_from(User)) == before


def test_manager_loop_in_file_is_refused(client, login):
    _setup(login, client)
    response = _upload(client, HEADER + "a@ville.fr;A;A;B;DST-BAT;;b@ville.fr\nb@ville.fr;B;B;B;DST-BAT;;a@ville.fr\n")
    assert response.status_code == 422
    assert "boucle" in text(response)
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email == "a@ville.fr")) == 0


def test_header_encoding_and_empty_files(client, login):
    _setup(login, client)
    assert "colonnes manquantes : service" in text(_upload(client, "email;prenom;nom;categorie\n"))
    assert "colonnes inconnues : salaire" in text(_upload(client, HEADER.strip() + ";salaire\n"))
    assert "UTF-8" in text(_upload(client, "email;prenom\n".encode("utf-16")))
    assert "vide" in text(_upload(client, ""))
    assert "Aucune ligne" in text(_upload(client, HEADER))
    response = client.post("/admin/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 422 and "Choisissez un fichier CSV." in text(response)


def test_cli_import_agents(app, tmp_path):
    admin = make_user(roles=["admin"])
    make_org_unit(admin.institution, code="DST-BAT")
    slug = admin.institution.slug
    db.session.commit()
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "cli@ville.fr;Cli;Agent;B;DST-BAT;;\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "cli2@ville.fr;Cli;Agent;X;DST-BAT;;\n", encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-agents", str(bad), "--institution", slug])
    assert result.exit_code == 1 and "ligne 2 : Catégorie « X »" in result.output
    result = runner.invoke(args=["import-agents", str(good), "--institution", slug])
    assert result.exit_code == 0, result.output
    assert "1 agent(s) créé(s)" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email.like("cli%"))) == 1
    result = runner.invoke(args=["import-agents", str(good), "--institution", "nulle-part"])
    assert result.exit_code == 1
