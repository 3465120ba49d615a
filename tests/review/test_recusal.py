"""Recusal of the coordinator, through HTTP: no proposal is accepted without the collective's
vote, and a coordinator recused on a proposal (author, co-author, declared conflict) takes
no coordinator action on it; another coordinator does, or the substitute an administrator
designates. Issue "part 4" (votes and recusal)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from incubator.audit.models import AuditEvent
from incubator.extensions import db
from incubator.projects import services as project_services
from incubator.projects.models import Project
from incubator.proposals.models import Proposal
from incubator.review.models import DEFAULT_INELIGIBILITY_REASONS, AgendaItem, Attendance, Decision
from tests.factories import (
    make_agenda_item,
    make_attendance,
    make_conflict,
    make_decision,
    make_project,
    make_project_member,
    make_proposal,
    make_session,
    make_settings,
    make_user,
    make_vote,
)
from tests.helpers import text

RATIONALE = ("Le collectif a examiné la proposition au regard des critères publiés et des évaluations de "
             "ses membres : la décision publiée ci-dessus en découle.")
REASON = DEFAULT_INELIGIBILITY_REASONS[0]
CHARTER_DATES = {"starts_on": "2027-01-04", "ends_on": "2027-06-30"}  # fixed: no dependence on today


@pytest.fixture
def w():
    """One institution: Nadia (coordinator, member of the collective), Omar (another
    coordinator), three members, an agent, an administrator and a director (a sponsor)."""
    chair = make_user(roles=["coordinator"], collective=True, first_name="Nadia", email="nadia@ville.fr")
    unit = chair.org_unit
    make_settings(chair.institution, quorum_percent=50)
    return SimpleNamespace(
        chair=chair,
        other=make_user(org_unit=unit, roles=["coordinator"], collective=True, first_name="Omar",
                        email="omar@ville.fr"),
        members=[make_user(org_unit=unit, collective=True, first_name=f"Membre{i}") for i in range(3)],
        agent=make_user(org_unit=unit, first_name="Camille", email="camille@ville.fr"),
        admin=make_user(org_unit=unit, roles=["admin"], first_name="Alix", email="admin@ville.fr"),
        dgs=make_user(org_unit=unit, first_name="Dominique", email="dgs@ville.fr"),
        institution=chair.institution,
    )


def _recused_proposal(w, kind: str, state: str) -> Proposal:
    """A proposal on which Nadia is recused as its author, a co-author, or by a conflict."""
    if kind == "author":
        return make_proposal(author=w.chair, state=state)
    if kind == "coauthor":
        return make_proposal(author=w.agent, state=state, coauthors=(w.chair,))
    proposal = make_proposal(author=w.agent, state=state)
    make_conflict(proposal, w.chair, reason="Mon conjoint porte ce projet.")
    return proposal


def _item(w, proposal, status: str, *, present=True, result=None, tally=None) -> AgendaItem:
    session = make_session(w.institution, created_by=w.other)
    item = make_agenda_item(session, proposal, position=1, status=status, result=result, tally=tally or {})
    if present:
        for user in [w.other, *w.members]:
            make_attendance(session, user)
    return item


ADOPTED = {"counts": {"for": 3, "against": 0, "abstain": 0}, "members": 4, "present": 4, "required": 2,
           "quorum_percent": 50, "rule": "majority", "votes_public": False, "result": "adopted"}


def _project(w, proposal, *, complete=False) -> Project:
    from datetime import date

    charter = {"sponsor": w.dgs, "starts_on": date(2027, 1, 4), "ends_on": date(2027, 6, 30)} if complete else {}
    project = make_project(w.institution, state="framing", title=proposal.title, proposal=proposal,
                           lead=proposal.author, objectives="Réduire les délais.", **charter)
    make_project_member(project, proposal.author, role="Porteur", hours_budget=40)
    return project


def _charter_form(project, lead) -> dict:
    return {"sponsor_email": "dgs@ville.fr", "lead_email": lead.email, "objectives": "Réduire les délais.",
            "indicators": "", "membres": str(lead.id), f"membre-{lead.id}-role": "porteur", f"membre-{lead.id}-heures": "40", **CHARTER_DATES}


# Each coordinator action on a proposal: (state of the proposal, setup -> (method, url, data)).
ACTIONS = {
    "recevabilité (page)": ("submitted", lambda w, p: ("GET", f"/arbitrage/recevabilite/{p.id}", {})),
    "ouvrir l'instruction": ("submitted", lambda w, p: ("POST", f"/arbitrage/recevabilite/{p.id}/ouvrir", {})),
    "déclarer non recevable": ("submitted", lambda w, p: (
        "POST", f"/arbitrage/recevabilite/{p.id}/non-recevable", {"ne-reason": REASON, "ne-rationale": RATIONALE})),
    "inscrire en séance": ("in_review", lambda w, p: (
        "POST", f"/arbitrage/seances/{make_session(w.institution, created_by=w.other).id}/ordre-du-jour",
        {"proposal_id": str(p.id)})),
    "enregistrer les présences": ("scheduled", lambda w, p: (
        "POST", f"/arbitrage/seances/{_item(w, p, 'pending', present=False).session_id}/presences",
        {"present": [str(u.id) for u in [w.other, *w.members]]})),
    "ouvrir le vote": ("scheduled", lambda w, p: ("POST", f"/arbitrage/points/{_item(w, p, 'pending').id}/ouvrir", {})),
    "reporter le point": ("scheduled", lambda w, p: (
        "POST", f"/arbitrage/points/{_item(w, p, 'pending').id}/reporter", {})),
    "clore le vote": ("scheduled", lambda w, p: ("POST", f"/arbitrage/points/{_voting(w, p).id}/clore", {})),
    "publier la décision": ("scheduled", lambda w, p: (
        "POST", f"/arbitrage/points/{_item(w, p, 'closed', result='adopted', tally=ADOPTED).id}/publier",
        {"outcome": "accepted", "rationale": RATIONALE})),
    "corriger la décision": ("rejected", lambda w, p: (
        "POST", f"/arbitrage/decisions/{_decided(w, p).id}/corriger", {"outcome": "accepted", "rationale": RATIONALE})),
    "désigner le commanditaire": ("accepted", lambda w, p: (
        "POST", f"/projets/{_project(w, p).id}/lettre-de-mission/modifier", _charter_form(p, p.author))),
    "valider la lettre de mission": ("accepted", lambda w, p: (
        "POST", f"/projets/{_project(w, p, complete=True).id}/valider", {})),
}


def _voting(w, proposal) -> AgendaItem:
    item = _item(w, proposal, "voting")
    for member in w.members:
        make_vote(item, member, choice="for")
    return item


def _decided(w, proposal) -> Decision:
    not_adopted = {**ADOPTED, "counts": {"for": 0, "against": 3, "abstain": 0}, "result": "not_adopted"}
    item = _item(w, proposal, "decided", result="not_adopted", tally=not_adopted)
    return make_decision(proposal, item=item, kind="session", outcome="rejected", rationale=RATIONALE,
                         tally=not_adopted, decided_by=w.other)


def _snapshot(proposal_id: int):
    """Everything a coordinator action could change."""
    db.session.expire_all()
    return (
        db.session.get(Proposal, proposal_id).state,
        [tuple(r) for r in db.session.execute(select(Decision.id, Decision.outcome).order_by(Decision.id))],
        [tuple(r) for r in db.session.execute(select(AgendaItem.id, AgendaItem.status, AgendaItem.result)
                                              .order_by(AgendaItem.id))],
        [tuple(r) for r in db.session.execute(select(Attendance.session_id, Attendance.user_id)
                                              .order_by(Attendance.session_id, Attendance.user_id))],
        [tuple(r) for r in db.session.execute(select(Project.id, Project.state, Project.sponsor_id,
                                                     Project.charter_validated_by_id).order_by(Project.id))],
        db.session.scalar(select(func.count()).select_from(AuditEvent).where(~AuditEvent.action.like("auth.%"))),
    )


@pytest.mark.parametrize("kind", ["author", "coauthor", "conflict"])
@pytest.mark.parametrize("action", list(ACTIONS))
def test_a_recused_coordinator_is_refused_and_another_coordinator_acts(action, kind, w, make_client, login):
    state, setup = ACTIONS[action]
    proposal = _recused_proposal(w, kind, state)
    method, url, data = setup(w, proposal)
    db.session.commit()
    before = _snapshot(proposal.id)

    recused = make_client()
    login(recused, w.chair)
    response = recused.open(url, method=method, data=data)
    assert response.status_code == 403, response.get_data(as_text=True)[-1500:]
    assert "récusé" in text(response) or "ne valide pas sa propre lettre de mission" in text(response)
    assert _snapshot(proposal.id) == before  # nothing written

    other = make_client()
    login(other, w.other)
    response = other.open(url, method=method, data=data)
    assert response.status_code == (200 if method == "GET" else 303), response.get_data(as_text=True)[-1500:]
    if method == "POST":
        assert _snapshot(proposal.id) != before
    # No action but publishing a vote's outcome makes a proposal accepted.
    if db.session.get(Proposal, proposal.id).state == "accepted":
        assert state == "accepted" or action == "publier la décision"


def test_the_reported_scenario_cannot_produce_an_acceptance(w, make_client, login):
    """The sole coordinator declares her own proposal not eligible, then 'corrects' that
    decision to accepted: refused at each step; the substitute an administrator designates
    acts instead, and a correction only sends the proposal back to review."""
    w.other.roles.clear()  # Nadia is the institution's only coordinator
    proposal = make_proposal(author=w.chair, state="submitted", title="Tablettes pour les agents")
    db.session.commit()
    nadia = make_client()
    login(nadia, w.chair)
    response = nadia.post(f"/arbitrage/recevabilite/{proposal.id}/non-recevable",
                          data={"ne-reason": REASON, "ne-rationale": RATIONALE})
    assert response.status_code == 403 and "Vous êtes l'auteur ou l'autrice" in text(response)
    assert proposal.state == "submitted" and db.session.scalar(select(func.count()).select_from(Decision)) == 0
    page = text(nadia.get(f"/propositions/{proposal.id}"))
    assert ("Le coordinateur ou la coordinatrice est récusé·e sur cette proposition : un·e administrateur·rice "
            "doit désigner un·e suppléant·e.") in page
    assert "examiner la recevabilité" not in page

    # The administrator designates Omar (no longer a coordinator: any agent not recused).
    admin = make_client()
    login(admin, w.admin)
    assert admin.post(f"/arbitrage/propositions/{proposal.id}/suppleance",
                      data={"email": "omar@ville.fr"}).status_code == 303
    substitute = make_client()
    login(substitute, w.other)
    assert substitute.post(f"/arbitrage/recevabilite/{proposal.id}/non-recevable",
                           data={"ne-reason": REASON, "ne-rationale": RATIONALE}).status_code == 303
    decision = db.session.scalar(select(Decision))
    assert proposal.state == "not_eligible" and decision.decided_by_id == w.other.id

    # Nadia "corrects" it to accepted: refused, nothing written.
    response = nadia.post(f"/arbitrage/decisions/{decision.id}/corriger",
                          data={"outcome": "accepted", "rationale": RATIONALE})
    assert response.status_code == 403
    assert nadia.get(f"/arbitrage/decisions/{decision.id}/corriger").status_code == 403
    assert proposal.state == "not_eligible" and db.session.scalar(select(func.count()).select_from(Decision)) == 1
    # The substitute's correction, even asked for "accepted", sends it back to review.
    page = text(substitute.get(f"/arbitrage/decisions/{decision.id}/corriger"))
    assert "Une correction ne fixe pas d'issue" in page and 'name="outcome"' not in page
    assert substitute.post(f"/arbitrage/decisions/{decision.id}/corriger",
                           data={"outcome": "accepted", "rationale": RATIONALE}).status_code == 303
    assert proposal.state == "in_review"
    assert db.session.scalar(select(func.count()).select_from(Decision).where(Decision.outcome == "accepted")) == 0
    assert db.session.scalar(select(func.count()).select_from(Project)) == 0
    # Nadia took no action on her proposal: every review event on it is someone else's.
    actors = set(db.session.scalars(select(AuditEvent.actor_id).where(
        AuditEvent.target_type == "Proposal", AuditEvent.target_id == proposal.id,
        AuditEvent.action.like("review.%"))))
    assert actors and w.chair.id not in actors


def test_substitute_designation_form_journal_and_scope(w, make_client, login):
    from incubator.review.models import (
        ProposalSubstitute,  # here: the other tests also run on older code
    )

    w.other.roles.clear()  # one coordinator, recused
    proposal = make_proposal(author=w.chair, state="submitted", title="Covoiturage entre services")
    elsewhere = make_proposal(author=w.agent, state="submitted")
    db.session.commit()
    url = f"/arbitrage/propositions/{proposal.id}/suppleance"
    # Only the administration designates, and not an administrator recused on it.
    for person in (w.chair, w.members[0], w.agent):
        client = make_client()
        login(client, person)
        assert client.get(url).status_code == 403
        assert client.post(url, data={"email": "omar@ville.fr"}).status_code == 403
    recused_admin = make_user(org_unit=w.chair.org_unit, roles=["admin"], email="admin2@ville.fr")
    make_conflict(proposal, recused_admin, reason="Ma sœur porte ce projet.")
    client = make_client()
    login(client, recused_admin)
    assert client.post(url, data={"email": "omar@ville.fr"}).status_code == 403

    admin = make_client()
    login(admin, w.admin)
    assert "désigner un·e suppléant·e de l'animation" in text(admin.get(f"/propositions/{proposal.id}"))
    page = admin.get(url)
    assert page.status_code == 200 and "Adresse électronique de l'agent désigné·e" in text(page)
    for email, message in [("", "Indiquez l'adresse"), ("personne@ville.fr", "Aucun agent actif"),
                           ("nadia@ville.fr", "récusé"), ("admin@ville.fr", "On ne se désigne pas")]:
        response = admin.post(url, data={"email": email})
        assert response.status_code == 422 and message in text(response), email
    assert admin.post(url, data={"email": "omar@ville.fr"}, csrf=False).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(ProposalSubstitute)) == 0

    assert admin.post(url, data={"email": "omar@ville.fr"}).status_code == 303
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "review.substitute_designated"))
    assert (event.actor_id, event.target_id, event.is_public) == (w.admin.id, proposal.id, True)
    assert event.data["substitute_id"] == w.other.id
    viewer = make_client()
    login(viewer, w.agent)
    page = text(viewer.get(f"/propositions/{proposal.id}"))
    assert ("Le coordinateur ou la coordinatrice est récusé·e sur cette proposition : Omar "
            in page and "agit à sa place" in page)
    assert "a désigné un·e suppléant·e" in page  # the public timeline

    # The substitute acts on this proposal only.
    omar = make_client()
    login(omar, w.other)
    assert omar.post(f"/arbitrage/recevabilite/{elsewhere.id}/ouvrir").status_code == 403
    assert omar.get(f"/arbitrage/recevabilite/{elsewhere.id}").status_code == 403
    assert omar.get(f"/arbitrage/recevabilite/{proposal.id}").status_code == 200
    assert "examiner la recevabilité" in text(omar.get(f"/propositions/{proposal.id}"))
    assert omar.post(f"/arbitrage/recevabilite/{proposal.id}/ouvrir").status_code == 303
    assert proposal.state == "in_review" and elsewhere.state == "submitted"
    # A new designation replaces the previous one; a recused substitute acts no more.
    assert admin.post(url, data={"email": "camille@ville.fr"}).status_code == 303
    assert db.session.scalar(select(ProposalSubstitute.user_id)) == w.agent.id
    session = make_session(w.institution, created_by=w.chair)
    db.session.commit()
    assert omar.post(f"/arbitrage/seances/{session.id}/ordre-du-jour",
                     data={"proposal_id": str(proposal.id)}).status_code == 403
    camille = make_client()
    login(camille, w.agent)
    assert camille.post(f"/arbitrage/seances/{session.id}/ordre-du-jour",
                        data={"proposal_id": str(proposal.id)}).status_code == 303
    assert proposal.state == "scheduled"


def test_the_session_page_hides_a_recused_coordinators_controls(w, make_client, login):
    mine = make_proposal(author=w.chair, state="scheduled", title="Ma proposition")
    theirs = make_proposal(author=w.agent, state="scheduled", title="Leur proposition")
    own_item = _item(w, mine, "pending")  # attendance recorded: opening a vote needs it
    item = make_agenda_item(own_item.session, theirs, position=2)
    db.session.commit()
    client = make_client()
    login(client, w.chair)
    page = text(client.get(f"/arbitrage/seances/{own_item.session_id}"))
    assert f"/arbitrage/points/{item.id}/ouvrir" in page
    assert f"/arbitrage/points/{own_item.id}/ouvrir" not in page
    assert f'id="point-{own_item.id}-recusal"' in page
    assert f"/arbitrage/seances/{own_item.session_id}/presences" not in page  # attendance makes its quorum
    other = make_client()
    login(other, w.other)
    page = text(other.get(f"/arbitrage/seances/{own_item.session_id}"))
    assert f"/arbitrage/points/{own_item.id}/ouvrir" in page and "/presences" in page


# --------------------------------------------------------------------------- charter


def test_charter_lead_sponsor_and_validator_are_three_people(w, make_client, login):
    """Omar, a coordinator not recused on the proposal, is the project's lead: he may not
    appoint himself sponsor, nor validate; the sponsor does not validate either."""
    proposal = make_proposal(author=w.agent, state="accepted")
    project = _project(w, proposal)
    project.lead_id = w.other.id
    db.session.commit()
    omar = make_client()
    login(omar, w.other)
    form = _charter_form(project, w.other) | {"sponsor_email": "omar@ville.fr"}
    response = omar.post(f"/projets/{project.id}/lettre-de-mission/modifier", data=form)
    assert response.status_code == 422 and "deux personnes distinctes" in text(response)
    assert project.sponsor_id is None
    assert omar.post(f"/projets/{project.id}/lettre-de-mission/modifier",
                     data=_charter_form(project, w.other)).status_code == 303
    assert project.sponsor_id == w.dgs.id
    assert omar.post(f"/projets/{project.id}/valider").status_code == 403
    assert "Valider la lettre de mission" not in text(omar.get(f"/projets/{project.id}"))
    sponsor = make_client()
    login(sponsor, w.dgs)
    assert "Valider la lettre de mission" not in text(sponsor.get(f"/projets/{project.id}"))
    assert sponsor.post(f"/projets/{project.id}/valider").status_code == 403
    assert project.state == "framing"
    nadia = make_client()
    login(nadia, w.chair)
    assert "Valider la lettre de mission" in text(nadia.get(f"/projets/{project.id}"))
    assert nadia.post(f"/projets/{project.id}/valider").status_code == 303
    assert project.state == "active"
    assert len({project.lead_id, project.sponsor_id, project.charter_validated_by_id}) == 3


def test_the_charter_form_offers_the_sponsor_only_to_who_may_appoint_one(w, make_client, login):
    proposal = make_proposal(author=w.agent, state="accepted")
    project = _project(w, proposal)
    db.session.commit()
    lead = make_client()
    login(lead, w.agent)
    page = text(lead.get(f"/projets/{project.id}/lettre-de-mission/modifier"))
    assert 'name="sponsor_email"' not in page and "désigné par l'animation" in page
    # The lead's form, sent whole, keeps the sponsor as it is; a forged one is refused.
    data = _charter_form(project, w.agent)
    del data["sponsor_email"]
    assert lead.post(f"/projets/{project.id}/lettre-de-mission/modifier", data=data).status_code == 303
    assert project.sponsor_id is None
    coordinator = make_client()
    login(coordinator, w.other)
    assert 'name="sponsor_email"' in text(coordinator.get(f"/projets/{project.id}/lettre-de-mission/modifier"))


def test_a_recused_coordinator_appoints_no_sponsor_through_the_service(w):
    """The lead who is the coordinator and the author of the proposal: recused, she neither
    appoints herself (or anyone) sponsor nor validates."""
    from datetime import date

    from incubator.errors import NotAllowed

    proposal = make_proposal(author=w.chair, state="accepted")
    project = project_services.create_from_proposal(proposal, w.other)
    assert project.lead_id == w.chair.id
    for sponsor in ("nadia@ville.fr", "dgs@ville.fr"):
        with pytest.raises(NotAllowed, match="récusé"):
            project_services.save_charter(w.chair, project, sponsor_email=sponsor, lead_email="nadia@ville.fr",
                                          objectives="Objectif.", indicators="", starts_on=date(2027, 1, 4),
                                          ends_on=date(2027, 6, 30), members=[(w.chair.id, "cheffe", "40")])
    project_services.save_charter(w.other, project, sponsor_email="dgs@ville.fr", lead_email="nadia@ville.fr",
                                  objectives="Objectif.", indicators="", starts_on=date(2027, 1, 4),
                                  ends_on=date(2027, 6, 30), members=[(w.chair.id, "cheffe", "40")])
    with pytest.raises(NotAllowed):
        project_services.validate_charter(w.chair, project)
    project_services.validate_charter(w.other, project)
    assert project.charter_validated_by_id == w.other.id


def test_the_proposal_page_invites_members_to_assess_unless_they_are_recused(client, login):
    author = make_user()
    proposal = make_proposal(author=author, state="in_review")
    member, conflicted = (make_user(institution=author.institution, collective=True) for _ in range(2))
    make_conflict(proposal, conflicted, reason="Je travaille avec l'auteur.")
    db.session.commit()
    invitation = "évaluer cette proposition"
    login(client, member)
    assert invitation in text(client.get(f"/propositions/{proposal.id}"))
    client.post("/deconnexion")
    login(client, conflicted)
    assert invitation not in text(client.get(f"/propositions/{proposal.id}"))
