import pytest
from sqlalchemy import func, select

from incubator.accounts.models import AuthSession
from incubator.extensions import db
from incubator.people.models import User
from tests.factories import DEFAULT_PASSWORD, make_org_unit, make_user
from tests.helpers import field_errors, text, without_error_title

TOO_COMMON = ("Ce mot de passe est trop courant ou trop facile à deviner : choisissez par exemple une "
              "phrase de plusieurs mots sans rapport avec vous.")
PERSONAL_OWN = "Le mot de passe ne doit contenir ni votre prénom, ni votre nom, ni votre adresse électronique."
PERSONAL_OTHER = ("Le mot de passe ne doit contenir ni le prénom, ni le nom, ni l'adresse électronique "
                  "de l'agent.")
COMMON = ["aaaaaaaaaaaa", "azertyuiop123", "password1234", "123456789012", "qwertyuiopas", "motdepasse123"]


def test_change_password(client, login, make_client):
    user = make_user()
    other_device = make_client()
    login(other_device, user)
    login(client, user)
    response = client.post("/mon-compte", data={
        "current_password": DEFAULT_PASSWORD, "new_password": "une phrase assez longue",
        "confirm_password": "une phrase assez longue"})
    assert response.status_code == 303
    # This session stays open, the other device's is closed.
    assert client.get("/mon-compte").status_code == 200
    assert other_device.get("/mon-compte").status_code == 302
    client.post("/deconnexion")
    assert client.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 422
    assert client.post("/connexion", data={"email": user.email, "password": "une phrase assez longue"}).status_code == 303


def test_change_password_refusals(client, login):
    user = make_user()
    login(client, user)
    hash_before = user.password_hash
    cases = [
        ({"current_password": "faux", "new_password": "une phrase assez longue", "confirm_password": "une phrase assez longue"},
         "Le mot de passe actuel est incorrect."),
        ({"current_password": DEFAULT_PASSWORD, "new_password": "court", "confirm_password": "court"},
         "au moins 12 caractères"),
        ({"current_password": DEFAULT_PASSWORD, "new_password": "une phrase assez longue", "confirm_password": "une autre phrase"},
         "Les deux saisies du nouveau mot de passe diffèrent."),
        ({"current_password": DEFAULT_PASSWORD, "new_password": DEFAULT_PASSWORD, "confirm_password": DEFAULT_PASSWORD},
         "doit différer"),
    ]
    for data, message in cases:
        response = client.post("/mon-compte", data=data)
        assert response.status_code == 422
        assert message in text(response)
        assert user.password_hash == hash_before


def test_change_password_htmx_returns_the_form_fragment(client, login):
    user = make_user()
    login(client, user)
    response = client.post("/mon-compte", data={"current_password": "faux", "new_password": "x", "confirm_password": "x"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 422
    body = text(response)
    assert without_error_title(body).startswith('<section class="card" id="password-form"')
    assert "<html" not in body
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("password, message", [
    *[(p, TOO_COMMON) for p in COMMON],
    ("Lefevre-a-la-plage", PERSONAL_OWN),  # accents and case do not hide the name
    ("léa en vacances au soleil", PERSONAL_OWN),
    ("LEA.LEFEVRE@ville.fr", PERSONAL_OWN),
    ("bureau-lea_lefevre-2026", PERSONAL_OWN),
])
def test_own_password_refuses_common_and_personal_passwords(client, login, password, message):
    user = make_user(first_name="Léa", last_name="Lefèvre", email="lea.lefevre@ville.fr")
    login(client, user)
    hash_before = user.password_hash
    response = client.post("/mon-compte", data={
        "current_password": DEFAULT_PASSWORD, "new_password": password, "confirm_password": password})
    assert response.status_code == 422
    assert field_errors(text(response), "new_password") == message
    db.session.refresh(user)
    assert user.password_hash == hash_before
    assert db.session.scalar(select(func.count()).select_from(AuthSession).where(
        AuthSession.user_id == user.id, AuthSession.revoked_at.is_not(None))) == 0


def test_admin_cannot_set_a_common_or_personal_password(client, login, make_client):
    admin = make_user(roles=["admin"])
    agent = make_user(org_unit=admin.org_unit, first_name="Camille", last_name="Durand", email="c.durand@ville.fr")
    login(client, admin)
    hash_before = agent.password_hash
    url = f"/admin/agents/{agent.id}/mot-de-passe"
    for password, message in [("aaaaaaaaaaaa", TOO_COMMON), ("motdepasse123", TOO_COMMON),
                              ("Camille2026!!", PERSONAL_OTHER), ("c.durand@ville.fr", PERSONAL_OTHER),
                              ("les-durand-de-la-mairie", PERSONAL_OTHER)]:
        response = client.post(url, data={"password-password": password})
        assert response.status_code == 422, password
        assert field_errors(text(response), "password-password") == message, password
        db.session.refresh(agent)
        assert agent.password_hash == hash_before
    assert client.post(url, data={"password-password": "une phrase de passe assez longue"}).status_code == 303
    assert make_client().post("/connexion", data={
        "email": agent.email, "password": "une phrase de passe assez longue"}).status_code == 303


def test_an_account_cannot_be_created_with_a_common_or_personal_password(client, login):
    admin = make_user(roles=["admin"])
    login(client, admin)
    data = {"first_name": "Léa", "last_name": "Petit", "email": "lea.petit@ville.fr", "category": "C",
            "quotite": "80", "org_unit_id": str(admin.org_unit_id), "manager_email": ""}
    for password, message in [("aaaaaaaaaaaa", TOO_COMMON), ("Petit-bonhomme-2026", PERSONAL_OTHER)]:
        response = client.post("/admin/agents/nouveau", data={**data, "password": password})
        assert response.status_code == 422, password
        assert field_errors(text(response), "password") == message, password
    # Every error at once: the profile's and the password's.
    make_user(org_unit=admin.org_unit, email="pris@ville.fr")
    response = client.post("/admin/agents/nouveau", data={**data, "email": "pris@ville.fr", "password": "aaaaaaaaaaaa"})
    assert response.status_code == 422
    assert field_errors(text(response), "email") == "Un compte utilise déjà cette adresse."
    assert field_errors(text(response), "password") == TOO_COMMON
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email == "lea.petit@ville.fr")) == 0


def test_create_admin_command_applies_the_same_policy(app):
    unit = make_org_unit()
    slug = unit.institution.slug
    db.session.commit()
    runner = app.test_cli_runner()
    common = ["create-admin", "--institution", slug, "--email", "anne.roy@valmont.fr", "--first-name", "Anne",
              "--last-name", "Roy", "--password"]
    result = runner.invoke(args=[*common, "aaaaaaaaaaaa"])
    assert result.exit_code == 1 and f"Erreur (password) : {TOO_COMMON}" in result.output
    result = runner.invoke(args=[*common, "anne-roy-valmont-2026"])
    assert result.exit_code == 1 and f"Erreur (password) : {PERSONAL_OTHER}" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email == "anne.roy@valmont.fr")) == 0


def test_the_policy_applies_when_a_password_is_chosen_not_to_existing_ones(client, login):
    """An account whose password predates the policy still signs in."""
    user = make_user(password="aaaaaaaaaaaa", first_name="Léa", email="lea@ville.fr")
    assert client.post("/connexion", data={"email": user.email, "password": "aaaaaaaaaaaa"}).status_code == 303


def test_the_demo_password_is_accepted_for_every_demo_account():
    from incubator.accounts.passwords import password_problem
    from incubator.demo import DEMO_PASSWORD, seed

    seed()
    users = db.session.scalars(select(User)).all()
    assert len(users) > 50
    assert [u.email for u in users if password_problem(
        DEMO_PASSWORD, first_name=u.first_name, last_name=u.last_name, email=u.email, own=True)] == []
