"""/admin/parametres: the institution's settings, edited by its administration only, each
field checked (French message next to it, 422, nothing written), each change journaled
with its old and new value, and each setting changing what the application does."""

from datetime import date, datetime

import pytest
import time_machine
from sqlalchemy import select

from incubator.audit.models import AuditEvent
from incubator.errors import NotAllowed, ValidationFailed
from incubator.extensions import db
from incubator.immersions.models import Application
from incubator.release_time import services as release_services
from incubator.release_time.models import ReleaseSettings
from incubator.settings import services
from incubator.timeutil import PARIS, format_datetime, utcnow
from tests.factories import (
    make_immersion_settings,
    make_institution,
    make_org_unit,
    make_project,
    make_proposal,
    make_release_settings,
    make_user,
)
from tests.helpers import field_errors, text, without_error_title

URL = "/admin/parametres"
DEFAULTS = {"monthly_cap_percent": "20", "day_length": "7:00", "limits_mode": "refuse",
            "internal_min_days": "1", "internal_max_days": "10"}  # the box unticked: not sent


def form(**changes) -> dict:
    return {**DEFAULTS, **changes}


def events(action: str = "institution.settings_changed") -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


@pytest.fixture
def admin():
    return make_user(roles=["admin"], first_name="Awa", last_name="Admin")


@pytest.fixture
def admin_client(client, login, admin):
    login(client, admin)
    return client


# --------------------------------------------------------------------------- who


def test_anonymous_is_sent_to_the_login_page(client):
    for method in ("get", "post"):
        response = getattr(client, method)(URL, data=form())
        assert response.status_code == 302 and response.headers["Location"].startswith("/connexion")


@pytest.mark.parametrize("roles", [[], ["hr"], ["coordinator"]])
def test_other_roles_are_refused_and_change_nothing(roles, client, login, admin):
    login(client, make_user(org_unit=admin.org_unit, roles=roles))
    assert client.get(URL).status_code == 403
    assert client.post(URL, data=form(monthly_cap_percent="35")).status_code == 403
    assert services.current_settings(admin.institution_id).monthly_cap_percent == 20 and events() == []


def test_a_manager_is_no_administrator(client, login, admin):
    manager = make_user(org_unit=admin.org_unit)
    make_user(org_unit=admin.org_unit, manager=manager)
    login(client, manager)
    assert client.post(URL, data=form(managers_see_engagement="y")).status_code == 403
    assert services.current_settings(admin.institution_id).managers_see_engagement is False


def test_the_page_shows_the_settings_in_force_with_their_hints(admin_client, admin):
    make_release_settings(admin.institution, monthly_cap_percent=25, daily_minutes_full_time=450)
    make_immersion_settings(admin.institution, limits_mode="warn", internal_min_days=2, internal_max_days=15,
                            daily_hours=7)
    page = text(admin_client.get(URL))
    for heading in ("Temps de décharge", "Immersions", "Engagement", "Règles de l'arbitrage"):
        assert f">{heading}</h2>" in page
    assert 'name="monthly_cap_percent" required type="text" value="25"' in page
    assert 'value="7:30"' in page and 'value="15"' in page
    assert '<input checked id="limits_mode-1" name="limits_mode" type="radio" value="warn">' in page
    assert 'id="managers_see_engagement" name="managers_see_engagement" type="checkbox" value="y">' in page
    assert "1\u202f607 h par an × quotité" in page and "20 % par défaut" in page and "décret n° 2022-1043" in page
    assert 'aria-describedby="monthly_cap_percent-hint"' in page and 'id="monthly_cap_percent-hint"' in page
    assert "chaque lecture est inscrite au journal d'audit" in page
    # The arbitration's rules are the collective's: a link, not a copy (its settings page
    # is the coordination's, so only the public page for an administrator alone).
    assert 'href="/arbitrage"' in page and 'href="/arbitrage/reglages"' not in page


def test_the_administration_links_to_the_page(admin_client):
    assert 'href="/admin/parametres"' in text(admin_client.get("/admin/"))


def test_an_administrator_changes_their_own_institution_only(admin_client, admin, login, make_client):
    other = make_institution("Autre ville", slug="autre-ville")
    make_release_settings(other, monthly_cap_percent=15)
    other_admin = make_user(org_unit=make_org_unit(other), roles=["admin"])
    db.session.commit()
    assert admin_client.post(URL, data=form(monthly_cap_percent="35", managers_see_engagement="y")).status_code == 303
    assert services.current_settings(admin.institution_id).monthly_cap_percent == 35
    assert services.current_settings(other.id) == services.Settings(15, 420, "refuse", 1, 10, False)
    # No address names another institution; the service refuses it all the same.
    with pytest.raises(NotAllowed, match="réservés à son administration"):
        services.save_settings(admin, other.id, **{**form(monthly_cap_percent="40"), "managers_see_engagement": True})
    db.session.rollback()
    theirs = make_client()
    login(theirs, other_admin)
    assert 'value="15"' in text(theirs.get(URL))


# --------------------------------------------------------------------------- input


@pytest.mark.parametrize("name, value, message", [
    ("monthly_cap_percent", "0", "Indiquez un pourcentage entier entre 1 et 40 (20 % par défaut)."),
    ("monthly_cap_percent", "41", "Indiquez un pourcentage entier entre 1 et 40 (20 % par défaut)."),
    ("monthly_cap_percent", "vingt", "Indiquez un pourcentage entier entre 1 et 40 (20 % par défaut)."),
    ("monthly_cap_percent", "", "Indiquez un pourcentage entier entre 1 et 40 (20 % par défaut)."),
    ("monthly_cap_percent", "20,5", "Indiquez un pourcentage entier entre 1 et 40 (20 % par défaut)."),
    ("day_length", "4:45", "Indiquez une durée entre 5 h et 10 h, au quart d'heure, par exemple 7:00 ou 7:30."),
    ("day_length", "10:15", "Indiquez une durée entre 5 h et 10 h, au quart d'heure, par exemple 7:00 ou 7:30."),
    ("day_length", "7:10", "Indiquez une durée entre 5 h et 10 h, au quart d'heure, par exemple 7:00 ou 7:30."),
    ("day_length", "sept", "Indiquez une durée entre 5 h et 10 h, au quart d'heure, par exemple 7:00 ou 7:30."),
    ("day_length", "", "Indiquez une durée entre 5 h et 10 h, au quart d'heure, par exemple 7:00 ou 7:30."),
    ("limits_mode", "ignorer", "Choisissez : refuser ou avertir."),
    ("internal_min_days", "0", "Indiquez un nombre entier de jours ouvrés entre 1 et 60."),
    ("internal_min_days", "deux", "Indiquez un nombre entier de jours ouvrés entre 1 et 60."),
    ("internal_max_days", "61", "Indiquez un nombre entier de jours ouvrés entre 1 et 60."),
])
def test_each_field_refuses_bad_input_next_to_it(name, value, message, admin_client, admin):
    response = admin_client.post(URL, data=form(**{name: value, "monthly_cap_percent": "30"} if name != "monthly_cap_percent"
                                                else {name: value, "internal_max_days": "12"}))
    page = text(response)
    assert response.status_code == 422 and field_errors(page, name) == message
    assert f'aria-describedby="{name}-hint {name}-errors"' in page and 'aria-invalid="true"' in page
    assert services.current_settings(admin.institution_id) == services.Settings(20, 420, "refuse", 1, 10, False)
    assert events() == [] and db.session.scalars(select(ReleaseSettings)).all() == []


def test_the_longest_internal_immersion_is_not_shorter_than_the_shortest(admin_client, admin):
    response = admin_client.post(URL, data=form(internal_min_days="5", internal_max_days="3"))
    page = text(response)
    assert response.status_code == 422
    assert field_errors(page, "internal_max_days") == ("La durée maximale ne peut pas être inférieure à la durée "
                                                      "minimale (5 jours).")
    assert field_errors(page, "internal_min_days") == "" and 'value="5"' in page  # what was typed, kept
    assert admin_client.post(URL, data=form(internal_min_days="5", internal_max_days="5")).status_code == 303


def test_htmx_gets_the_form_block_back(admin_client):
    response = admin_client.post(URL, data=form(monthly_cap_percent="41"), headers={"HX-Request": "true"})
    body = text(response)
    assert response.status_code == 422 and without_error_title(body).startswith('<div id="settings-form">') and "<html" not in body
    response = admin_client.post(URL, data=form(monthly_cap_percent="30"), headers={"HX-Request": "true"})
    assert (response.status_code, response.headers["HX-Redirect"]) == (204, URL)


def test_without_csrf_token_nothing_is_written(admin_client, admin):
    response = admin_client.post(URL, data=form(monthly_cap_percent="30"), csrf=False)
    assert response.status_code == 400 and services.current_settings(admin.institution_id).monthly_cap_percent == 20


# --------------------------------------------------------------------------- journal


def test_one_event_says_what_changed_from_what_to_what_who_and_when(admin_client, admin):
    before = utcnow()
    response = admin_client.post(URL, data=form(monthly_cap_percent="30", day_length="7,5", limits_mode="warn",
                                                internal_max_days="12", managers_see_engagement="y"))
    assert response.status_code == 303
    assert "Paramètres enregistrés et inscrits au journal d'audit." in text(admin_client.get(URL))
    [event] = events()
    assert (event.actor_id, event.institution_id, event.target_type, event.target_id) == (
        admin.id, admin.institution_id, "Institution", admin.institution_id)
    assert before <= event.created_at <= utcnow()
    assert [(c["setting"], c["from"], c["to"]) for c in event.data["changed_settings"]] == [
        ("monthly_cap_percent", 20, 30), ("daily_minutes_full_time", 420, 450), ("limits_mode", "refuse", "warn"),
        ("internal_max_days", 10, 12), ("managers_see_engagement", False, True)]
    journal = text(admin_client.get("/admin/journal"))
    assert "Paramètres de la collectivité modifiés" in journal and "Awa Admin" in journal
    assert format_datetime(event.created_at) in journal
    for line in ("Plafond mensuel du temps de décharge : de 20 % à 30 %",
                 "Durée d'une journée à temps plein : de 7 h à 7 h 30",
                 "Immersions hors des limites légales : de refuser à avertir",
                 "Durée maximale d'une immersion interne : de 10 jours ouvrés à 12 jours ouvrés",
                 "Les encadrants voient les chiffres d'engagement de leurs agents : de non à oui"):
        assert f"<li>{line}</li>" in journal


def test_no_change_writes_nothing_and_says_so(admin_client, admin):
    response = admin_client.post(URL, data=form())
    assert response.status_code == 303 and events() == [] and db.session.scalars(select(ReleaseSettings)).all() == []
    assert "Aucun changement" in text(admin_client.get(URL))
    admin_client.post(URL, data=form(internal_min_days="2"))
    assert len(events()) == 1
    admin_client.post(URL, data=form(internal_min_days="2"))
    assert len(events()) == 1
    # Changing an immersion setting leaves the release-time row as it was (never created).
    assert db.session.scalars(select(ReleaseSettings)).all() == []


# --------------------------------------------------------------------------- effects

MONDAY = date(2026, 11, 16)


@pytest.fixture
def on_a_known_day():
    with time_machine.travel(datetime(2026, 11, 22, 10, tzinfo=PARIS)):
        yield


def test_the_cap_decides_whether_a_month_goes_through(on_a_known_day, admin_client, admin):
    manager = make_user(org_unit=admin.org_unit)
    agent = make_user(org_unit=admin.org_unit, manager=manager, quotite=100)
    project = make_project(title="Carnet des bâtiments", starts_on=date(2026, 9, 1), ends_on=date(2027, 6, 30),
                           members=(agent,), member_role="Membre", hours_budget=20)
    # 16 h in November: under the default cap (20 % of 1 607 h / 12 = 26,78 h), and under
    # its warning share (80 %) too.
    release_services.save_week(agent, MONDAY, values={(project.id, date(2026, 11, 16 + n)): "4" for n in range(4)})
    db.session.commit()
    assert release_services.monthly_cap(agent) == 1607
    assert admin_client.post(URL, data=form(monthly_cap_percent="10")).status_code == 303
    assert release_services.monthly_cap(agent) == 803  # 13,39 h
    with pytest.raises(ValidationFailed) as refused:
        release_services.submit_week(agent, MONDAY)
    assert "Plafond mensuel dépassé en 11/2026 : 16,00 h pour 13,38 h autorisées" in refused.value.errors["week"][0]
    db.session.rollback()
    assert admin_client.post(URL, data=form(monthly_cap_percent="20")).status_code == 303
    assert release_services.submit_week(agent, MONDAY) == []


def test_the_day_length_bounds_a_day(on_a_known_day, admin_client, admin):
    agent = make_user(org_unit=admin.org_unit, manager=admin, quotite=100)
    project = make_project(starts_on=date(2026, 9, 1), ends_on=date(2027, 6, 30), members=(agent,), hours_budget=20)
    db.session.commit()
    assert admin_client.post(URL, data=form(day_length="5:00")).status_code == 303
    with pytest.raises(ValidationFailed) as refused:
        release_services.save_week(agent, MONDAY, values={(project.id, MONDAY): "6"})
    assert "dépasse votre journée de travail" in refused.value.errors["day-20261116"][0]
    db.session.rollback()
    assert admin_client.post(URL, data=form(day_length="8:00")).status_code == 303
    release_services.save_week(agent, MONDAY, values={(project.id, MONDAY): "6"})


def test_refuse_or_warn_decides_an_application(on_a_known_day, admin_client, admin, make_client, login):
    host = make_user(org_unit=admin.org_unit, first_name="Hôte")
    applicant = make_user(org_unit=admin.org_unit, manager=admin)
    offer = make_proposal(author=host, kind="mobility", state="accepted", places=1, open_to="institution",
                          window_starts_on=date(2027, 3, 1), window_ends_on=date(2027, 6, 30), duration_days=5)
    db.session.commit()
    assert admin_client.post(URL, data=form(internal_max_days="3")).status_code == 303
    agent = make_client()
    login(agent, applicant)
    application = {"motivation": "Je souhaite découvrir l'accueil du public et ses outils.",
                   "starts_on": "2027-03-01", "ends_on": "2027-03-12"}  # 10 working days
    response = agent.post(f"/immersions/{offer.id}/candidater", data=application)
    assert response.status_code == 422
    assert "une immersion interne dure de 1 à 3 jours ouvrés (10 demandés)" in field_errors(text(response), "starts_on")
    assert db.session.scalars(select(Application)).all() == []
    assert admin_client.post(URL, data=form(internal_max_days="3", limits_mode="warn")).status_code == 303
    assert agent.post(f"/immersions/{offer.id}/candidater", data=application).status_code == 303
    [saved] = db.session.scalars(select(Application)).all()
    assert "de 1 à 3 jours ouvrés" in saved.warnings
