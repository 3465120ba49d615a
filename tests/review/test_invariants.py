"""Property-based (stateful) test of the arbitration: random sequences of actions by
random users, with the invariants checked after every step:

- no decision without its rationale;
- no vote by a recused or absent member;
- never two decisions for one agenda item;
- the tally of a closed item equals its stored votes.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import func, select

from incubator.errors import DomainError
from incubator.extensions import db
from incubator.proposals.models import Proposal
from incubator.review import assessments, decisions, policy, voting
from incubator.review.models import AgendaItem, Attendance, Decision, ReviewSession, Vote
from tests.factories import make_criterion, make_proposal, make_session, make_settings, make_user
from tests.helpers import empty_tables

LONG = ("Le collectif a débattu de la proposition au regard des critères publiés et des évaluations "
        "de ses membres ; la décision ci-dessus en découle.")
CHOICES = ["for", "against", "abstain", "consent", "objection"]
# The coordinator (index 0) half of the time, so that sequences reach votes and decisions.
USERS = st.one_of(st.just(0), st.integers(0, 5))




class Arbitration(RuleBasedStateMachine):
    @initialize(rule=st.sampled_from(["majority", "consent"]), quorum=st.integers(1, 100))
    def setup(self, rule, quorum):
        empty_tables()
        coordinator = make_user(roles=["coordinator"], collective=True)
        unit = coordinator.org_unit
        make_settings(coordinator.institution, decision_rule=rule, quorum_percent=quorum)
        make_criterion(coordinator.institution)
        members = [make_user(org_unit=unit, collective=True) for _ in range(4)]
        author = members[0]
        outsider = make_user(org_unit=unit)
        proposals = [make_proposal(author=author, state="in_review"),
                     make_proposal(author=outsider, state="in_review", coauthors=(members[1],))]
        session = make_session(coordinator.institution, created_by=coordinator)
        db.session.commit()
        self.user_ids = [coordinator.id] + [m.id for m in members] + [outsider.id]
        self.proposal_ids = [p.id for p in proposals]
        self.session_id = session.id

    def _user(self, index):
        from incubator.people.models import User

        return db.session.get(User, self.user_ids[index % len(self.user_ids)])

    def _item(self, index):
        items = db.session.scalars(select(AgendaItem).where(AgendaItem.session_id == self.session_id)
                                   .order_by(AgendaItem.id)).all()
        return items[index % len(items)] if items else None

    def _attempt(self, action) -> None:
        """Like a request: the change is committed, or refused and rolled back entirely."""
        try:
            action()
        except DomainError:
            db.session.rollback()
        else:
            db.session.commit()

    @rule(user=USERS, proposal=st.integers(0, 1))
    def schedule(self, user, proposal):
        session = db.session.get(ReviewSession, self.session_id)
        self._attempt(lambda: voting.schedule(self._user(user), session,
                                                db.session.get(Proposal, self.proposal_ids[proposal])))

    @rule(user=USERS, present=st.one_of(st.just(frozenset(range(5))), st.sets(st.integers(0, 5), max_size=6)))
    def attendance(self, user, present):
        session = db.session.get(ReviewSession, self.session_id)
        self._attempt(lambda: voting.set_attendance(
            self._user(user), session, present_ids=[self.user_ids[i] for i in present]))

    @rule(user=USERS, item=st.integers(0, 3))
    def open_vote(self, user, item):
        found = self._item(item)
        if found is not None:
            self._attempt(lambda: voting.open_vote(self._user(user), found))

    @rule(user=USERS, item=st.integers(0, 3), choice=st.sampled_from(CHOICES),
          reason=st.sampled_from(["", "Objection motivée par le coût."]))
    def vote(self, user, item, choice, reason):
        found = self._item(item)
        if found is not None:
            self._attempt(lambda: voting.cast_vote(self._user(user), found, choice=choice, reason=reason))

    @rule(user=USERS, item=st.integers(0, 3))
    def close_vote(self, user, item):
        found = self._item(item)
        if found is not None:
            self._attempt(lambda: voting.close_vote(self._user(user), found))

    @rule(user=USERS, item=st.integers(0, 3),
          outcome=st.sampled_from(["accepted", "rejected", "changes_requested", "not_eligible"]),
          rationale=st.sampled_from(["", "Trop court.", LONG, LONG]))
    def publish(self, user, item, outcome, rationale):
        found = self._item(item)
        if found is not None:
            self._attempt(lambda: decisions.publish_decision(self._user(user), found, outcome=outcome,
                                                            rationale=rationale))

    @rule(user=USERS, proposal=st.integers(0, 1))
    def conflict(self, user, proposal):
        self._attempt(lambda: assessments.declare_conflict(
            self._user(user), db.session.get(Proposal, self.proposal_ids[proposal]),
            reason="Lien personnel avec le projet."))

    @rule(proposal=st.integers(0, 1), present=st.sets(st.integers(0, 4), min_size=1),
          voters=st.lists(st.tuples(st.integers(0, 5), st.sampled_from(CHOICES)), max_size=8),
          outcome=st.sampled_from(["accepted", "rejected", "changes_requested"]),
          rationale=st.sampled_from(["Trop court.", LONG, LONG]))
    def whole_item(self, proposal, present, voters, outcome, rationale):
        """A full agenda item in one go (schedule, attendance, open, votes, close, publish),
        each step through its guard, so that sequences often reach decisions."""
        self.schedule(0, proposal)
        self.attendance(0, present)
        items = db.session.scalars(select(AgendaItem).where(
            AgendaItem.session_id == self.session_id,
            AgendaItem.proposal_id == self.proposal_ids[proposal])).all()
        for item in items:
            index = db.session.scalars(select(AgendaItem.id).where(
                AgendaItem.session_id == self.session_id).order_by(AgendaItem.id)).all().index(item.id)
            self.open_vote(0, index)
            for voter, choice in voters:
                self.vote(voter, index, choice, "Objection motivée par le coût.")
            self.close_vote(0, index)
            self.publish(0, index, outcome, rationale)

    @invariant()
    def decisions_have_rationale_and_are_unique_per_item(self):
        if not hasattr(self, "session_id"):
            return
        for decision in db.session.scalars(select(Decision)):
            assert len(decision.rationale.strip()) >= 80  # "a few sentences", as published
        duplicates = db.session.execute(
            select(Decision.item_id, func.count()).where(Decision.item_id.is_not(None))
            .group_by(Decision.item_id).having(func.count() > 1)).all()
        assert duplicates == []

    @invariant()
    def votes_only_by_present_non_recused_members(self):
        if not hasattr(self, "session_id"):
            return
        session = db.session.get(ReviewSession, self.session_id)
        present = set(db.session.scalars(select(Attendance.user_id).where(Attendance.session_id == session.id)))
        for item in session.items:
            if item.status != "voting":
                continue
            recused = policy.recused_ids(item.proposal)
            for vote in db.session.scalars(select(Vote).where(Vote.item_id == item.id)):
                assert vote.user_id in present and vote.user_id not in recused

    @invariant()
    def tallies_equal_stored_votes(self):
        if not hasattr(self, "session_id"):
            return
        for item in db.session.scalars(select(AgendaItem).where(
                AgendaItem.session_id == self.session_id, AgendaItem.status.in_(("closed", "decided")))):
            counted = Counter(db.session.scalars(select(Vote.choice).where(Vote.item_id == item.id)))
            assert {k: v for k, v in item.tally["counts"].items() if v} == dict(counted)
            decision = db.session.scalar(select(Decision).where(Decision.item_id == item.id))
            if decision is not None:
                assert decision.tally == item.tally

    def teardown(self):
        empty_tables()


Arbitration.TestCase.settings = settings(
    max_examples=40, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def test_arbitration_invariants(app):
    Arbitration.TestCase().runTest()
