"""Every transition of an immersion application, allowed and refused, by state and by
person, walked from the table through the services."""

from datetime import timedelta

import pytest

from incubator.immersions import lifecycle as immersion_lifecycle
from incubator.immersions import services as immersion_services
from incubator.immersions.lifecycle import APPLICATIONS
from incubator.timeutil import today_paris
from tests.factories import make_application, make_proposal, make_user
from tests.helpers import table_verdict

PEOPLE = {"applicant": set(), "manager": {immersion_lifecycle.MANAGER}, "host": {immersion_lifecycle.HOST}, "outsider": set()}
CALLS = {
    "consent": lambda actor, a: immersion_services.manager_decide(actor, a, consent=True, reason=""),
    "refuse": lambda actor, a: immersion_services.manager_decide(actor, a, consent=False, reason="Pas ce trimestre-ci."),
    "select": lambda actor, a: immersion_services.select_applicant(actor, a, selected=True),
    "decline": lambda actor, a: immersion_services.select_applicant(actor, a, selected=False),
}


def test_table_is_consistent():
    assert set(CALLS) == set(APPLICATIONS.actions)
    assert APPLICATIONS.roles <= {immersion_lifecycle.APPLICANT, immersion_lifecycle.MANAGER, immersion_lifecycle.HOST}
    # The applicant's N+1 answers first, then the host chooses among consented applications.
    assert {t.source for t in APPLICATIONS.transitions if immersion_lifecycle.HOST in t.who} == {
        APPLICATIONS.target("consent")}


@pytest.mark.parametrize("state", APPLICATIONS.states)
@pytest.mark.parametrize("action", APPLICATIONS.actions)
def test_transition_by_person_and_state(action, state):
    host = make_user(first_name="Hôte")
    manager = make_user(org_unit=host.org_unit, first_name="Manager")
    applicant = make_user(org_unit=host.org_unit, manager=manager, first_name="Candidate")
    people = {"applicant": applicant, "manager": manager, "host": host,
              "outsider": make_user(org_unit=host.org_unit)}
    offer = make_proposal(author=host, kind="mobility", state="accepted")
    start = today_paris() + timedelta(days=100)
    application = make_application(offer, applicant, motivation="Découvrir l'accueil des habitants.",
                                   starts_on=start, ends_on=start + timedelta(days=4), working_days=3, status=state)
    # Refused people first (they change nothing), the permitted one last.
    for person in sorted(PEOPLE, key=lambda p: not isinstance(
            table_verdict(APPLICATIONS, state, action, PEOPLE[p]), type)):
        verdict = table_verdict(APPLICATIONS, state, action, PEOPLE[person])
        if isinstance(verdict, type):
            with pytest.raises(verdict):
                CALLS[action](people[person], application)
            assert application.status == state, person
        else:
            CALLS[action](people[person], application)
            assert application.status == verdict.target
