from sqlalchemy import func, select

from incubator.audit.models import AuditEvent
from incubator.extensions import db
from incubator.people.models import User
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
        (9, "Cette adresse ne peut pas être utilisée : vérifiez-la ou contactez l'administration de l'instance."), (10, "est fermé"), (11, "Prénom manquant"),
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


def _lines(page: str) -> list[str]:
    """The import's refusals, one per line of the file."""
    import re

    return [re.sub(r"\s+", " ", item).strip()
            for item in re.findall(r'<li><a href="#file">(Ligne \d+ : .*?)</a></li>', page, re.S)]


def _profile(user: User) -> tuple:
    db.session.refresh(user)
    return (user.first_name, user.last_name, user.category, user.quotite, user.org_unit_id, user.manager_id,
            user.institution_id)


def test_an_address_of_another_institution_is_refused_without_saying_it_exists(client, login):
    admin = _setup(login, client)
    elsewhere = make_user(org_unit=make_org_unit(make_institution()), email="ailleurs@autre.fr")
    before, users = _profile(elsewhere), db.session.scalar(select(func.count()).select_from(User))
    response = _upload(client, HEADER +
                       "nouveau@ville.fr;Nouveau;Agent;B;DST-BAT;;\n"
                       "ailleurs@autre.fr;Pirate;Pirate;A;DST-BAT;50;\n"
                       "personne@anonymise.invalid;Per;Sonne;A;DST-BAT;;\n")
    assert response.status_code == 422
    neutral = "Cette adresse ne peut pas être utilisée : vérifiez-la ou contactez l'administration de l'instance."
    assert _lines(text(response)) == [f"Ligne 3 : {neutral}", f"Ligne 4 : {neutral}"]
    assert _profile(elsewhere) == before
    assert db.session.scalar(select(func.count()).select_from(User)) == users
    assert admin.institution_id != elsewhere.institution_id


def test_import_never_changes_the_instance_administrators_account_for_a_local_admin(client, login, make_client):
    admin = _setup(login, client)
    root = make_user(org_unit=admin.org_unit, roles=["admin"], is_instance_admin=True, email="root@ville.fr",
                     first_name="Racine", last_name="Instance", category="A", quotite=100)
    peer = make_user(org_unit=admin.org_unit, roles=["admin"], email="pair@ville.fr", first_name="Pair")
    before, users = _profile(root), db.session.scalar(select(func.count()).select_from(User))
    content = (HEADER +
               "nouveau@ville.fr;Nouveau;Agent;B;DST-BAT;;\n"
               "root@ville.fr;Pris;Enmain;C;DRUC-ACC;50;nouveau@ville.fr\n")
    response = _upload(client, content)
    assert response.status_code == 422
    assert _lines(text(response)) == [
        "Ligne 3 : Ce compte administre l'instance : seule l'administration de l'instance peut le modifier."]
    # All or nothing: the valid line is not written either.
    assert _profile(root) == before
    assert db.session.scalar(select(func.count()).select_from(User)) == users
    # Another local administrator's account: the form allows it, so does the import.
    response = _upload(client, HEADER + "pair@ville.fr;Pair;Modifié;A;DRUC-ACC;80;\n")
    assert response.status_code == 200, _lines(text(response))
    assert (peer.last_name, peer.quotite) == ("Modifié", 80)
    # The instance administrator may change it, as in the form.
    root_browser = make_client()
    login(root_browser, root)
    response = _upload(root_browser, content)
    assert response.status_code == 200, _lines(text(response))
    db.session.refresh(root)
    assert (root.first_name, root.category, root.quotite) == ("Pris", "C", 50)


def test_files_as_french_spreadsheets_save_them(client, login):
    """Excel's "CSV (séparateur : point-virgule)" (Windows-1252), "CSV UTF-8" (with its byte
    order mark) and LibreOffice's UTF-8 are read alike; "Texte Unicode" (UTF-16) is refused
    with how to save the file, and nothing is written."""
    _setup(login, client)
    for number, encoding in enumerate(("cp1252", "utf-8-sig", "utf-8")):
        content = HEADER + f"helene{number}@ville.fr;Hélène;Lefèvre-Œuvray;B;DST-BAT;;\n"
        response = _upload(client, content.encode(encoding))
        assert response.status_code == 200, (encoding, text(response))
        helene = db.session.scalar(select(User).where(User.email == f"helene{number}@ville.fr"))
        assert (helene.first_name, helene.last_name) == ("Hélène", "Lefèvre-Œuvray"), encoding
    before = db.session.scalar(select(func.count()).select_from(User))
    refused = _upload(client, (HEADER + "ana@ville.fr;Ana;Agent;B;DST-BAT;;\n").encode("utf-16"))
    assert refused.status_code == 422
    assert "Texte Unicode" in text(refused) and "CSV UTF-8" in text(refused)
    assert db.session.scalar(select(func.count()).select_from(User)) == before


def test_matricule_is_an_optional_last_column(client, login):
    admin = _setup(login, client)
    other = make_institution()
    make_user(org_unit=make_org_unit(other), employee_number="B-77")  # another institution: no clash
    kept = make_user(org_unit=admin.org_unit, email="garde@ville.fr", employee_number="A-1")
    content = (HEADER.rstrip("\n") + ";matricule\n"
               "lea.petit@ville.fr;Léa;Petit;C;DST-BAT;80;;  B-77 \n"
               "garde@ville.fr;Gar;De;C;DST-BAT;;;\n")
    response = _upload(client, content)
    assert response.status_code == 200, text(response)
    lea = db.session.scalar(select(User).where(User.email == "lea.petit@ville.fr"))
    assert lea.employee_number == "B-77"
    assert kept.employee_number == "A-1"  # an empty cell keeps the matricule
    # Old files without the column still import and keep the matricules.
    assert _upload(client, HEADER + "lea.petit@ville.fr;Léa;Petit;C;DST-BAT;90;\n").status_code == 200
    assert (lea.quotite, lea.employee_number) == (90, "B-77")


def test_matricule_clashes_are_refused_with_their_line(client, login):
    admin = _setup(login, client)
    make_user(org_unit=admin.org_unit, email="titulaire@ville.fr", employee_number="A-1")
    content = (HEADER.rstrip("\n") + ";matricule\n"
               "un@ville.fr;Un;Un;C;DST-BAT;;;A-1\n"
               "deux@ville.fr;Deux;Deux;C;DST-BAT;;;Z9\n"
               "trois@ville.fr;Trois;Trois;C;DST-BAT;;;Z9\n"
               "quatre@ville.fr;Quatre;Quatre;C;DST-BAT;;;" + "9" * 51 + "\n"
               "titulaire@ville.fr;Ti;Tulaire;C;DST-BAT;;;A-1\n")
    response = _upload(client, content)
    page = text(response)
    assert response.status_code == 422
    assert "Ligne 2" in page and "un autre agent de la collectivité a déjà ce matricule" in page
    assert "Matricule déjà présent ligne 3" in page
    assert "50 caractères imprimables au plus" in page and "Tulaire" not in page
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email == "deux@ville.fr")) == 0
