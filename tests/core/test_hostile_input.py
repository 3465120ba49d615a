"""Regressions found by review: hostile ids and dates, privilege edges."""

from datetime import date, timedelta

import pytest

from incubator.accounts.models import AuthSession
from incubator.extensions import db
from incubator.timeutil import utcnow
from tests.factories import make_collective_membership, make_org_unit, make_proposal, make_user
from tests.helpers import text

HUGE = "99999999999999999999"


@pytest.mark.parametrize("path", [
    f"/propositions/{HUGE}", f"/admin/agents/{HUGE}", f"/admin/services/{HUGE}",
    f"/arbitrage/seances/{HUGE}", f"/arbitrage/evaluer/{HUGE}",
])
def test_huge_ids_in_urls_are_404(path, client, login):
    login(client, make_user(roles=["admin", "coordinator"], collective=True))
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", [
    f"/propositions/similaires?title=carnet&exclude={HUGE}", f"/admin/agents?service={HUGE}",
    f"/propositions?service={HUGE}&theme={HUGE}", "/admin/journal?au=9999-12-31&du=0001-01-01",
    "/arbitrage/journal?au=9999-12-31", f"/propositions?page={HUGE}",
])
def test_huge_query_values_are_ignored(path, client, login):
    login(client, make_user(roles=["admin"]))
    assert client.get(path).status_code == 200


def test_huge_ids_in_forms_are_refused_not_crashing(client, login):
    admin = make_user(roles=["admin"])
    login(client, admin)
    response = client.post("/admin/services/nouveau", data={"name": "Nom", "code": "X", "kind": "service", "parent_id": HUGE})
    assert response.status_code == 422
    response = client.post("/propositions/nouvelle", data={"title": "Un titre", "theme_id": HUGE, "intent": "draft"})
    assert response.status_code == 422


def test_local_admin_cannot_touch_the_instance_admin(client, login):
    root = make_user(roles=["admin"], is_instance_admin=True, email="root@ville.fr")
    local = make_user(org_unit=root.org_unit, roles=["admin"])
    login(client, local)
    assert client.post(f"/admin/agents/{root.id}/mot-de-passe", data={"password-password": "prise de controle"}).status_code == 403
    assert client.post(f"/admin/agents/{root.id}/desactiver").status_code == 403
    assert client.post(f"/admin/agents/{root.id}/roles", data={}).status_code == 403
    assert root.is_active and root.role_names == {"admin"}


def test_sessions_have_an_absolute_lifetime(client, login):
    user = make_user()
    login(client, user)
    db.session.query(AuthSession).update({"created_at": utcnow() - timedelta(hours=11)})
    assert client.get("/").status_code == 302


def test_invitation_answer_must_be_explicit(client, login):
    invitee = make_user()
    proposal = make_proposal(state="submitted", invited=(invitee,))
    login(client, invitee)
    assert client.post(f"/propositions/{proposal.id}/invitation", data={"answer": "oui"}).status_code == 400
    assert proposal.coauthors[0].status == "invited"


def test_declined_coauthor_can_be_invited_again_and_cannot_read_the_draft(client, login, make_client):
    author, invitee = make_user(), make_user(email="co@example.fr")
    draft = make_proposal(author=author, state="draft", invited=(invitee,))
    login(client, invitee)
    assert client.post(f"/propositions/{draft.id}/invitation", data={"answer": "decline"}).status_code == 303
    assert client.get(f"/propositions/{draft.id}").status_code == 404
    owner = make_client()
    login(owner, author)
    owner.post(f"/propositions/{draft.id}/modifier", data={"title": draft.title, "coauthor_emails": "co@example.fr", "intent": "draft"})
    assert draft.coauthors[0].status == "invited"


def test_a_revision_is_not_public_before_it_is_resubmitted(client, login, make_client):
    author = make_user()
    proposal = make_proposal(author=author, state="changes_requested", title="Titre déposé", problem="Texte déposé.")
    login(client, author)
    client.post(f"/propositions/{proposal.id}/modifier", data={"title": "Titre en cours", "problem": "Brouillon de révision.", "intent": "draft"})
    reader = make_client()
    login(reader, make_user(org_unit=author.org_unit))
    page = text(reader.get(f"/propositions/{proposal.id}"))
    assert "Texte déposé." in page and "Brouillon de révision." not in page
    assert "Brouillon de révision." in text(client.get(f"/propositions/{proposal.id}"))
    assert "Titre en cours" not in text(reader.get("/propositions?q=cours"))


def test_comment_box_is_empty_after_an_htmx_comment(client, login):
    proposal = make_proposal(state="submitted")
    login(client, make_user(org_unit=proposal.author.org_unit))
    fragment = text(client.post(f"/propositions/{proposal.id}/commentaires", data={"body": "Un avis unique."},
                                headers={"HX-Request": "true"}))
    assert fragment.count("Un avis unique.") == 1


def test_import_refuses_an_inactive_manager_listed_in_the_file(client, login):
    from io import BytesIO

    admin = make_user(roles=["admin"])
    make_org_unit(admin.institution, code="SRV-X")
    make_user(org_unit=admin.org_unit, email="chef@ville.fr", is_active=False)
    login(client, admin)
    content = ("email;prenom;nom;categorie;service;n_plus_1\n"
               "chef@ville.fr;Chef;Chef;A;SRV-X;\n"
               "agent@ville.fr;Agent;Agent;C;SRV-X;chef@ville.fr\n")
    response = client.post("/admin/import", data={"file": (BytesIO(content.encode()), "a.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "a un compte désactivé" in text(response)


def test_ending_a_term_cannot_create_an_overlap(client, login):
    admin = make_user(roles=["admin"])
    member = make_user(org_unit=admin.org_unit)
    old = make_collective_membership(member, starts_on=date(2020, 1, 1), ends_on=date(2021, 12, 31))
    make_collective_membership(member, starts_on=date(2022, 1, 1))
    login(client, admin)
    response = client.post(f"/admin/collectif/{old.id}/fin", data={"ends_on": "2023-06-30"})
    assert response.status_code == 422
    assert old.ends_on == date(2021, 12, 31)


def test_reopening_an_open_unit_is_refused(client, login):
    admin = make_user(roles=["admin"])
    login(client, admin)
    assert client.post(f"/admin/services/{admin.org_unit_id}/rouvrir").status_code == 422
