"""The arbitration through HTTP: pages by role, forms, live tally, journal and CSV."""

import csv
import io
import re
from datetime import datetime

import pytest
from sqlalchemy import select

from incubator.extensions import db
from incubator.review.models import Decision, ReviewSession
from incubator.timeutil import today_paris
from tests.factories import (
    make_criterion,
    make_decision,
    make_institution,
    make_org_unit,
    make_proposal,
    make_session,
    make_settings,
    make_user,
)
from tests.helpers import text

RATIONALE = ("Le collectif retient la proposition : elle répond à un besoin réel des usagers, "
             "reste faisable avec les moyens actuels et a été bien évaluée.")


@pytest.fixture
def people():
    coordinator = make_user(roles=["coordinator"], collective=True, first_name="Nadia")
    unit = coordinator.org_unit
    make_settings(coordinator.institution)
    return {
        "coordinator": coordinator,
        "member": make_user(org_unit=unit, collective=True, first_name="Sophie"),
        "agent": make_user(org_unit=unit, first_name="Camille"),
        "admin": make_user(org_unit=unit, roles=["admin"]),
        "outsider": make_user(org_unit=make_org_unit(make_institution()), roles=["coordinator"], collective=True),
    }


PAGES = [
    ("/arbitrage", {"coordinator", "member", "agent", "admin", "outsider"}),
    ("/arbitrage/journal", {"coordinator", "member", "agent", "admin", "outsider"}),
    ("/arbitrage/seances", {"coordinator", "member", "agent", "admin", "outsider"}),
    ("/arbitrage/a-evaluer", {"coordinator", "member", "outsider"}),
    ("/arbitrage/delais", {"coordinator", "member", "outsider"}),
    ("/arbitrage/recevabilite", {"coordinator", "outsider"}),
    ("/arbitrage/reglages", {"coordinator", "outsider"}),
    ("/arbitrage/criteres/nouveau", {"coordinator", "outsider"}),
]


@pytest.mark.parametrize("role", ["anonymous", "coordinator", "member", "agent", "admin", "outsider"])
@pytest.mark.parametrize("path,allowed", PAGES, ids=[p for p, _ in PAGES])
def test_pages_by_role(path, allowed, role, people, make_client, login):
    client = make_client()
    if role != "anonymous":
        login(client, people[role])
    response = client.get(path)
    if role == "anonymous":
        assert response.status_code == 302
    else:
        assert response.status_code == (200 if role in allowed else 403)


def test_objects_of_another_institution_are_not_found(people, make_client, login):
    proposal = make_proposal(author=people["agent"], state="submitted")
    session = make_session(people["agent"].institution)
    client = make_client()
    login(client, people["outsider"])
    assert client.get(f"/arbitrage/recevabilite/{proposal.id}").status_code == 404
    assert client.post(f"/arbitrage/recevabilite/{proposal.id}/ouvrir").status_code == 404
    assert client.get(f"/arbitrage/seances/{session.id}").status_code == 404
    assert client.post(f"/arbitrage/seances/{session.id}/presences").status_code == 404
    assert proposal.state == "submitted"


def test_how_we_decide_publishes_the_rules(client, login, people):
    make_criterion(people["coordinator"].institution, "Utilité pour les usagers", weight=3)
    login(client, people["agent"])
    page = text(client.get("/arbitrage"))
    for expected in ("Majorité des suffrages exprimés", "50 %", "Utilité pour les usagers",
                     "Doublon d'une proposition existante", "Sophie", "catégorie B", "60 jours",
                     "seul le décompte des voix est publié"):
        assert expected in page, expected


def test_settings_form_and_bad_input(client, login, people):
    login(client, people["coordinator"])
    response = client.post("/arbitrage/reglages", data={
        "decision_rule": "consent", "quorum_percent": "5", "target_days": "abc",
        "ineligibility_reasons": "Motif"})
    assert response.status_code == 422 and "N'est pas un entier valide" in text(response)
    response = client.post("/arbitrage/reglages", data={
        "decision_rule": "consent", "quorum_percent": "0", "target_days": "400",
        "ineligibility_reasons": ""})
    assert response.status_code == 422
    page = text(response)
    assert "Un pourcentage entre 1 et 100." in page and "Entre 1 et 20 motifs" in page
    assert "Un nombre de jours entre 1 et 365." in page
    response = client.post("/arbitrage/reglages", data={
        "decision_rule": "consent", "quorum_percent": "60", "target_days": "45", "votes_public": "y",
        "ineligibility_reasons": "Motif A\nMotif B\n"})
    assert response.status_code == 303
    page = text(client.get("/arbitrage"))
    assert "Consentement" in page and "60 %" in page and "Motif B" in page and "le vote de chaque membre est publié" in page


def test_criterion_form(client, login, people):
    login(client, people["coordinator"])
    response = client.post("/arbitrage/criteres/nouveau", data={"name": "", "description": "court", "weight": "11"})
    assert response.status_code == 422
    assert client.post("/arbitrage/criteres/nouveau", data={
        "name": "Faisabilité", "description": "Moyens et délais nécessaires.", "weight": "2", "is_active": "y"}).status_code == 303
    assert "Faisabilité" in text(client.get("/arbitrage"))


def test_eligibility_through_the_pages(client, login, people):
    proposal = make_proposal(author=people["agent"], state="submitted", title="Idée à examiner")
    login(client, people["coordinator"])
    assert "Idée à examiner" in text(client.get("/arbitrage/recevabilite"))
    response = client.post(f"/arbitrage/recevabilite/{proposal.id}/non-recevable",
                           data={"ne-reason": "", "ne-rationale": "Non."})
    assert response.status_code == 422 and "Choisissez un motif" in text(response)
    assert client.post(f"/arbitrage/recevabilite/{proposal.id}/ouvrir", data={}).status_code == 303
    assert proposal.state == "in_review"
    page = text(client.get(f"/propositions/{proposal.id}"))
    assert "Recevable : instruction ouverte" in page and "Déclarée recevable" in page


def test_assessment_queue_and_form(client, login, people):
    criteria = [make_criterion(people["coordinator"].institution, weight=w) for w in (2, 1)]
    to_assess = make_proposal(author=people["agent"], state="in_review", title="À noter")
    own = make_proposal(author=people["member"], state="in_review", title="La mienne")
    login(client, people["member"])
    page = text(client.get("/arbitrage/a-evaluer"))
    assert "À évaluer (1)" in page and "À noter" in page and "Récusé·e (1)" in page
    response = client.post(f"/arbitrage/evaluer/{to_assess.id}", data={f"criterion_{criteria[0].id}": "9"})
    assert response.status_code == 422
    assert f'id="criterion_{criteria[1].id}-errors"' in text(response)
    data = {f"criterion_{c.id}": "4" for c in criteria} | {"comment": "Solide."}
    assert client.post(f"/arbitrage/evaluer/{to_assess.id}", data=data).status_code == 303
    assert "Évaluées (1)" in text(client.get("/arbitrage/a-evaluer"))
    assert client.post(f"/arbitrage/evaluer/{own.id}", data=data).status_code == 403
    assert "Vous êtes récusé·e" in text(client.get(f"/arbitrage/evaluer/{own.id}"))


def test_a_whole_session_through_the_pages_with_live_tally(make_client, login, people):
    coordinator, member = people["coordinator"], people["member"]
    proposal = make_proposal(author=people["agent"], state="in_review", title="Vélos de service")
    chair = make_client()
    login(chair, coordinator)
    response = chair.post("/arbitrage/seances", data={"starts_on": "2099-05-04", "starts_time": "14:00", "place": "Salle du conseil"})
    assert response.status_code == 303
    session = db.session.scalar(select(ReviewSession))
    assert chair.post(f"/arbitrage/seances/{session.id}/ordre-du-jour", data={"proposal_id": str(proposal.id)}).status_code == 303
    assert proposal.state == "scheduled"
    assert "Inscrite à une séance" in text(chair.get(f"/propositions/{proposal.id}"))
    assert chair.post(f"/arbitrage/seances/{session.id}/presences", data={"present": [str(coordinator.id), str(member.id)]}).status_code == 303
    # The chair's attendance form: every member in office, those present ticked.
    attendance = text(chair.get(f"/arbitrage/seances/{session.id}"))
    for person in (coordinator, member):
        assert (f'id="present-{person.id}" name="present" value="{person.id}" checked> '
                f'<label for="present-{person.id}">{person.full_name} ({person.category})</label>') in attendance
    assert "Présences (2 / 2)" in attendance
    item = session.items[0]
    assert chair.post(f"/arbitrage/points/{item.id}/ouvrir").status_code == 303
    voter = make_client()
    login(voter, member)
    response = voter.post(f"/arbitrage/points/{item.id}/voter", data={"choice": "for"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    fragment = text(response)
    assert fragment.lstrip().startswith(f'<div id="point-{item.id}-live"') and "Pour : <strong>1</strong>" in fragment
    assert "Votre vote : <strong>Pour</strong>" in fragment
    chair.post(f"/arbitrage/points/{item.id}/voter", data={"choice": "for"})
    assert "Pour : <strong>2</strong>" in text(voter.get(f"/arbitrage/points/{item.id}/decompte"))
    response = voter.post(f"/arbitrage/points/{item.id}/voter", data={"choice": "maybe"}, headers={"HX-Request": "true"})
    assert response.status_code == 422 and "Choix de vote inconnu." in text(response)
    assert text(response).lstrip().startswith(f'<div id="point-{item.id}-live"') and "<html" not in text(response)
    # Without htmx: the session's page, the message next to the item's vote; the vote unchanged.
    response = voter.post(f"/arbitrage/points/{item.id}/voter", data={"choice": "maybe"})
    assert response.status_code == 422 and "<html" in text(response) and "Choix de vote inconnu." in text(response)
    assert "Votre vote : <strong>Pour</strong>" in text(voter.get(f"/arbitrage/points/{item.id}/decompte"))
    onlooker = make_client()
    login(onlooker, people["agent"])
    response = onlooker.post(f"/arbitrage/points/{item.id}/voter", data={"choice": "for"})
    assert response.status_code == 403
    assert "Seuls les membres du collectif pilote en mandat peuvent évaluer et voter." in text(response)
    assert voter.post(f"/arbitrage/points/{item.id}/clore").status_code == 403
    assert chair.post(f"/arbitrage/points/{item.id}/clore").status_code == 303
    assert chair.post(f"/arbitrage/points/{item.id}/clore").status_code == 409
    response = voter.post(f"/arbitrage/points/{item.id}/voter", data={"choice": "against"})
    assert response.status_code == 409 and "Le vote n'est pas ouvert sur ce point." in text(response)
    response = chair.post(f"/arbitrage/points/{item.id}/publier", data={"outcome": "accepted", "rationale": "Oui."})
    assert response.status_code == 422 and "La motivation est obligatoire" in text(response)
    assert proposal.state == "scheduled"
    assert chair.post(f"/arbitrage/points/{item.id}/publier", data={"outcome": "accepted", "rationale": RATIONALE}).status_code == 303
    assert proposal.state == "accepted"
    second = chair.post(f"/arbitrage/points/{item.id}/publier", data={"outcome": "accepted", "rationale": RATIONALE})
    assert second.status_code == 409
    assert db.session.query(Decision).filter_by(item_id=item.id).count() == 1
    # Published: on the proposal page and in the journal, with the tally.
    page = text(voter.get(f"/propositions/{proposal.id}"))
    assert RATIONALE in page and "2 pour, 0 contre" in page
    journal = text(voter.get("/arbitrage/journal?issue=accepted"))
    assert "Vélos de service" in journal and RATIONALE in journal


def test_journal_filters_and_csv_export(client, login, people):
    a = make_proposal(author=people["agent"], state="accepted", title="Fontaines à eau")
    b = make_proposal(author=people["agent"], state="not_eligible", title="Répertoire des compétences")
    make_decision(a, outcome="accepted", rationale="Motivation ; avec un point-virgule\net une ligne.",
                  decided_by=people["coordinator"],
                  tally={"counts": {"for": 5, "against": 1, "abstain": 0}, "present": 6, "members": 8, "required": 4})
    make_decision(b, outcome="not_eligible", reason="Hors du champ", rationale="Pas de notre ressort.",
                  decided_by=people["coordinator"])
    login(client, people["agent"])
    page = text(client.get("/arbitrage/journal?nature=eligibility"))
    assert "Répertoire des compétences" in page and "Fontaines à eau" not in page
    page = text(client.get("/arbitrage/journal?q=fontaines"))
    assert "Fontaines à eau" in page and "5 pour, 1 contre" in page
    # Each filter's value reaches its own parameter, however many are combined: the
    # statement of a combination is built once and serves every request.
    page = text(client.get("/arbitrage/journal?q=eau+fontaines&issue=accepted&nature=session"))
    assert "Fontaines à eau" in page and "Répertoire des compétences" not in page
    assert "Aucune décision" in text(client.get("/arbitrage/journal?q=fontaines+competences"))
    assert "Aucune décision" in text(client.get("/arbitrage/journal?q=repertoire&issue=accepted"))
    today = today_paris().isoformat()
    page = text(client.get(f"/arbitrage/journal?du={today}&au={today}&q=repertoire"))
    assert "Répertoire des compétences" in page and "Fontaines à eau" not in page
    assert "Aucune décision" in text(client.get("/arbitrage/journal?du=2199-01-01&q=repertoire"))
    page = text(client.get("/arbitrage/journal"))
    assert "Répertoire des compétences" in page and "Fontaines à eau" in page
    response = client.get("/arbitrage/journal?format=csv&issue=accepted")
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:5] == ["date", "proposition", "titre", "nature", "issue"]
    assert len(rows) == 2 and rows[1][2] == "Fontaines à eau" and rows[1][7] == "5"
    assert rows[1][-1] == "Motivation ; avec un point-virgule\net une ligne."
    assert client.get("/arbitrage/journal?du=x&au=9999-12-31&issue=nope").status_code == 200


def test_journal_names_each_decisions_session_duplicate_and_corrected_decision(client, login, people):
    """What the journal (page and CSV) says around a decision: the session it was taken
    in, the proposal an ineligible one duplicates, the decision a correction replaces."""
    original = make_proposal(author=people["agent"], state="in_review", title="Fontaines à eau")
    copy = make_proposal(author=people["agent"], state="not_eligible", title="Des fontaines partout")
    session = make_session(people["coordinator"].institution, starts_at=datetime(2026, 3, 12, 13, 0))
    taken = make_decision(original, outcome="accepted", session_id=session.id, decided_by=people["coordinator"],
                          published_at=datetime(2026, 3, 12, 15, 0))
    make_decision(original, outcome="reopened", kind="correction", corrects_id=taken.id,
                  decided_by=people["coordinator"], published_at=datetime(2026, 3, 20, 9, 0),
                  rationale="Erreur de décompte : nouveau vote.")
    make_decision(copy, outcome="not_eligible", reason="Doublon", duplicate_of_id=original.id,
                  decided_by=people["coordinator"], published_at=datetime(2026, 3, 13, 9, 0))
    login(client, people["agent"])
    response = client.get("/arbitrage/journal")
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text(response)))  # what the reader sees
    assert "12 mars 2026 · séance du 12 mars 2026" in page
    assert "20 mars 2026 · corrige la décision du 12 mars 2026" in page
    assert "Motif : Doublon — doublon de Fontaines à eau" in page
    assert f'href="/propositions/{original.id}">Fontaines à eau</a>' in response.get_data(as_text=True)
    # Newest first; the ineligible copy has neither session nor corrected decision.
    assert page.index("corrige la décision") < page.index("Des fontaines partout") < page.index("séance du")
    assert page.count("séance du") == 1 and page.count("corrige la décision du") == 1
    rows = list(csv.reader(io.StringIO(client.get("/arbitrage/journal?format=csv").get_data(as_text=True)
                                       .lstrip("\ufeff")), delimiter=";"))
    by_title = {(row[2], row[4]): row for row in rows[1:]}
    assert by_title[("Fontaines à eau", "Retenue")][6] == "12 mars 2026 à 14 h 00"
    assert by_title[("Fontaines à eau", "Corrigée : nouveau vote à venir")][6] == ""
    assert by_title[("Des fontaines partout", "Non recevable")][5] == "Doublon"
    # A search keeps the decisions on the proposals it finds, in the CSV as on the page.
    found = list(csv.reader(io.StringIO(client.get("/arbitrage/journal?format=csv&q=fontaines+partout")
                                        .get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert [row[2] for row in found[1:]] == ["Des fontaines partout"]
    assert "Des fontaines partout" in text(client.get("/arbitrage/journal?q=fontaines+partout"))
    assert "Erreur de décompte" not in text(client.get("/arbitrage/journal?q=fontaines+partout"))


def test_waiting_times_highlight_overdue(client, login, people):
    from datetime import timedelta

    from incubator.timeutil import utcnow

    old = make_proposal(author=people["agent"], state="in_review", title="Ancienne")
    old.submitted_at = utcnow() - timedelta(days=90)
    make_proposal(author=people["agent"], state="submitted", title="Récente")
    login(client, people["member"])
    page = text(client.get("/arbitrage/delais"))
    assert "Ancienne" in page and "Dépassé de 30 j" in page and "Dans les temps" in page
