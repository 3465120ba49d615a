"""The rules that depend on the calendar give the same answers whatever the day the suite
runs: a Monday, a Sunday, 31 December late in the evening (already 1 January in UTC+1
minus nothing, but the last day of the year in Paris), 29 February, and the nights of
the change to and from summer time, when Paris and UTC are on different days.

Time is frozen (time-machine) in the test process, which also serves the test client's
requests: the pages and the services read the frozen clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine

from incubator.engagement.queries import Period, figures_for
from incubator.extensions import db
from incubator.immersions.services import immersion_checks
from incubator.release_time import services as time_services
from incubator.release_time.models import TimeEntry
from incubator.timeutil import PARIS, paris_day_start, today_paris, utcnow
from incubator.workdays import is_working_day, working_days
from tests.dates import monday_of, working_span
from tests.factories import make_institution, make_org_unit, make_project, make_proposal, make_user

MOMENTS = {
    "un lundi": datetime(2026, 11, 30, 9, 0, tzinfo=PARIS),
    "un dimanche": datetime(2027, 1, 3, 18, 0, tzinfo=PARIS),
    "le 31 décembre à 23 h 30": datetime(2026, 12, 31, 23, 30, tzinfo=PARIS),
    "le 1er janvier à 0 h 30": datetime(2027, 1, 1, 0, 30, tzinfo=PARIS),
    "le 29 février": datetime(2028, 2, 29, 12, 0, tzinfo=PARIS),
    "la veille de l'heure d'été": datetime(2027, 3, 27, 23, 30, tzinfo=PARIS),
    "la nuit du passage à l'heure d'été": datetime(2027, 3, 28, 3, 30, tzinfo=PARIS),
    "le lendemain de l'heure d'été à 0 h 30": datetime(2027, 3, 29, 0, 30, tzinfo=PARIS),
    "la nuit du retour à l'heure d'hiver": datetime(2027, 10, 31, 2, 30, fold=1, tzinfo=PARIS),
    "le lendemain de l'heure d'hiver à 0 h 30": datetime(2027, 11, 1, 0, 30, tzinfo=PARIS),
}


@pytest.fixture(params=list(MOMENTS), ids=list(MOMENTS))
def moment(request):
    with time_machine.travel(MOMENTS[request.param], tick=False):
        yield MOMENTS[request.param]


def test_today_is_the_day_in_paris(moment):
    assert today_paris() == moment.date()
    assert paris_day_start(today_paris()) <= utcnow() < paris_day_start(today_paris() + timedelta(days=1))


def test_the_week_grid_opens_on_this_week_and_counts_hours_in_their_month(moment, client, login):
    today = moment.date()
    agent = make_user(manager=make_user())
    project = make_project(title="Projet de toute l'année", lead=agent, members=(agent,), hours_budget=500,
                           starts_on=today - timedelta(days=60), ends_on=today + timedelta(days=60))
    db.session.commit()
    monday = monday_of(today)
    login(client, agent)

    page = client.get("/mon-temps").get_data(as_text=True)
    assert f"semaine={monday - timedelta(days=7)}" in page
    assert f"semaine={monday + timedelta(days=7)}" in page

    days = [monday + timedelta(days=n) for n in range(5)]
    worked = [day for day in days if is_working_day(day)]
    form = {f"h-{project.id}-{day:%Y%m%d}": "1" for day in worked}
    response = client.post(f"/mon-temps?semaine={monday}", data={**form, "action": "submit"})
    assert response.status_code == 303, response.get_data(as_text=True)[-3000:]
    saved = db.session.execute(db.select(TimeEntry.day, TimeEntry.status)
                               .where(TimeEntry.user_id == agent.id)).all()
    assert sorted(saved) == [(day, "submitted") for day in worked]
    counted, _cap, _override = time_services.cap_status(agent, today)
    assert counted == 60 * sum(1 for day in worked if (day.year, day.month) == (today.year, today.month))


def test_immersion_limits_count_working_days_and_three_months_from_today(moment):
    today = moment.date()
    host = make_user(institution=make_institution())
    visitor = make_user(institution=make_institution())
    offer = make_proposal(author=host, kind="mobility", state="accepted", open_to="partners")

    start, end = working_span(92, 2)
    days, problems = immersion_checks(visitor, offer, start, end)
    assert (days, problems) == (2, [])

    start, end = working_span(80, 2)
    assert immersion_checks(visitor, offer, start, end)[1] == [
        "la demande doit être faite au moins 3 mois avant le début"]

    start = working_span(100, 1)[0]
    end = start + timedelta(days=20)
    days, problems = immersion_checks(visitor, offer, start, end)
    assert days == working_days(start, end) > 10
    assert problems and problems[0].startswith("une immersion entre employeurs dure de 2 à 10 jours")
    assert today == today_paris()


def test_the_year_of_a_proposal_is_its_year_in_paris(moment):
    author = make_user(org_unit=make_org_unit())
    make_proposal(author=author)  # submitted now
    this_year, other_year = moment.year, moment.year + (1 if moment.month == 1 else -1)
    if moment.month not in (1, 12):
        other_year = moment.year - 1
    figures = figures_for([author.id], Period.year(this_year))
    assert figures[author.id].proposals_total == 1
    figures = figures_for([author.id], Period.year(other_year))
    assert figures.get(author.id) is None or figures[author.id].proposals_total == 0


def test_working_days_of_known_weeks():
    assert working_days(date(2026, 11, 23), date(2026, 11, 27)) == 5
    assert working_days(date(2027, 3, 29), date(2027, 4, 2)) == 4  # lundi de Pâques
    assert working_days(date(2028, 2, 28), date(2028, 3, 1)) == 3  # 29 février inclus
    assert working_days(date(2026, 12, 28), date(2027, 1, 3)) == 4  # 1er janvier, week-end
