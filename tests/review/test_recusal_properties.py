"""Property-based (stateful) test of "no proposal is accepted without the collective's vote;
recusal applies to the coordinator": random sequences of actions (eligibility, corrections,
conflicts, substitutes, scheduling, attendance, votes, publication, charters) by random
personas, among them coordinators who are authors, co-authors or declare conflicts, and an
institution with one coordinator or two. After every step:

- every accepted (or rejected, or changes requested) proposal has exactly one published,
  uncorrected outcome, that of a closed vote held in a session that reached quorum, and
  the vote's result allows it; corrections never carry an outcome;
- no recused person took any action on a proposal: the actors of its audit events (and of
  the attendance recorded while it waited for its vote) were not its authors, co-authors,
  or members who had declared a conflict on it;
- a charter's lead, sponsor and validator are three people.

The steps go through the service functions, each committed or rolled back like a request.
Dates are relative to the sessions made here, never to today's weekday.
"""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import select

from incubator.audit.models import AuditEvent
from incubator.errors import DomainError
from incubator.extensions import db
from incubator.people.models import User
from incubator.projects import services as project_services
from incubator.projects.models import Project
from incubator.proposals import services as proposal_services
from incubator.proposals.models import CoAuthor, Proposal
from incubator.review import assessments, coordination, decisions, eligibility, voting
from incubator.review.models import (
    DEFAULT_INELIGIBILITY_REASONS,
    AgendaItem,
    Decision,
    ReviewSession,
)
from incubator.review.policy import can_act_as_coordinator
from tests.factories import make_criterion, make_proposal, make_session, make_settings, make_user
from tests.helpers import empty_tables

LONG = ("Le collectif a débattu de la proposition au regard des critères publiés et des évaluations "
        "de ses membres ; la décision ci-dessus en découle.")
CHOICES = ["for", "for", "against", "abstain", "consent", "objection"]
# Personas: 0 coordinator (author of proposal 0), 1 coordinator or member (co-author of
# proposal 1), 2-4 members (2: author of proposal 2), 5 an agent (author of proposal 1),
# 6 an administrator. The coordinators twice as often, so that sequences reach votes.
PERSONAS = st.sampled_from([0, 0, 1, 1, 2, 3, 4, 5, 6])
# Or None: the first persona the rule lets act (see Recusal._acting).
ACTORS = st.one_of(st.none(), PERSONAS)
PROPOSALS = st.integers(0, 2)
SESSIONS = st.integers(0, 1)
OUTCOMES = ("accepted", "rejected", "changes_requested")
# What only the coordinator (or the proposal's substitute) does on a proposal.
COORDINATOR_ACTIONS = ("review.opened", "review.not_eligible", "review.scheduled", "review.vote_opened",
                       "review.vote_closed", "review.postponed", "review.decided", "review.corrected",
                       "review.substitute_designated", "project.created")
LEAVES_THE_AGENDA = ("review.vote_opened", "review.postponed", "proposal.withdrawn")




class Recusal(RuleBasedStateMachine):
    @initialize(rule=st.sampled_from(["majority", "consent"]), quorum=st.sampled_from([1, 30, 50, 60, 100]),
                two_coordinators=st.booleans())
    def setup(self, rule, quorum, two_coordinators):
        empty_tables()
        first = make_user(roles=["coordinator"], collective=True, first_name="Nadia")
        unit, institution = first.org_unit, first.institution
        make_settings(institution, decision_rule=rule, quorum_percent=quorum)
        make_criterion(institution)
        second = make_user(org_unit=unit, collective=True, first_name="Omar",
                           roles=["coordinator"] if two_coordinators else [])
        members = [make_user(org_unit=unit, collective=True) for _ in range(3)]
        agent = make_user(org_unit=unit, first_name="Camille")
        admin = make_user(org_unit=unit, roles=["admin"], first_name="Alix")
        people = [first, second, *members, agent, admin]
        proposals = [make_proposal(author=first, state="submitted"),
                     make_proposal(author=agent, state="submitted", coauthors=(second,)),
                     make_proposal(author=members[0], state="in_review")]
        sessions = [make_session(institution, days_ahead=7, created_by=first),
                    make_session(institution, days_ahead=14, created_by=first)]
        db.session.commit()
        self.user_ids = [u.id for u in people]
        self.proposal_ids = [p.id for p in proposals]
        self.session_ids = [s.id for s in sessions]

    # ------------------------------------------------------------------ helpers

    def _user(self, index: int) -> User:
        return db.session.get(User, self.user_ids[index % len(self.user_ids)])

    def _proposal(self, index: int) -> Proposal:
        return db.session.get(Proposal, self.proposal_ids[index])

    def _session(self, index: int) -> ReviewSession:
        return db.session.get(ReviewSession, self.session_ids[index])

    def _item(self, session: int, proposal: int) -> AgendaItem | None:
        return db.session.scalar(select(AgendaItem).where(AgendaItem.session_id == self.session_ids[session],
                                                          AgendaItem.proposal_id == self.proposal_ids[proposal]))

    def _attempt(self, action) -> None:
        """Like a request: the change is committed, or refused and rolled back entirely."""
        try:
            action()
        except DomainError:
            db.session.rollback()
        else:
            db.session.commit()

    def _acting(self, proposal: int, exclude: tuple[int, ...] = ()) -> int:
        """The first persona the rule lets act as coordinator on `proposal` (to drive the
        sequences towards decisions; the invariants do not trust that rule)."""
        found = self._proposal(proposal)
        return next((i for i, uid in enumerate(self.user_ids) if uid not in exclude
                     and can_act_as_coordinator(self._user(i), found) is None), 0)

    # ------------------------------------------------------------------ eligibility and corrections

    @rule(user=ACTORS, proposal=PROPOSALS, eligible=st.booleans(), rationale=st.sampled_from(["Trop court.", LONG, LONG]))
    def eligibility(self, user, proposal, eligible, rationale):
        user = self._acting(proposal) if user is None else user
        if eligible:
            self._attempt(lambda: eligibility.open_review(self._user(user), self._proposal(proposal)))
        else:
            self._attempt(lambda: eligibility.declare_ineligible(
                self._user(user), self._proposal(proposal), reason=DEFAULT_INELIGIBILITY_REASONS[0],
                rationale=rationale))

    @rule(user=ACTORS, proposal=PROPOSALS)
    def correct(self, user, proposal):
        user = self._acting(proposal) if user is None else user
        decision = db.session.scalar(select(Decision).where(Decision.proposal_id == self.proposal_ids[proposal])
                                     .order_by(Decision.published_at.desc(), Decision.id.desc()).limit(1))
        if decision is not None:
            self._attempt(lambda: decisions.correct_decision(self._user(user), decision, rationale=LONG))

    @rule(user=PERSONAS, proposal=PROPOSALS)
    def conflict(self, user, proposal):
        self._attempt(lambda: assessments.declare_conflict(self._user(user), self._proposal(proposal),
                                                        reason="Lien personnel avec le projet."))

    @rule(user=st.sampled_from([6, 6, 0, 1]), proposal=PROPOSALS, substitute=st.integers(0, 6))
    def designate(self, user, proposal, substitute):
        self._attempt(lambda: coordination.designate_substitute(self._user(user), self._proposal(proposal),
                                                            email=self._user(substitute).email))

    @rule(proposal=PROPOSALS)
    def resubmit(self, proposal):
        found = self._proposal(proposal)
        self._attempt(lambda: proposal_services.resubmit_proposal(found.author, found))

    # ------------------------------------------------------------------ sessions

    @rule(user=ACTORS, session=SESSIONS, proposal=PROPOSALS)
    def schedule(self, user, session, proposal):
        user = self._acting(proposal) if user is None else user
        self._attempt(lambda: voting.schedule(self._user(user), self._session(session), self._proposal(proposal)))

    @rule(user=PERSONAS, session=SESSIONS,
          present=st.one_of(st.just(frozenset(range(5))), st.sets(st.integers(0, 6), max_size=7)))
    def attendance(self, user, session, present):
        self._attempt(lambda: voting.set_attendance(self._user(user), self._session(session),
                                                      present_ids=[self.user_ids[i] for i in present]))

    @rule(user=ACTORS, session=SESSIONS, proposal=PROPOSALS,
          step=st.sampled_from(["open", "vote", "vote", "close", "postpone", "publish"]),
          choice=st.sampled_from(CHOICES), outcome=st.sampled_from(OUTCOMES))
    def item_step(self, user, session, proposal, step, choice, outcome):
        """One step of an agenda item by a persona: open, vote, close, postpone, publish."""
        item = self._item(session, proposal)
        if item is None:
            return
        user = self._acting(proposal) if user is None else user
        actor = self._user(user)
        self._attempt({
            "open": lambda: voting.open_vote(actor, item),
            "vote": lambda: voting.cast_vote(actor, item, choice=choice, reason="Objection motivée par le coût."),
            "close": lambda: voting.close_vote(actor, item),
            "postpone": lambda: voting.postpone_item(actor, item),
            "publish": lambda: decisions.publish_decision(actor, item, outcome=outcome, rationale=LONG),
        }[step])

    @rule(user=ACTORS, session=SESSIONS, proposal=PROPOSALS,
          voters=st.lists(st.tuples(st.integers(0, 4), st.sampled_from(CHOICES)), max_size=6),
          outcome=st.sampled_from(OUTCOMES),
          charter=st.one_of(st.none(), st.tuples(ACTORS, st.integers(0, 6), st.integers(0, 6), ACTORS)))
    def whole_item(self, user, session, proposal, voters, outcome, charter):
        """Review, agenda, attendance, vote, close and publish in one go by one persona (a
        random one, or one who may act), each step through its guard, so that sequences
        often reach decisions; then, sometimes, the charter of the project it opened."""
        user = self._acting(proposal) if user is None else user
        self.eligibility(user, proposal, True, LONG)
        self.schedule(user, session, proposal)
        self.attendance(user, session, frozenset(range(5)))
        self.item_step(user, session, proposal, "open", "for", outcome)
        for voter, choice in voters:
            self.item_step(voter, session, proposal, "vote", choice, outcome)
        self.item_step(user, session, proposal, "close", "for", outcome)
        self.item_step(user, session, proposal, "publish", "for", outcome)
        if charter is not None:
            self.charter(proposal, *charter)

    # ------------------------------------------------------------------ charters

    @rule(proposal=PROPOSALS, user=ACTORS, sponsor=st.integers(0, 6), lead=st.integers(0, 6), validator=ACTORS)
    def charter(self, proposal, user, sponsor, lead, validator):
        """Fill the charter (appointing a sponsor), then try to validate it."""
        project = db.session.scalar(select(Project).where(Project.proposal_id == self.proposal_ids[proposal]))
        if project is None:
            return
        user = self._acting(proposal) if user is None else user
        lead_user, sponsor_user = self._user(lead), self._user(sponsor)
        self._attempt(lambda: project_services.save_charter(
            self._user(user), project, sponsor_email=sponsor_user.email, lead_email=lead_user.email,
            objectives="Réduire les délais.", indicators="", starts_on=date(2027, 1, 4), ends_on=date(2027, 6, 30),
            members=[(lead_user.id, "cheffe de projet", "40")]))
        project = db.session.get(Project, project.id)
        validator = (self._acting(proposal, exclude=(project.lead_id, project.sponsor_id))
                     if validator is None else validator)
        self._attempt(lambda: project_services.validate_charter(self._user(validator), project))

    # ------------------------------------------------------------------ invariants

    def _recusal(self):
        """`recused(proposal, event_id)`: who was recused on the proposal when that event was
        written: its authors, co-authors, and whoever had declared a conflict on it by then
        (read once per check)."""
        signers: dict[int, set[int]] = {}
        for proposal_id, user_id in db.session.execute(select(Proposal.id, Proposal.author_id).where(
                Proposal.id.in_(self.proposal_ids))).all() + db.session.execute(select(
                CoAuthor.proposal_id, CoAuthor.user_id).where(CoAuthor.status != "declined")).all():
            signers.setdefault(proposal_id, set()).add(user_id)
        conflicts = db.session.execute(select(AuditEvent.target_id, AuditEvent.actor_id, AuditEvent.id).where(
            AuditEvent.action == "review.conflict_declared", AuditEvent.target_type == "Proposal")).all()

        def recused(proposal_id: int, before_event_id: int) -> set[int]:
            return signers.get(proposal_id, set()) | {actor for target, actor, event_id in conflicts
                                                      if target == proposal_id and event_id < before_event_id}
        return recused

    @invariant()
    def outcomes_only_from_a_closed_vote_with_quorum(self):
        if not hasattr(self, "proposal_ids"):
            return
        for decision in db.session.scalars(select(Decision)):
            if decision.kind == "correction":
                assert decision.outcome in ("reopened", "eligible")  # never an outcome
            elif decision.outcome in OUTCOMES:  # published from a closed vote, with quorum
                assert decision.kind == "session" and decision.tally["present"] >= decision.tally["required"] > 0
        corrected = set(db.session.scalars(select(Decision.corrects_id).where(Decision.corrects_id.is_not(None))))
        for proposal in db.session.scalars(select(Proposal).where(Proposal.id.in_(self.proposal_ids))):
            if proposal.state not in OUTCOMES:
                continue
            # Its standing answer is its latest decision: a vote's published outcome.
            decision = db.session.scalar(select(Decision).where(Decision.proposal_id == proposal.id)
                                         .order_by(Decision.published_at.desc(), Decision.id.desc()).limit(1))
            assert decision is not None and decision.outcome == proposal.state and decision.id not in corrected
            item = db.session.get(AgendaItem, decision.item_id) if decision.item_id else None
            assert decision.kind == "session" and item is not None and item.session_id == decision.session_id
            assert item.status == "decided" and item.vote_closed_at is not None  # a closed vote
            assert decision.outcome in decisions.OUTCOMES_BY_RESULT[item.result]
            tally = item.tally
            assert tally["present"] > 0 and tally["present"] >= tally["required"]  # quorum reached
            assert decision.tally == tally
            if proposal.state == "accepted":
                # Exactly one closed, adopted vote accepted it (an earlier "changes requested"
                # is superseded by the resubmission; a corrected outcome no longer stands).
                accepting = [d for d in db.session.scalars(select(Decision).where(
                    Decision.proposal_id == proposal.id, Decision.outcome == "accepted")) if d.id not in corrected]
                assert [d.id for d in accepting] == [decision.id] and item.result == "adopted"

    @invariant()
    def no_recused_person_acted(self):
        if not hasattr(self, "proposal_ids"):
            return
        recused = self._recusal()
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        on_proposal = [e for e in events if e.target_type == "Proposal"]
        for event in on_proposal:
            if event.action in COORDINATOR_ACTIONS:
                assert event.actor_id not in recused(event.target_id, event.id), (event.action, event.actor_id)
        # Attendance recorded while a proposal waited on a session's agenda makes its quorum.
        attendance = [e for e in events if e.action == "review.attendance_recorded"]
        for start in (e for e in on_proposal if e.action == "review.scheduled"):
            end = next((e.id for e in on_proposal if e.target_id == start.target_id and e.id > start.id
                        and e.action in LEAVES_THE_AGENDA), None)
            for recorded in attendance:
                if recorded.target_id == start.data["session_id"] and start.id < recorded.id < (end or recorded.id + 1):
                    assert recorded.actor_id not in recused(start.target_id, recorded.id)
        # On a project: validating its charter, appointing its sponsor.
        proposal_of = dict(db.session.execute(select(Project.id, Project.proposal_id)).all())
        sponsors: dict[int, int | None] = {}
        for event in (e for e in events if e.target_type == "Project"):
            if event.action == "project.validate_charter":
                assert event.actor_id not in recused(proposal_of[event.target_id], event.id)
            elif event.action == "project.charter_saved":
                if event.data.get("sponsor_id") != sponsors.get(event.target_id):  # appointed by this actor
                    assert event.actor_id not in recused(proposal_of[event.target_id], event.id)
                sponsors[event.target_id] = event.data.get("sponsor_id")

    @invariant()
    def charter_roles_are_three_people(self):
        if not hasattr(self, "proposal_ids"):
            return
        for project in db.session.scalars(select(Project)):
            if project.sponsor_id is not None:
                assert project.sponsor_id != project.lead_id
            if project.charter_validated_by_id is not None:
                assert project.charter_validated_by_id not in (project.lead_id, project.sponsor_id)

    def teardown(self):
        empty_tables()


Recusal.TestCase.settings = settings(
    max_examples=15, stateful_step_count=30, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def test_recusal_and_votes_invariants(app):
    Recusal.TestCase().runTest()
