"""Every transition of an agenda item, allowed and refused, by state and by person, walked
from the table through the services. The proposal is in the state that goes with its item's."""

import pytest

from incubator.errors import InvalidTransition
from incubator.extensions import db
from incubator.proposals.lifecycle import COORDINATOR
from incubator.review import decisions, voting
from incubator.review.lifecycle import ITEMS, MEMBER
from incubator.review.models import Attendance, Vote
from tests.factories import make_agenda_item, make_proposal, make_session, make_settings, make_user
from tests.helpers import table_verdict

RATIONALE = ("Le collectif retient la proposition : elle répond à un besoin réel des usagers, "
             "reste faisable avec les moyens actuels et a été bien évaluée.")
PEOPLE = {"coordinator": {COORDINATOR}, "member": {MEMBER}, "agent": set()}
PROPOSAL_STATE = {"pending": "scheduled", "voting": "scheduled", "closed": "scheduled",
                  "postponed": "in_review", "decided": "accepted", "withdrawn": "withdrawn"}
CALLS = {
    "open_vote": lambda actor, item: voting.open_vote(actor, item),
    "postpone": lambda actor, item: voting.postpone_item(actor, item),
    "vote": lambda actor, item: voting.cast_vote(actor, item, choice="for"),
    "close": lambda actor, item: voting.close_vote(actor, item),
    "publish": lambda actor, item: decisions.publish_decision(actor, item, outcome="accepted", rationale=RATIONALE),
    "reschedule": lambda actor, item: voting.schedule(actor, item.session, item.proposal),
}
# Taken inside close_vote, by what the vote finds: tested on their own below.
INNER = {"drop", "adjourn"}


def test_table_is_consistent():
    assert set(CALLS) | INNER == set(ITEMS.actions)
    assert ITEMS.roles == {COORDINATOR, MEMBER}
    assert set(PROPOSAL_STATE) == set(ITEMS.states)
    assert {t.action for t in ITEMS.transitions if MEMBER in t.who} == {"vote"}
    assert not ITEMS.available(ITEMS.target("publish"), {COORDINATOR, MEMBER})


@pytest.fixture
def cast():
    coordinator = make_user(roles=["coordinator"], first_name="Coord")
    unit = coordinator.org_unit
    members = [make_user(org_unit=unit, collective=True, first_name=f"Membre{i}") for i in range(3)]
    make_settings(coordinator.institution)
    session = make_session(coordinator.institution, created_by=coordinator)
    voting.set_attendance(coordinator, session, present_ids=[m.id for m in members])
    return {"coordinator": coordinator, "member": members[0], "agent": make_user(org_unit=unit),
            "session": session}


def _item(cast, state):
    proposal = make_proposal(author=cast["agent"], state=PROPOSAL_STATE[state])
    return make_agenda_item(cast["session"], proposal, position=1, status=state,
                            result="adopted" if state in ("closed", "decided") else None)


@pytest.mark.parametrize("state", ITEMS.states)
@pytest.mark.parametrize("action", sorted(CALLS))
def test_transition_by_person_and_state(action, state, cast):
    item = _item(cast, state)
    verdicts = {p: table_verdict(ITEMS, state, action, PEOPLE[p]) for p in PEOPLE}
    for person in sorted(PEOPLE, key=lambda p: not isinstance(verdicts[p], type)):
        verdict = verdicts[person]
        if isinstance(verdict, type):
            with pytest.raises(verdict):
                CALLS[action](cast[person], item)
            db.session.refresh(item)
            assert item.status == state, person
        else:
            CALLS[action](cast[person], item)
            db.session.refresh(item)
            assert item.status == verdict.target
            if action == "vote":
                assert db.session.query(Vote).filter_by(item_id=item.id).count() == 1


def test_closing_a_withdrawn_proposal_drops_its_item(cast):
    item = _item(cast, "voting")
    item.proposal.state = "withdrawn"
    assert voting.close_vote(cast["coordinator"], item) == ITEMS.target("drop")
    with pytest.raises(InvalidTransition):
        voting.close_vote(cast["coordinator"], item)


def test_closing_without_quorum_adjourns_the_item(cast):
    item = _item(cast, "voting")
    db.session.query(Attendance).filter_by(session_id=cast["session"].id).delete()  # nobody present
    assert voting.close_vote(cast["coordinator"], item) == "no_quorum"
    assert item.status == ITEMS.target("adjourn") and item.proposal.state == "in_review"
