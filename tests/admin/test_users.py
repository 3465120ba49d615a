from sqlalchemy import func, select

from incubator.accounts.models import AuthSession
from incubator.audit.models import AuditEvent
from incubator.extensions import db
from incubator.people.models import User
from tests.factories import DEFAULT_PASSWORD, make_institution, make_org_unit, make_user
from tests.helpers import field_errors, text


def _valid(unit, **changes):
    data = {"first_name": "Léa", "last_name": "Petit", "email": "lea.petit@ville.fr",
            "category": "C", "quotite": "80", "org_unit_id": str(unit.id), "manager_email": ""}
    data.update(changes)
    return data


def test_admin_creates_an_agent_who_can_log_in(client, login, make_client):
    admin = make_user(roles=["admin"])
    login(client, admin)
    manager = make_user(org_unit=admin.org_unit, email="chef@ville.fr")
    data = _valid(admin.org_unit, manager_email="CHEF@ville.fr", password="une phrase de passe", roles=["hr"])
    response = client.post("/admin/agents/nouveau", data=data)
    assert response.status_code == 303
    user = db.session.scalar(select(User).where(User.email == "lea.petit@ville.fr"))
    assert (user.manager_id, user.quotite, user.category, user.role_names) == (manager.id, 80, "C", {"hr"})
    other = make_client()
    assert other.post("/connexion", data={"email": "lea.petit@ville.fr", "password": "une phrase de passe"}).status_code == 303


def test_create_agent_bad_input(client, login):
    admin = make_user(roles=["admin"])
    login(client, admin)
    make_user(org_unit=admin.org_unit, email="pris@ville.fr")
    unit = admin.org_unit
    closed = make_org_unit(admin.institution, closed_on=__import__("datetime").date(2020, 1, 1))
    foreign_unit = make_org_unit()
    cases = [
        (_valid(unit, first_name=""), "Le prénom est obligatoire."),
        (_valid(unit, email="pas-une-adresse"), "Adresse électronique invalide"),
        (_valid(unit, email="PRIS@ville.fr"), "Un compte utilise déjà cette adresse."),
        (_valid(unit, category="D"), "N'est pas un choix valide"),
        (_valid(unit, quotite="120"), "Entre 10 et 100."),
        (_valid(unit, quotite="plein"), "N'est pas un entier valide"),
        (_valid(unit, org_unit_id=""), "Choisissez la direction ou le service"),
        (_valid(unit, org_unit_id=str(closed.id)), "est fermé"),
        (_valid(unit, org_unit_id=str(foreign_unit.id)), "Direction ou service inconnu."),
        (_valid(unit, manager_email="inconnu@ville.fr"), "Aucun agent de la collectivité n'a cette adresse."),
        (_valid(unit, password="court"), "au moins 12 caractères"),
        (_valid(unit, roles=["superuser"]), "pas un choix valide"),
        (_valid(unit, first_name="x" * 101), "100 caractères"),
    ]
    before = db.session.scalar(select(func.count()).select_from(User))
    for data, message in cases:
        response = client.post("/admin/agents/nouveau", data=data)
        assert response.status_code == 422, data
        assert message in text(response), (message, data)
    assert db.session.scalar(select(func.count()).select_from(User)) == before


def test_edit_agent_and_manager_cycle_refused(client, login):
    admin = make_user(roles=["admin"])
    login(client, admin)
    boss = make_user(org_unit=admin.org_unit, email="boss@ville.fr")
    middle = make_user(org_unit=admin.org_unit, manager=boss, email="middle@ville.fr")
    data = {f"profile-{k}": v for k, v in _valid(admin.org_unit, email="boss@ville.fr", manager_email="middle@ville.fr").items()}
    response = client.post(f"/admin/agents/{boss.id}", data=data)
    assert response.status_code == 422
    assert "propre N+1, même indirectement" in text(response)
    assert boss.manager_id is None and boss.first_name == "Alex"
    data["profile-manager_email"] = ""
    assert client.post(f"/admin/agents/{boss.id}", data=data).status_code == 303
    assert (boss.first_name, boss.quotite) == ("Léa", 80)
    assert middle.manager_id == boss.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.updated"))
    assert event.data["changes"]["first_name"] == ["Alex", "Léa"]


def test_roles_and_self_protection(client, login):
    admin = make_user(roles=["admin"])
    login(client, admin)
    agent = make_user(org_unit=admin.org_unit)
    assert client.post(f"/admin/agents/{agent.id}/roles", data={"roles-roles": ["hr", "coordinator"]}).status_code == 303
    assert agent.role_names == {"hr", "coordinator"}
    assert client.post(f"/admin/agents/{agent.id}/roles", data={}).status_code == 303
    assert agent.role_names == set()
    response = client.post(f"/admin/agents/{admin.id}/roles", data={"roles-roles": ["hr"]})
    assert response.status_code == 422
    assert "propre rôle d'administration" in text(response)
    assert admin.role_names == {"admin"}


def test_deactivation_ends_open_sessions_at_once(client, login, make_client):
    admin = make_user(roles=["admin"])
    agent = make_user(org_unit=admin.org_unit)
    agent_browser = make_client()
    login(agent_browser, agent)
    assert agent_browser.get("/").status_code == 200
    login(client, admin)
    assert "Désactiver le compte" in client.get(f"/admin/agents/{agent.id}/desactiver").get_data(as_text=True)
    assert agent.is_active  # the confirmation page changes nothing
    assert client.post(f"/admin/agents/{agent.id}/desactiver").status_code == 303
    assert agent.is_active is False
    assert agent_browser.get("/").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(AuthSession).where(
        AuthSession.user_id == agent.id, AuthSession.revoked_at.is_(None))) == 0
    # Refused twice, and never on oneself.
    assert client.post(f"/admin/agents/{agent.id}/desactiver").status_code == 422
    assert client.post(f"/admin/agents/{admin.id}/desactiver").status_code == 422
    assert admin.is_active
    # Reactivated: can log in again.
    assert client.post(f"/admin/agents/{agent.id}/reactiver").status_code == 303
    assert agent_browser.post("/connexion", data={"email": agent.email, "password": DEFAULT_PASSWORD}).status_code == 303


def test_admin_sets_a_password(client, login, make_client):
    admin = make_user(roles=["admin"])
    agent = make_user(org_unit=admin.org_unit)
    login(client, admin)
    assert client.post(f"/admin/agents/{agent.id}/mot-de-passe", data={"password-password": "court"}).status_code == 422
    assert client.post(f"/admin/agents/{agent.id}/mot-de-passe", data={"password-password": "un nouveau mot de passe"}).status_code == 303
    other = make_client()
    assert other.post("/connexion", data={"email": agent.email, "password": "un nouveau mot de passe"}).status_code == 303


def test_agent_list_search_filters_and_pagination(client, login, count_queries):
    admin = make_user(roles=["admin"], last_name="Admin")
    other_unit = make_org_unit(admin.institution)
    for n in range(30):
        make_user(org_unit=admin.org_unit if n % 2 else other_unit, last_name=f"Zed{n:02d}",
                  category="A" if n < 5 else "C")
    make_user(org_unit=admin.org_unit, last_name="Parti", is_active=False)
    login(client, admin)
    page = client.get("/admin/agents").get_data(as_text=True)
    assert "Page 1 sur 2" in page and "Parti" not in page
    assert "Zed29" in client.get("/admin/agents?page=2").get_data(as_text=True)
    assert client.get("/admin/agents?page=999").status_code == 200
    page = client.get("/admin/agents?q=zed0").get_data(as_text=True)
    assert page.count("Zed0") == 10
    # LIKE's wildcards are searched as characters, not as "anything".
    for wildcard in ("%25", "_", "zed_0"):
        assert "Zed0" not in client.get(f"/admin/agents?q={wildcard}").get_data(as_text=True)
    page = client.get(f"/admin/agents?categorie=A&service={other_unit.id}").get_data(as_text=True)
    assert page.count("Zed0") == 3  # Zed00, Zed02, Zed04
    assert "Parti" in client.get("/admin/agents?statut=inactive").get_data(as_text=True)
    fragment = client.get("/admin/agents?q=zed", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.startswith('<div id="results"') and "<html" not in fragment
    # Fixed number of queries whatever the page size.
    with count_queries() as small:
        client.get("/admin/agents?q=zed0")
    with count_queries() as large:
        client.get("/admin/agents")
    assert small.count == large.count


EMAIL_UNAVAILABLE = ("Cette adresse ne peut pas être utilisée : vérifiez-la ou contactez "
                     "l'administration de l'instance.")


def test_an_address_of_another_institution_is_refused_without_saying_it_exists(client, login):
    admin = make_user(roles=["admin"])
    make_user(org_unit=admin.org_unit, email="ici@ville.fr")
    elsewhere = make_user(org_unit=make_org_unit(make_institution()), email="ailleurs@autre.fr",
                          first_name="Nadia")
    login(client, admin)
    before = db.session.scalar(select(func.count()).select_from(User))
    answers = {}
    for email in ("ailleurs@autre.fr", "AILLEURS@autre.fr", "personne@anonymise.invalid", "ici@ville.fr"):
        response = client.post("/admin/agents/nouveau", data=_valid(admin.org_unit, email=email))
        assert response.status_code == 422, email
        answers[email] = text(response)
    # Another institution's account and an address nobody has: the same neutral answer.
    for email in ("ailleurs@autre.fr", "AILLEURS@autre.fr", "personne@anonymise.invalid"):
        assert field_errors(answers[email], "email") == EMAIL_UNAVAILABLE, email
    # One's own institution: said plainly.
    assert field_errors(answers["ici@ville.fr"], "email") == "Un compte utilise déjà cette adresse."
    assert db.session.scalar(select(func.count()).select_from(User)) == before
    assert (elsewhere.first_name, elsewhere.institution_id) == ("Nadia", elsewhere.institution_id)


def test_editing_an_agent_to_an_address_of_another_institution_is_refused_neutrally(client, login):
    admin = make_user(roles=["admin"])
    agent = make_user(org_unit=admin.org_unit, email="agent@ville.fr")
    make_user(org_unit=admin.org_unit, email="collegue@ville.fr")
    make_user(org_unit=make_org_unit(make_institution()), email="ailleurs@autre.fr")
    login(client, admin)
    url = f"/admin/agents/{agent.id}"

    def profile(email):
        return {f"profile-{k}": v for k, v in _valid(admin.org_unit, email=email).items()}

    response = client.post(url, data=profile("ailleurs@autre.fr"))
    assert response.status_code == 422
    assert field_errors(text(response), "profile-email") == EMAIL_UNAVAILABLE
    response = client.post(url, data=profile("collegue@ville.fr"))
    assert response.status_code == 422
    assert field_errors(text(response), "profile-email") == "Un compte utilise déjà cette adresse."
    assert (agent.email, agent.first_name) == ("agent@ville.fr", "Alex")
    # Keeping one's own address is no conflict.
    assert client.post(url, data=profile("agent@ville.fr")).status_code == 303
    assert (agent.email, agent.first_name) == ("agent@ville.fr", "Léa")


def test_a_local_admin_sees_and_changes_nothing_of_the_instance_admin(client, login):
    root = make_user(roles=["admin"], is_instance_admin=True, email="root@ville.fr", first_name="Racine")
    local = make_user(org_unit=root.org_unit, roles=["admin"])
    login(client, local)
    page = text(client.get(f"/admin/agents/{root.id}"))
    assert "Ce compte administre l'instance : seule l'administration de l'instance peut le modifier." in page
    for form in ("Enregistrer la fiche", "Enregistrer les rôles", "Définir le mot de passe", "Désactiver ce compte"):
        assert form not in page
    data = {f"profile-{k}": v for k, v in _valid(root.org_unit, email="root@ville.fr", quotite="50").items()}
    response = client.post(f"/admin/agents/{root.id}", data=data)
    assert response.status_code == 403
    assert (root.first_name, root.quotite, root.category) == ("Racine", 100, "B")
    # An administrator of the same level keeps the forms.
    other_local = make_user(org_unit=root.org_unit, roles=["admin"])
    page = text(client.get(f"/admin/agents/{other_local.id}"))
    assert "Enregistrer la fiche" in page and "Ce compte administre l'instance" not in page


def test_the_deactivate_button_shows_exactly_when_the_service_accepts(client, login):
    """The agent's page asks people.policy.deactivation_refusal, as the service does."""
    admin = make_user(roles=["admin"])
    agent = make_user(org_unit=admin.org_unit)
    login(client, admin)
    link = "Désactiver ce compte…"
    page = text(client.get(f"/admin/agents/{agent.id}"))
    assert link in page
    own = text(client.get(f"/admin/agents/{admin.id}"))
    assert link not in own and "Vous ne pouvez pas désactiver votre propre compte." in own
    refused = client.post(f"/admin/agents/{admin.id}/desactiver")
    assert refused.status_code == 422 and "Vous ne pouvez pas désactiver votre propre compte." in text(refused)
    assert client.post(f"/admin/agents/{agent.id}/desactiver").status_code == 303
    assert link not in text(client.get(f"/admin/agents/{agent.id}"))  # deactivated: reactivate instead


def test_matricule_in_the_agent_form(client, login):
    admin = make_user(roles=["admin"])
    login(client, admin)
    agent = make_user(org_unit=admin.org_unit, email="lea.petit@ville.fr")
    make_user(org_unit=admin.org_unit, employee_number="A-1")
    make_user(org_unit=make_org_unit(make_institution()), employee_number="B-2")  # another institution's
    page = text(client.get(f"/admin/agents/{agent.id}"))
    assert 'name="profile-employee_number"' in page

    def post(number):
        data = {f"profile-{k}": v for k, v in _valid(admin.org_unit, employee_number=number).items()}
        return client.post(f"/admin/agents/{agent.id}", data=data)

    response = post("A-1")
    assert response.status_code == 422
    assert field_errors(text(response), "profile-employee_number") == "Un autre agent de la collectivité a déjà ce matricule."
    assert agent.employee_number is None
    assert post(" B-2 ").status_code == 303 and agent.employee_number == "B-2"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.updated"))
    assert event.data["changes"]["employee_number"] == [None, "B-2"]
    assert post("").status_code == 303 and agent.employee_number is None
