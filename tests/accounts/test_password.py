from tests.factories import DEFAULT_PASSWORD, make_user
from tests.helpers import text


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
    assert body.lstrip().startswith('<section class="card" id="password-form"')
    assert "<html" not in body
    assert "HX-Request" in response.headers["Vary"]
