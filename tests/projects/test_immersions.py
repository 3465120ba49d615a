from datetime import date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from incubator.errors import InvalidTransition, NotAllowed, ValidationFailed
from incubator.extensions import db
from incubator.immersions import services as immersion_services
from incubator.immersions.models import Application, ImmersionSettings
from incubator.projects.models import Project
from incubator.timeutil import PARIS
from incubator.workdays import working_days
from tests.factories import (
    make_application,
    make_immersion_settings,
    make_institution,
    make_org_unit,
    make_project,
    make_project_member,
    make_proposal,
    make_user,
)
from tests.helpers import field_errors, text

MOTIVATION = "Je souhaite découvrir l'accueil du public et ses outils."
TODAY = date(2026, 11, 22)


@pytest.fixture(autouse=True)
def on_a_known_day():
    """The immersions below have fixed dates (March 2027): so has today, or the three
    months' notice would run out as the calendar moves on."""
    with time_machine.travel(datetime.combine(TODAY, datetime.min.time().replace(hour=10), tzinfo=PARIS)):
        yield


def test_working_days_skip_weekends_and_french_public_holidays():
    assert working_days(date(2026, 11, 23), date(2026, 11, 27)) == 5
    assert working_days(date(2026, 11, 9), date(2026, 11, 13)) == 4  # 11 novembre
    assert working_days(date(2027, 3, 29), date(2027, 4, 2)) == 4  # lundi de Pâques 2027 : 29 mars
    assert working_days(date(2026, 11, 28), date(2026, 11, 29)) == 0


@pytest.fixture
def world():
    host = make_user(first_name="Hôte")
    manager = make_user(org_unit=host.org_unit)
    applicant = make_user(org_unit=host.org_unit, manager=manager)
    partner = make_institution("Commune partenaire", slug="partenaire")
    partner_boss = make_user(org_unit=make_org_unit(partner))
    visitor = make_user(org_unit=partner_boss.org_unit, manager=partner_boss)
    offer = make_proposal(author=host, kind="mobility", state="accepted", places=1, open_to="partners",
                          window_starts_on=date(2027, 3, 1), window_ends_on=date(2027, 6, 30), duration_days=5)
    return {"host": host, "manager": manager, "applicant": applicant, "visitor": visitor,
            "partner_boss": partner_boss, "offer": offer}


def test_between_employers_limits_at_their_edges(world):
    visitor, offer = world["visitor"], world["offer"]
    # 2 to 10 working days.
    assert immersion_services.immersion_checks(visitor, offer, date(2027, 3, 1), date(2027, 3, 2), today=TODAY)[1] == []
    days, problems = immersion_services.immersion_checks(visitor, offer, date(2027, 3, 1), date(2027, 3, 1), today=TODAY)
    assert days == 1 and "de 2 à 10 jours" in problems[0]
    days, problems = immersion_services.immersion_checks(visitor, offer, date(2027, 3, 1), date(2027, 3, 12), today=TODAY)
    assert days == 10 and problems == []
    days, problems = immersion_services.immersion_checks(visitor, offer, date(2027, 3, 1), date(2027, 3, 15), today=TODAY)
    assert days == 11 and "de 2 à 10 jours" in problems[0]
    # Three months ahead: 91 days is enough, 90 is not.
    assert immersion_services.immersion_checks(visitor, offer, TODAY + timedelta(days=91), TODAY + timedelta(days=95), today=TODAY)[1] == []
    assert "3 mois" in immersion_services.immersion_checks(visitor, offer, TODAY + timedelta(days=90), TODAY + timedelta(days=94), today=TODAY)[1][0]
    # At most 20 days over 3 years.
    make_application(offer, visitor, manager=None, motivation="x", starts_on=date(2026, 1, 5),
                     ends_on=date(2026, 1, 30), working_days=15, status="selected")
    assert immersion_services.immersion_checks(visitor, offer, date(2027, 3, 1), date(2027, 3, 5), today=TODAY)[1] == []
    problems = immersion_services.immersion_checks(visitor, offer, date(2027, 3, 1), date(2027, 3, 8), today=TODAY)[1]
    assert any("20 jours" in p for p in problems)


def test_internal_immersions_follow_the_institution_setting(world):
    applicant, offer = world["applicant"], world["offer"]
    assert immersion_services.immersion_checks(applicant, offer, date(2027, 3, 1), date(2027, 3, 1), today=TODAY)[1] == []
    make_immersion_settings(offer.institution, limits_mode="refuse", internal_min_days=2, internal_max_days=3,
                            daily_hours=7)
    assert immersion_services.immersion_checks(applicant, offer, date(2027, 3, 1), date(2027, 3, 1), today=TODAY)[1]
    assert immersion_services.immersion_checks(applicant, offer, date(2027, 3, 1), date(2027, 3, 3), today=TODAY)[1] == []


def test_refuse_or_warn_per_institution(world):
    applicant, offer = world["applicant"], world["offer"]
    make_immersion_settings(offer.institution, limits_mode="refuse", internal_min_days=1, internal_max_days=3,
                            daily_hours=7)
    with pytest.raises(ValidationFailed) as exc:
        immersion_services.apply(applicant, offer, motivation=MOTIVATION, starts_on=date(2027, 3, 1), ends_on=date(2027, 3, 12))
    assert "Règles de l'immersion" in exc.value.errors["starts_on"][0]
    db.session.scalar(select(ImmersionSettings)).limits_mode = "warn"
    application = immersion_services.apply(applicant, offer, motivation=MOTIVATION, starts_on=date(2027, 3, 1), ends_on=date(2027, 3, 12))
    assert "de 1 à 3 jours" in application.warnings


def test_application_consent_and_selection_flow(world):
    offer, applicant = world["offer"], world["applicant"]
    with pytest.raises(NotAllowed):
        immersion_services.apply(world["host"], offer, motivation=MOTIVATION, starts_on=date(2027, 3, 1), ends_on=date(2027, 3, 3))
    with pytest.raises(ValidationFailed) as exc:
        immersion_services.apply(applicant, offer, motivation="court", starts_on=date(2026, 1, 1), ends_on=date(2026, 1, 3))
    assert set(exc.value.errors) == {"motivation", "starts_on"}
    application = immersion_services.apply(applicant, offer, motivation=MOTIVATION, starts_on=date(2027, 3, 1), ends_on=date(2027, 3, 3))
    with pytest.raises(InvalidTransition):
        immersion_services.apply(applicant, offer, motivation=MOTIVATION, starts_on=date(2027, 3, 1), ends_on=date(2027, 3, 3))
    with pytest.raises(InvalidTransition):
        immersion_services.select_applicant(world["host"], application, selected=True)  # no consent yet
    with pytest.raises(NotAllowed):
        immersion_services.manager_decide(world["host"], application, consent=True, reason="")
    with pytest.raises(ValidationFailed):
        immersion_services.manager_decide(world["manager"], application, consent=False, reason="")
    immersion_services.manager_decide(world["manager"], application, consent=True, reason="")
    with pytest.raises(NotAllowed):
        immersion_services.select_applicant(applicant, application, selected=True)
    # A second applicant, while the place is still free.
    other = make_user(org_unit=applicant.org_unit, manager=world["manager"])
    second = immersion_services.apply(other, offer, motivation=MOTIVATION, starts_on=date(2027, 4, 1), ends_on=date(2027, 4, 2))
    immersion_services.manager_decide(world["manager"], second, consent=True, reason="")
    project = immersion_services.select_applicant(world["host"], application, selected=True)
    assert (project.kind, project.state, project.starts_on) == ("immersion", "active", date(2027, 3, 1))
    assert [(m.user_id, m.hours_budget) for m in project.members] == [(applicant.id, 21)]
    # Places are limited: the second consented applicant cannot be selected.
    with pytest.raises(InvalidTransition, match="place"):
        immersion_services.select_applicant(world["host"], second, selected=True)
    immersion_services.select_applicant(world["host"], second, selected=False)
    assert second.status == "not_selected"


def test_partner_applicant_and_convention_page(world, client, login, make_client):
    offer, visitor = world["offer"], world["visitor"]
    login(client, visitor)
    assert offer.title in text(client.get("/immersions"))
    response = client.post(f"/immersions/{offer.id}/candidater", data={"motivation": MOTIVATION, "starts_on": "2027-03-01", "ends_on": "2027-03-05"})
    assert response.status_code == 303
    application = db.session.scalar(select(Application))
    boss = make_client()
    login(boss, world["partner_boss"])
    assert boss.post(f"/immersions/candidatures/{application.id}/avis", data={"answer": "peut-être"}).status_code == 400
    # A refusal without its reason: the immersions page, the message on that application.
    response = boss.post(f"/immersions/candidatures/{application.id}/avis", data={"answer": "refuse", "reason": "Non"})
    assert response.status_code == 422 and "<h1>Immersions</h1>" in text(response)
    assert field_errors(text(response), f"reason-{application.id}") == (
        "Un refus doit être motivé (5 à 1000 caractères) ; l'agent le lira.")
    assert application.status == "submitted"
    assert boss.post(f"/immersions/candidatures/{application.id}/avis", data={"answer": "consent"}).status_code == 303
    host = make_client()
    login(host, world["host"])
    response = host.post(f"/immersions/candidatures/{application.id}/selection", data={"answer": "select"})
    assert response.status_code == 303
    project = db.session.scalar(select(Project).where(Project.kind == "immersion"))
    page = text(host.get(f"/projets/{project.id}/convention"))
    assert "Convention de période d'immersion professionnelle" in page and "Commune partenaire" in page
    assert "décret n° 2022-1043" in page


def test_offers_closed_to_partners_are_invisible_to_them(world, client, login):
    world["offer"].open_to = "institution"
    login(client, world["visitor"])
    assert world["offer"].title not in text(client.get("/immersions"))
    assert client.get(f"/immersions/{world['offer'].id}/candidater").status_code == 404


CONVENTION_REFUSED = ("Ce document d'immersion ne peut être lu que par l'agent en immersion, son N+1, le service "
                      "d'accueil, et l'animation du collectif, les RH ou l'administration des collectivités "
                      "concernées.")


def _immersion(offer, visitor, manager) -> Project:
    """A selected application and its immersion project, on fixed dates."""
    project = make_project(offer.institution, kind="immersion", title=f"Immersion de {visitor.full_name}",
                           proposal=offer, lead=offer.author, host_org_unit_id=offer.host_org_unit_id,
                           objectives=offer.mission, starts_on=date(2027, 3, 1), ends_on=date(2027, 3, 5))
    make_project_member(project, visitor, role="Agent en immersion", hours_budget=35)
    make_application(offer, visitor, manager=manager, motivation=MOTIVATION, starts_on=date(2027, 3, 1),
                     ends_on=date(2027, 3, 5), working_days=5, status="selected", project_id=project.id,
                     decided_at=datetime(2026, 11, 2, 9, 0))
    return project


def _reader(make_client, login, user):
    browser = make_client()
    login(browser, user)
    return browser


def test_only_the_people_of_an_immersion_read_its_convention(world, make_client, login):
    offer, visitor, host = world["offer"], world["visitor"], world["host"]
    project = _immersion(offer, visitor, world["partner_boss"])
    host_unit, partner_unit = host.org_unit, visitor.org_unit
    host_name, partner_name = host.institution.name, visitor.institution.name
    readers = {
        "visitor": visitor, "visitor's N+1": world["partner_boss"], "host": host,
        **{f"host {role}": make_user(org_unit=host_unit, roles=[role]) for role in ("coordinator", "hr", "admin")},
        **{f"partner {role}": make_user(org_unit=partner_unit, roles=[role]) for role in ("coordinator", "hr", "admin")},
    }
    url = f"/projets/{project.id}/convention"
    for who, user in readers.items():
        response = _reader(make_client, login, user).get(url)
        assert response.status_code == 200, who
        page = text(response)
        assert "<h1>Convention de période d'immersion professionnelle</h1>" in page, who
        # The two employers are the visitor's and the host's, whoever reads.
        assert f"<dt>L'employeur d'origine</dt><dd>{partner_name}</dd>" in page, who
        assert f"<dt>L'employeur d'accueil</dt><dd>{host_name}" in page, who
    refused = {"host's colleague": make_user(org_unit=host_unit),
               "another agent's N+1 (host side)": world["manager"],
               "visitor's colleague": make_user(org_unit=partner_unit)}
    for who, user in refused.items():
        response = _reader(make_client, login, user).get(url)
        assert response.status_code == 403, who
        assert CONVENTION_REFUSED in text(response), who
        assert visitor.full_name not in text(response), who
    # A third institution does not even learn that the immersion exists.
    third = make_user(org_unit=make_org_unit(make_institution()), roles=["admin", "hr", "coordinator"])
    assert _reader(make_client, login, third).get(url).status_code == 404
    # The link on the project page follows the same rule.
    assert "Convention d'immersion" in text(_reader(make_client, login, host).get(f"/projets/{project.id}"))
    colleague = _reader(make_client, login, refused["host's colleague"]).get(f"/projets/{project.id}")
    assert colleague.status_code == 200 and "/convention" not in text(colleague)


def test_an_internal_immersion_has_an_internal_sheet_not_an_agreement_between_employers(world, make_client, login):
    offer, applicant = world["offer"], world["applicant"]
    project = _immersion(offer, applicant, world["manager"])
    url = f"/projets/{project.id}/convention"
    for user in (applicant, world["manager"], world["host"], make_user(org_unit=applicant.org_unit, roles=["hr"])):
        response = _reader(make_client, login, user).get(url)
        assert response.status_code == 200
        page = text(response)
        assert "<title>Fiche d'immersion interne" in page and "<h1>Fiche d'immersion interne</h1>" in page
        for wording in ("Convention", "employeur", "décret", "deux employeurs"):
            assert wording not in page, wording
        assert f"L'agent</dt><dd>{applicant.full_name}" in page
    assert "Fiche d'immersion interne" in text(_reader(make_client, login, world["host"]).get(f"/projets/{project.id}"))
    # The partner institution has no part in it; a colleague is refused.
    partner_hr = make_user(org_unit=world["visitor"].org_unit, roles=["hr"])
    assert _reader(make_client, login, partner_hr).get(url).status_code == 404
    response = _reader(make_client, login, make_user(org_unit=applicant.org_unit)).get(url)
    assert response.status_code == 403 and CONVENTION_REFUSED in text(response)


def test_a_project_that_is_not_an_immersion_has_no_convention(client, login):
    coordinator = make_user(roles=["coordinator"])
    project = make_project(coordinator.institution, title="Projet")
    login(client, coordinator)
    assert client.get(f"/projets/{project.id}/convention").status_code == 404
    assert client.get("/projets/999999/convention").status_code == 404


def test_a_full_offer_leaves_the_open_offers_and_refuses_applications(world, client, login):
    """Once its places are taken (selected applications ≥ places), an offer is no longer
    among the open offers; its page says « Complète »; applying is refused with why (409)."""
    offer, applicant = world["offer"], world["applicant"]
    other = make_proposal(author=world["host"], kind="mobility", state="accepted", places=2, open_to="partners",
                          window_starts_on=date(2027, 3, 1), window_ends_on=date(2027, 6, 30), duration_days=5)
    make_application(offer, status="selected")
    make_application(other, status="selected")  # one place of two: still open
    make_application(other, status="consented")  # not selected: takes no place
    db.session.commit()
    login(client, applicant)
    page = text(client.get("/immersions"))
    offers = page.split('id="offres"')[1].split('id="mes-candidatures"')[0]
    assert offer.title not in offers and other.title in offers
    assert f"/immersions/{other.id}/candidater" in offers and f"/immersions/{offer.id}/candidater" not in page
    # Still reachable by its address, with a badge and no way to apply.
    shown = text(client.get(f"/propositions/{offer.id}"))
    assert "Complète" in shown and f"offre-{offer.id}-complete" in shown
    assert f"/immersions/{offer.id}/candidater" not in shown
    assert "Complète" not in text(client.get(f"/propositions/{other.id}"))
    # The server refuses, whatever the page showed: the form and the sending.
    for response in (client.get(f"/immersions/{offer.id}/candidater"),
                     client.post(f"/immersions/{offer.id}/candidater",
                                 data={"motivation": MOTIVATION, "starts_on": "2027-03-01", "ends_on": "2027-03-05"})):
        assert response.status_code == 409
        assert "Toutes les places de cette offre sont pourvues" in text(response)
    assert db.session.scalar(select(func.count()).select_from(Application).where(
        Application.applicant_id == applicant.id)) == 0


def test_the_apply_service_refuses_a_full_offer(world):
    make_application(world["offer"], status="selected")
    with pytest.raises(InvalidTransition, match="Toutes les places"):
        immersion_services.apply(world["applicant"], world["offer"], motivation=MOTIVATION,
                                 starts_on=date(2027, 3, 1), ends_on=date(2027, 3, 2))


def test_periods_are_written_in_words_not_arrows(world, client, login):
    # RGAA 13.5: "1 mars → 3 mars" is read "flèche droite"; the list says "du … au …".
    offer, applicant = world["offer"], world["applicant"]
    application = immersion_services.apply(applicant, offer, motivation=MOTIVATION,
                                           starts_on=date(2027, 3, 1), ends_on=date(2027, 3, 3))
    immersion_services.manager_decide(world["manager"], application, consent=True, reason="")
    db.session.commit()
    login(client, world["host"])
    page = text(client.get("/immersions"))
    assert f"— {offer.title}, du 01/03/2027 au 03/03/2027 :" in page
    assert "→" not in page
