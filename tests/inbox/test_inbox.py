"""The home page is each person's inbox: for each role, what waits, how many, since when,
and the one page where to act. Each card's count is what its page lists; the rules hold
(recusal, delegations, nobody decides on their own case, one institution's data only);
the page reads a fixed number of queries whatever the data."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
import time_machine

from incubator.extensions import db
from incubator.notifications import services
from incubator.notifications.models import OutboxMessage
from incubator.projects.models import Project
from incubator.projects.policy import charter_missing, charter_ready_clause
from incubator.timeutil import PARIS

from ..factories import (
    make_agenda_item,
    make_application,
    make_approval_delegation,
    make_assessment,
    make_coauthor,
    make_collective_membership,
    make_conflict,
    make_institution,
    make_milestone,
    make_project,
    make_proposal,
    make_session,
    make_time_entry,
    make_user,
)
from ..helpers import text

NOW = datetime(2026, 11, 18, 10, tzinfo=PARIS)  # a Wednesday
MONDAY = date(2026, 11, 16)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def days_ago(days: int) -> datetime:
    return (NOW - timedelta(days=days)).astimezone(PARIS).replace(tzinfo=None) - timedelta(hours=1)


def cards(page: str) -> dict[str, str]:
    """Each card of the home page: its kind -> its text (tags dropped, spaces collapsed)."""
    found = {}
    for kind, body in re.findall(r'<li class="inbox-card" id="attente-([\w-]+)">(.*?)</li>', page, re.S):
        found[kind] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()
    return found


def card_link(page: str, kind: str) -> str:
    found = re.search(rf'<li class="inbox-card" id="attente-{kind}">\s*<a class="inbox-link" href="([^"]+)"', page)
    assert found, f"no card {kind}"
    return found.group(1).replace("&amp;", "&")


def count_of(card: str) -> int:
    return int(card.split()[0])


def home(client, login, user) -> str:
    login(client, user)
    response = client.get("/")
    assert response.status_code == 200
    return text(response)


# --------------------------------------------------------------------------- each role's cards


def test_an_agent_with_nothing_pending_is_invited_to_propose(client, login):
    page = home(client, login, make_user())
    assert cards(page) == {}
    assert "Rien ne vous attend pour l'instant" in page
    assert 'href="/propositions/nouvelle"' in page


def test_the_manager_sees_the_weeks_to_approve_and_their_page_lists_as_many(client, login):
    manager = make_user()
    first, second = make_user(manager=manager, last_name="Alpha"), make_user(manager=manager, last_name="Beta")
    project = make_project(members=(first, second), hours_budget=100)
    make_time_entry(first, project, day=MONDAY - timedelta(days=14), status="submitted", submitted_at=days_ago(12))
    make_time_entry(first, project, day=MONDAY - timedelta(days=13), status="submitted", submitted_at=days_ago(12))
    make_time_entry(first, project, day=MONDAY - timedelta(days=7), status="submitted", submitted_at=days_ago(5))
    make_time_entry(second, project, day=MONDAY - timedelta(days=7), status="submitted", submitted_at=days_ago(3))
    make_time_entry(second, project, day=MONDAY - timedelta(days=6), status="approved")
    page = home(client, login, manager)
    card = cards(page)["weeks_to_approve"]
    assert card.startswith("3 semaines à valider") and "la plus ancienne depuis 12 jours" in card
    assert "Valider les heures" in card
    listed = text(client.get(card_link(page, "weeks_to_approve")))
    assert listed.count("<caption>Semaine du") == 3


def test_a_delegate_sees_the_weeks_of_the_delegators_reports_never_their_own(client, login):
    boss = make_user()
    delegate = make_user(manager=boss)
    colleague = make_user(manager=boss)
    project = make_project(members=(delegate, colleague), hours_budget=100)
    make_approval_delegation(boss, delegate)
    make_time_entry(delegate, project, day=MONDAY - timedelta(days=7), status="submitted")
    make_time_entry(colleague, project, day=MONDAY - timedelta(days=7), status="submitted", submitted_at=days_ago(2))
    page = home(client, login, delegate)
    assert cards(page)["weeks_to_approve"].startswith("1 semaine à valider — en attente depuis 2 jours")
    listed = text(client.get("/validations"))
    assert listed.count("<caption>Semaine du") == 1 and delegate.full_name not in listed.split("<h2")[1]


def test_an_agent_sees_refused_hours_linking_to_that_week_and_a_late_milestone(client, login):
    agent = make_user(manager=make_user())
    project = make_project(members=(agent,), hours_budget=100, title="Carnet numérique")
    week = MONDAY - timedelta(days=14)
    make_time_entry(agent, project, day=week + timedelta(days=1), status="refused", decided_at=days_ago(4),
                    refusal_reason="Ce jour était un jour de congé.")
    make_milestone(project, title="Premier bâtiment équipé", due_on=date(2026, 10, 29))
    make_milestone(project, title="Bilan", due_on=date(2026, 12, 20))
    page = home(client, login, agent)
    found = cards(page)
    assert found["refused_weeks"].startswith("1 semaine d'heures refusées — refusées depuis 4 jours")
    assert card_link(page, "refused_weeks") == f"/mon-temps?semaine={week.isoformat()}"
    assert found["late_milestones"].startswith("1 jalon en retard — en retard depuis 20 jours")
    assert card_link(page, "late_milestones") == f"/projets/{project.id}#jalons"
    assert "Ce jour était un jour de congé." in text(client.get(card_link(page, "refused_weeks")))
    assert "Rien ne vous attend" not in page


def test_an_author_sees_drafts_proposals_to_revise_and_invitations(client, login):
    author = make_user()
    make_proposal(author=author, state="draft", created_at=days_ago(9))
    make_proposal(author=author, state="changes_requested", state_changed_at=days_ago(40))
    make_coauthor(make_proposal(state="submitted"), author, status="invited", invited_at=days_ago(1))
    make_coauthor(make_proposal(state="rejected"), author, status="invited")  # no longer answerable
    page = home(client, login, author)
    found = cards(page)
    assert found["drafts"].startswith("1 brouillon à compléter et déposer — en attente depuis 9 jours")
    assert found["to_revise"].startswith("1 proposition à réviser — en attente depuis 40 jours")
    assert found["invitations"].startswith("1 invitation à co-signer — en attente depuis 1 jour")
    # Oldest first in the section.
    assert page.index('id="attente-to_revise"') < page.index('id="attente-drafts"') < page.index('id="attente-invitations"')


def test_the_coordinator_sees_eligibility_but_not_where_recused_and_not_another_institution(client, login):
    coordinator = make_user(role="coordinator")
    institution = coordinator.institution
    others = [make_proposal(author=make_user(institution=institution), state="submitted", submitted_at=days_ago(d))
              for d in (40, 3, 1)]
    make_proposal(author=coordinator, state="submitted", submitted_at=days_ago(60))  # own: recused
    make_conflict(make_proposal(author=make_user(institution=institution), state="submitted",
                                submitted_at=days_ago(70)), coordinator)
    make_proposal(author=make_user(institution=make_institution()), state="submitted", submitted_at=days_ago(90))
    page = home(client, login, coordinator)
    card = cards(page)["eligibility"]
    assert card.startswith(f"{len(others)} propositions à déclarer recevables ou non — la plus ancienne depuis 40 jours")
    listed = text(client.get(card_link(page, "eligibility")))
    assert listed.count(">Examiner</a>") == 3
    assert "3 propositions à examiner par vous, la plus ancienne d'abord ; 2 autres : vous êtes récusé·e" in listed


def test_a_member_sees_what_to_assess_not_what_they_are_recused_on_or_assessed(client, login):
    member = make_user(collective=True)
    institution = member.institution
    waiting = make_proposal(author=make_user(institution=institution), state="in_review", state_changed_at=days_ago(25))
    make_proposal(author=make_user(institution=institution), state="scheduled", state_changed_at=days_ago(5))
    make_assessment(make_proposal(author=make_user(institution=institution), state="in_review"), member)
    make_coauthor(make_proposal(author=make_user(institution=institution), state="in_review"), member, status="accepted")
    make_proposal(author=make_user(institution=make_institution()), state="in_review")
    page = home(client, login, member)
    card = cards(page)["to_assess"]
    assert card.startswith("2 propositions à évaluer — la plus ancienne depuis 25 jours")
    assert waiting.title
    listed = text(client.get(card_link(page, "to_assess")))
    assert "À évaluer (2)" in listed


def test_sessions_decisions_sponsors_and_charters_for_the_coordinator(client, login, make_client):
    coordinator = make_user(role="coordinator")
    make_collective_membership(coordinator)
    institution = coordinator.institution
    session = make_session(institution, days_ahead=6, created_by=coordinator)
    make_agenda_item(session, make_proposal(author=make_user(institution=institution), state="scheduled"))
    closed = make_agenda_item(session, make_proposal(author=make_user(institution=institution), state="scheduled"),
                              status="closed", vote_closed_at=days_ago(2), result="adopted")
    recused_item = make_agenda_item(session, make_proposal(author=coordinator, state="scheduled"), status="closed",
                                    vote_closed_at=days_ago(3), result="adopted")
    lead, sponsor = make_user(institution=institution), make_user(institution=institution)
    unsponsored = make_project(institution, state="framing", lead=lead, created_at=days_ago(8))
    make_project(institution, state="framing", lead=lead,
                 proposal=make_proposal(author=coordinator, state="accepted"))  # recused: another acts
    ready = make_project(institution, state="framing", lead=lead, sponsor=sponsor, objectives="Un objectif.",
                         starts_on=date(2027, 1, 4), ends_on=date(2027, 6, 30), members=(lead,), hours_budget=40,
                         created_at=days_ago(4))
    make_project(institution, state="framing", lead=lead, sponsor=sponsor)  # incomplete charter
    page = home(client, login, coordinator)
    found = cards(page)
    assert found["next_session"].startswith("Prochaine séance le 24 novembre 2026")
    assert "3 propositions à l'ordre du jour" in found["next_session"]
    assert text(client.get(card_link(page, "next_session"))).count('class="card item') == 3
    assert found["to_publish"].startswith("1 décision à publier — vote clos depuis 2 jours")
    assert card_link(page, "to_publish") == f"/arbitrage/seances/{session.id}#point-{closed.id}"
    assert recused_item.id != closed.id
    assert found["sponsors_to_appoint"].startswith("1 projet sans commanditaire — en attente depuis 8 jours")
    assert card_link(page, "sponsors_to_appoint") == f"/projets/{unsponsored.id}/lettre-de-mission/modifier"
    assert found["charters_to_validate"].startswith("1 lettre de mission à valider — en attente depuis 4 jours")
    assert card_link(page, "charters_to_validate") == f"/projets/{ready.id}#cadre"
    assert "Valider la lettre de mission" in text(client.get(f"/projets/{ready.id}"))
    # The lead and the sponsor are not asked to validate their own charter.
    sponsor_page = home(make_client(), login, sponsor)
    assert "charters_to_validate" not in cards(sponsor_page)


def test_the_manager_and_the_host_of_an_immersion(client, login, make_client):
    host = make_user()
    offer = make_proposal(author=host, kind="mobility", state="accepted")
    to_consent = make_application(offer, created_at=days_ago(6))
    make_application(offer, status="consented", decided_at=days_ago(3))
    make_application(offer, status="consented", decided_at=days_ago(1))
    page = home(client, login, to_consent.manager)
    assert cards(page)["immersions_to_consent"].startswith("1 demande d'immersion à examiner — en attente depuis 6 jours")
    assert "Accords à donner (1)" in text(client.get(card_link(page, "immersions_to_consent")))
    client = make_client()
    page = home(client, login, host)
    assert cards(page)["applications_to_select"].startswith("2 candidatures à retenir ou non — la plus ancienne depuis 3 jours")
    listed = text(client.get(card_link(page, "applications_to_select")))
    assert listed.count("/selection\"") == 2


def test_hr_gets_the_report_link_and_the_campaign_period(client, login):
    page = home(client, login, make_user(role="hr"))
    card = cards(page)["engagement_report"]
    assert card.startswith("Relevé d'engagement 2026 — période en cours : du 1er janvier au 31 décembre 2026")
    assert card_link(page, "engagement_report") == "/rh/engagement?annee=2026"
    assert "Vous aurez accès" not in page


# --------------------------------------------------------------------------- a fixed number of queries


def _busy_institution(size: int):
    """Every kind of pending work, `size` times, around one person holding every role."""
    person = make_user(roles=("coordinator", "hr", "admin"), manager=make_user())
    make_collective_membership(person)
    institution = person.institution
    project = make_project(members=(person,), hours_budget=500)
    for n in range(size):
        report = make_user(manager=person)
        other = make_user(institution=institution)
        make_time_entry(report, make_project(members=(report,), hours_budget=50), day=MONDAY - timedelta(days=7 * (n + 1)),
                        status="submitted")
        make_proposal(author=other, state="submitted")
        make_proposal(author=other, state="in_review")
        make_proposal(author=person, state="draft")
        make_milestone(project, due_on=date(2026, 11, 1) - timedelta(days=n))
        make_time_entry(person, project, day=MONDAY - timedelta(days=7 * (n + 1)), status="refused")
        make_project(institution, state="framing", lead=other)
        offer = make_proposal(author=person, kind="mobility", state="accepted")
        make_application(offer, status="consented")
    session = make_session(institution, days_ahead=3, created_by=person)
    for _ in range(size):
        make_agenda_item(session, make_proposal(author=make_user(institution=institution), state="scheduled"),
                         status="closed", result="adopted")
    return person


@pytest.mark.parametrize("role", ["agent", "manager", "member", "coordinator", "hr", "everything"])
def test_the_home_page_reads_a_fixed_number_of_queries(make_client, login, count_queries, role):
    counts = []
    for size in (1, 4):
        person = _busy_institution(size)
        viewer = {"agent": make_user(institution=person.institution), "manager": person.manager,
                  "member": make_user(institution=person.institution, collective=True),
                  "coordinator": make_user(institution=person.institution, role="coordinator"),
                  "hr": make_user(institution=person.institution, role="hr"), "everything": person}[role]
        client = make_client()
        login(client, viewer)
        with count_queries() as counter:
            assert client.get("/").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1] <= 12, counts


# --------------------------------------------------------------------------- the digest


def test_the_digest_lists_what_waits_with_the_home_pages_counts(client, login):
    manager = make_user(first_name="Claire")
    agent = make_user(manager=manager)
    project = make_project(members=(agent,), hours_budget=100)
    make_time_entry(agent, project, day=MONDAY - timedelta(days=7), status="submitted", submitted_at=days_ago(12))
    make_time_entry(agent, project, day=MONDAY - timedelta(days=14), status="submitted", submitted_at=days_ago(20))
    services.set_preferences(manager, {"approvals": "digest"})
    make_user(manager=make_user())  # no digest chosen: no email
    assert services.send_digests() == 1
    [message] = db.session.scalars(db.select(OutboxMessage)).all()
    assert message.recipient == manager.email
    assert message.subject == "[Incubateur] Votre récapitulatif : 1 sujet(s) en attente"
    home_card = cards(home(client, login, manager))["weeks_to_approve"]
    assert "2 semaines à valider — la plus ancienne depuis 20 jours (Valider les heures)" in message.text
    assert home_card.startswith("2 semaines à valider — la plus ancienne depuis 20 jours")
    assert "http://localhost/validations" in message.text or "/validations" in message.html


def test_the_charter_ready_clause_is_charter_missing_in_sql():
    lead, sponsor = make_user(), make_user()
    complete = {"lead": lead, "sponsor": sponsor, "objectives": "Un objectif.", "starts_on": date(2027, 1, 4),
                "ends_on": date(2027, 6, 30), "members": (lead,), "hours_budget": 10}
    variants = [complete] + [{**complete, key: value} for key, value in (
        ("lead", None), ("sponsor", None), ("objectives", ""), ("starts_on", None), ("ends_on", None),
        ("hours_budget", 0), ("members", ()))]
    projects = [make_project(lead.institution, state="framing", **variant) for variant in variants]
    ready = set(db.session.scalars(db.select(Project.id).where(charter_ready_clause())))
    assert ready == {p.id for p in projects if not charter_missing(p)} == {projects[0].id}
