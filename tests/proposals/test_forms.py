"""Bad input on every field: 422, the message next to the field, nothing written."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from incubator.extensions import db
from incubator.proposals.models import CoAuthor, Proposal
from incubator.timeutil import today_paris
from tests.factories import INITIATIVE_TEXT, make_institution, make_org_unit, make_theme, make_user
from tests.helpers import text


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Proposal))


@pytest.fixture
def author(client, login):
    user = make_user(email="autrice@ville.fr")
    login(client, user)
    return user


def test_create_and_submit_initiative_in_one_step(client, author):
    theme = make_theme(author.institution, "Numérique")
    coauthor = make_user(org_unit=author.org_unit, email="co@ville.fr")
    response = client.post("/propositions/nouvelle", data={
        "title": "  Un   carnet de santé des bâtiments ", "theme_id": str(theme.id),
        "coauthor_emails": "CO@ville.fr", "intent": "submit", **INITIATIVE_TEXT})
    assert response.status_code == 303
    proposal = db.session.scalar(select(Proposal))
    assert proposal.title == "Un carnet de santé des bâtiments"
    assert (proposal.state, proposal.theme_id, proposal.kind) == ("submitted", theme.id, "initiative")
    assert [(c.user_id, c.status) for c in proposal.coauthors] == [(coauthor.id, "invited")]
    assert "carnet de sante des batiments" in proposal.search_text


def test_draft_needs_only_a_title(client, author):
    response = client.post("/propositions/nouvelle", data={"title": "Une idée à creuser", "intent": "draft"})
    assert response.status_code == 303
    assert db.session.scalar(select(Proposal.state)) == "draft"


INITIATIVE_CASES = [
    ({"title": ""}, "title", "Le titre doit compter entre 5 et 200 caractères."),
    ({"title": "Abc"}, "title", "Le titre doit compter entre 5 et 200 caractères."),
    ({"title": "x" * 201}, "title", "200 caractères"),
    ({"problem": ""}, "problem", "Décrivez le problème auquel la proposition répond."),
    ({"change": "   "}, "change", "Décrivez le service ou le changement proposé."),
    ({"beneficiaries": ""}, "beneficiaries", "Dites pour qui"),
    ({"gain": ""}, "gain", "Dites ce que l'on gagne"),
    ({"needs": ""}, "needs", "Indiquez ce qu'il faut"),
    ({"needs": "x" * 5001}, "needs", "5000 caractères au plus"),
    ({"theme_id": "999999"}, "theme_id", "Thème inconnu."),
    ({"theme_id": "pas-un-nombre"}, "theme_id", "Choix non valide"),
    ({"coauthor_emails": "inconnu@ville.fr"}, "coauthor_emails", "Aucun agent actif n'a l'adresse"),
    ({"coauthor_emails": "pas@adresse"}, "coauthor_emails", "n'est pas une adresse valide"),
    ({"coauthor_emails": "m99999"}, "coauthor_emails", "n'a l'adresse ou l'identifiant « m99999 »"),
    ({"coauthor_emails": "autrice@ville.fr"}, "coauthor_emails", "propre co-auteur"),
    ({"coauthor_emails": ",".join(f"a{i}@ville.fr" for i in range(11))}, "coauthor_emails", "10 co-auteurs au plus."),
]


@pytest.mark.parametrize("changes,field,message", INITIATIVE_CASES, ids=[c[1] + str(i) for i, c in enumerate(INITIATIVE_CASES)])
def test_initiative_bad_input(changes, field, message, client, author):
    data = {"title": "Un titre correct", "intent": "submit", **INITIATIVE_TEXT, **changes}
    response = client.post("/propositions/nouvelle", data=data)
    assert response.status_code == 422
    page = text(response)
    assert message in page
    # The message sits in the field's own error list, linked to the input.
    assert f'id="{field}-errors"' in page
    assert _count() == 0
    assert db.session.scalar(select(func.count()).select_from(CoAuthor)) == 0


def test_inactive_theme_and_theme_of_another_institution_are_refused(client, author):
    retired = make_theme(author.institution, is_active=False)
    foreign = make_theme(make_institution())
    for theme in (retired, foreign):
        response = client.post("/propositions/nouvelle", data={"title": "Un titre", "theme_id": str(theme.id), "intent": "draft"})
        assert response.status_code == 422 and "Thème inconnu." in text(response)
    assert _count() == 0


def _offer(author, **changes):
    start = today_paris() + timedelta(days=100)
    data = {"title": "Une semaine à l'accueil", "host_org_unit_id": str(author.org_unit_id),
            "mission": "Accueillir.", "learning": "Les métiers.", "contribution": "Un regard.",
            "duration_days": "5", "window_starts_on": start.isoformat(),
            "window_ends_on": (start + timedelta(days=30)).isoformat(), "places": "2",
            "open_to": "partners", "contact_email": author.email, "intent": "submit"}
    data.update(changes)
    return data


def test_create_mobility_offer(client, author):
    response = client.post("/propositions/nouvelle-offre", data=_offer(author))
    assert response.status_code == 303
    offer = db.session.scalar(select(Proposal))
    assert (offer.kind, offer.state, offer.duration_days, offer.places, offer.open_to) == ("mobility", "submitted", 5, 2, "partners")
    assert offer.host_org_unit_id == author.org_unit_id and offer.contact_id == author.id


MOBILITY_CASES = [
    ({"mission": ""}, "mission", "Décrivez la mission"),
    ({"learning": ""}, "learning", "Dites ce que la personne accueillie découvrira"),
    ({"contribution": ""}, "contribution", "Dites ce qu'elle pourra apporter"),
    ({"duration_days": "0"}, "duration_days", "Durée en jours ouvrés, entre 1 et 60."),
    ({"duration_days": "abc"}, "duration_days", "N'est pas un entier valide"),
    ({"duration_days": "40"}, "duration_days", "La durée dépasse la période proposée."),
    ({"places": "0"}, "places", "Nombre de places entre 1 et 50."),
    ({"places": ""}, "places", "Indiquez le nombre de places."),
    ({"window_starts_on": "31/02/2027"}, "window_starts_on", "N'est pas une date valide"),
    ({"window_ends_on": (today_paris() + timedelta(days=50)).isoformat()}, "window_ends_on", "La fin de la période doit suivre son début."),
    ({"window_starts_on": "2020-01-01", "window_ends_on": "2020-02-01"}, "window_ends_on", "La période proposée est déjà passée."),
    ({"open_to": "everyone"}, "open_to", "pas un choix valide"),
    ({"host_org_unit_id": ""}, "host_org_unit_id", "Choisissez le service d'accueil."),
    ({"host_org_unit_id": "999999"}, "host_org_unit_id", "Service inconnu."),
    ({"contact_email": "personne@ville.fr"}, "contact_email", "Aucun agent actif de la collectivité n'a cette adresse."),
    ({"contact_email": ""}, "contact_email", "Indiquez la personne à contacter."),
]


@pytest.mark.parametrize("changes,field,message", MOBILITY_CASES, ids=[c[1] + str(i) for i, c in enumerate(MOBILITY_CASES)])
def test_mobility_bad_input(changes, field, message, client, author):
    response = client.post("/propositions/nouvelle-offre", data=_offer(author, **changes))
    assert response.status_code == 422
    page = text(response)
    assert message in page and f'id="{field}-errors"' in page
    assert _count() == 0


def test_host_unit_of_another_institution_or_closed_is_refused(client, author):
    foreign = make_org_unit(make_institution())
    closed = make_org_unit(author.institution, closed_on=date(2020, 1, 1))
    for unit, message in ((foreign, "Service inconnu."), (closed, "Ce service est fermé.")):
        response = client.post("/propositions/nouvelle-offre", data=_offer(author, host_org_unit_id=str(unit.id)))
        assert response.status_code == 422 and message in text(response)
    assert _count() == 0


def test_xss_in_every_text_field_is_rendered_inert(client, author, make_client, login):
    payload = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'><a href="javascript:alert(3)">x</a>'
    data = {"title": "Titre " + payload[:150], "intent": "submit", **{k: payload for k in INITIATIVE_TEXT}}
    assert client.post("/propositions/nouvelle", data=data).status_code == 303
    proposal = db.session.scalar(select(Proposal))
    reader = make_client()
    login(reader, make_user(org_unit=author.org_unit))
    reader.post(f"/propositions/{proposal.id}/commentaires", data={"body": payload + " https://exemple.fr/a?b=1&c=<2>"})
    for path in (f"/propositions/{proposal.id}", "/propositions", f"/propositions/{proposal.id}/versions",
                 "/propositions?q=script", "/propositions/similaires?title=Titre+script"):
        body = reader.get(path).get_data(as_text=True)
        assert "<script>alert" not in body and "<img src=x" not in body, path
        assert 'href="javascript:' not in body, path
    body = reader.get(f"/propositions/{proposal.id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert '<a href="https://exemple.fr/a?b=1&amp;c=" rel="nofollow noopener noreferrer">' in body
