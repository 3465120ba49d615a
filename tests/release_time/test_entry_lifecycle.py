"""Every transition of a time entry, allowed and refused, by state and by person, walked
from the table through the services. Time is pinned as in test_self_approval."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from incubator.errors import InvalidTransition, NotAllowed, ValidationFailed
from incubator.extensions import db
from incubator.release_time import lifecycle, services
from incubator.release_time.lifecycle import ENTRIES
from incubator.release_time.models import TimeEntry
from tests.factories import make_project, make_time_entry, make_user
from tests.helpers import table_verdict

MONDAY = date(2026, 11, 16)
TODAY = date(2026, 11, 18)
PEOPLE = {"agent": {lifecycle.AGENT}, "manager": {lifecycle.APPROVER}, "colleague": set()}
# The week grid's save is "edit", or "correct" on an approved cell (a new entry).
CALLS = {
    "edit": lambda actor, project, entry: services.save_week(actor, MONDAY, values={(project.id, MONDAY): "3"}),
    "submit": lambda actor, project, entry: services.submit_week(actor, MONDAY),
    "recall": lambda actor, project, entry: services.recall_week(actor, MONDAY),
    "approve": lambda actor, project, entry: services.decide(actor, [entry.id], approve=True),
    "refuse": lambda actor, project, entry: services.decide(actor, [entry.id], approve=False,
                                                            reason="Pas de réunion ce jour-là."),
}
CALLS["correct"] = CALLS["edit"]
# When the table refuses a week-wide action, the week has nothing it applies to.
WEEK_REFUSAL = {"submit": ValidationFailed, "recall": InvalidTransition}


@pytest.fixture(autouse=True)
def pinned_today():
    """The clock stands still at noon in Paris on TODAY, for every module that reads it."""
    with time_machine.travel(datetime.combine(TODAY, time(12), tzinfo=ZoneInfo("Europe/Paris")), tick=False):
        yield


def test_table_is_consistent():
    assert set(CALLS) == set(ENTRIES.actions)
    assert ENTRIES.roles == {lifecycle.AGENT, lifecycle.APPROVER}
    # Only the approver decides, only from "submitted"; an approved entry is never changed.
    assert {t.action for t in ENTRIES.transitions if lifecycle.APPROVER in t.who} == {"approve", "refuse"}
    assert all(t.target == t.source for t in ENTRIES.transitions if t.source == ENTRIES.target("approve"))


def _verdict(state, action, person):
    if action in ("edit", "correct") and person == "agent":  # one save, whichever applies
        return ENTRIES.transition(state, "edit") or ENTRIES.transition(state, "correct") or InvalidTransition
    return table_verdict(ENTRIES, state, action, PEOPLE[person])


@pytest.mark.parametrize("state", ENTRIES.states)
@pytest.mark.parametrize("action", ENTRIES.actions)
def test_transition_by_person_and_state(action, state):
    manager = make_user(first_name="Karim")
    agent = make_user(org_unit=manager.org_unit, manager=manager, first_name="Camille")
    people = {"agent": agent, "manager": manager,
              "colleague": make_user(org_unit=manager.org_unit, manager=manager, first_name="Inès")}
    project = make_project(title="Carnet", starts_on=date(2026, 9, 1), ends_on=date(2027, 6, 30),
                           members=tuple(people.values()), member_role="Membre", hours_budget=10)
    entry = make_time_entry(agent, project, day=MONDAY, minutes=120, status=state)
    verdicts = {person: _verdict(state, action, person) for person in PEOPLE}
    for person in sorted(PEOPLE, key=lambda p: not isinstance(verdicts[p], type)):
        verdict = verdicts[person]
        if isinstance(verdict, type):
            if person == "agent" or action in ("approve", "refuse"):
                with pytest.raises(WEEK_REFUSAL.get(action, verdict)):
                    CALLS[action](people[person], project, entry)
            else:
                # Week-wide actions act on the actor's own week: another person's call
                # cannot reach this entry, whatever it answers for their own.
                try:
                    CALLS[action](people[person], project, entry)
                except (NotAllowed, InvalidTransition, ValidationFailed):
                    pass
            db.session.refresh(entry)
            assert (entry.status, entry.minutes) == (state, 120), person
        else:
            CALLS[action](people[person], project, entry)
            db.session.refresh(entry)
            assert entry.status == verdict.target
            if verdict.action == "correct":
                correction = db.session.query(TimeEntry).filter_by(corrects_id=entry.id).one()
                assert (correction.status, correction.minutes) == (ENTRIES.initial, 180)
