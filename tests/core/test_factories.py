"""The factories make valid rows alone (every constraint of the schema holds when they are
committed), consistent with each other, and take any column as a keyword."""

import inspect
from datetime import date

import pytest

from incubator.extensions import db
from incubator.workdays import is_working_day
from tests import factories

ALONE = sorted(name for name, f in vars(factories).items()
               if name.startswith("make_") and inspect.isfunction(f)
               and all(p.default is not p.empty or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
                       for p in inspect.signature(f).parameters.values()))


def test_almost_every_factory_needs_no_argument():
    needing = {name for name in vars(factories) if name.startswith("make_")} - set(ALONE)
    assert needing == {"make_role", "make_many_proposals"}


@pytest.mark.parametrize("name", ALONE)
def test_a_factory_alone_makes_a_valid_row(name):
    row = getattr(factories, name)()
    db.session.commit()
    assert row.id is not None and db.session.get(type(row), row.id) is row


def test_a_time_entry_alone_is_a_members_on_a_past_working_day():
    entry = factories.make_time_entry()
    assert is_working_day(entry.day)
    assert entry.user_id in {m.user_id for m in entry.project.members}
    assert entry.project.state == "active" and entry.status == "draft" and entry.minutes == 60
    submitted = factories.make_time_entry(status="submitted", hours=1.5, day=date(2026, 3, 2))
    assert (submitted.minutes, submitted.day) == (90, date(2026, 3, 2)) and submitted.submitted_at is not None


def test_related_rows_follow_what_they_are_given():
    project = factories.make_project(state="framing", objectives="Réduire les délais.")
    entry = factories.make_time_entry(project=project)  # a new agent, made a member
    assert entry.project is project and entry.user_id in {m.user_id for m in project.members}
    item = factories.make_agenda_item(status="closed", result="adopted")
    second = factories.make_agenda_item(item.session)
    assert (item.position, second.position) == (1, 2)
    decision = factories.make_decision(item=item)
    assert (decision.proposal_id, decision.session_id, decision.kind) == (item.proposal_id, item.session_id, "session")
    assert factories.make_decision(outcome="not_eligible").kind == "eligibility"
    application = factories.make_application(manager=None)
    assert application.manager_id is None and application.working_days == 2
    assert factories.make_application().manager_id is not None
    proposal = factories.make_proposal()
    factories.make_comment(proposal)
    factories.make_support(proposal)
    assert (proposal.comment_count, proposal.support_count) == (1, 1)


def test_a_proposal_takes_its_own_columns_apart_from_its_text():
    when = factories.utcnow().replace(year=2026, month=3, day=2)
    proposal = factories.make_proposal(submitted_at=when, support_count=3, problem="Un problème.")
    assert (proposal.submitted_at, proposal.support_count, proposal.problem) == (when, 3, "Un problème.")
