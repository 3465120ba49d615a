"""Many people acting on the same objects at the same moment, on a real multi-process
server: nothing counted twice, nothing lost, one winner and a clear 409 for the others,
never a 5xx. On SQLite, writers wait for the lock instead of failing."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from incubator.accounts.models import LoginAttempt
from incubator.audit.models import AuditEvent
from incubator.extensions import db
from incubator.people import hierarchy
from incubator.projects.models import Project
from incubator.proposals.models import CoAuthor, Proposal, Support
from incubator.release_time import services as time_services
from incubator.release_time.models import TimeEntry
from incubator.review import voting
from incubator.review.models import AgendaItem, Decision, Vote
from incubator.text import normalise
from incubator.timeutil import today_paris
from tests.factories import make_project, make_proposal, make_session, make_settings, make_user

from .live import Answer, at_once, statuses

RATIONALE = ("Le collectif retient la proposition : elle répond à un besoin réel des usagers, "
             "reste faisable avec les moyens actuels et a été bien évaluée.")
MONDAY = date(2026, 11, 16)


def fresh() -> None:
    """End the test's snapshot: read what the server committed."""
    db.session.rollback()
    db.session.expire_all()


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def audit_count(action: str, **where) -> int:
    query = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    for column, value in where.items():
        query = query.where(getattr(AuditEvent, column) == value)
    return db.session.scalar(query)


def assert_answers(answers, allowed=(200, 303, 409)) -> None:
    problems = [a if not isinstance(a, Answer) else (a.status, a.text[:300])
                for a in answers if not isinstance(a, Answer) or a.status not in allowed]
    assert not problems, problems


def test_supports_at_once_are_each_counted_once(live):
    author = make_user()
    proposal = make_proposal(author=author, state="submitted")
    agents = [make_user(institution=author.institution) for _ in range(8)]
    db.session.commit()
    browsers = live.logged_in(*agents)
    path = f"/propositions/{proposal.id}/soutien"

    # Everyone backs it at once; four of them also click a second time, in htmx.
    answers = at_once(*[lambda b=b: b.post(path) for b in browsers],
                      *[lambda b=b: b.post(path, htmx=True) for b in browsers[:4]])
    assert_answers(answers, allowed=(200, 303))
    fresh()
    backers = db.session.scalars(select(Support.user_id).where(Support.proposal_id == proposal.id)).all()
    assert len(backers) == len(set(backers))
    assert set(agents[i].id for i in range(4, 8)) <= set(backers)  # single click: backed
    assert db.session.get(Proposal, proposal.id).support_count == len(backers)

    # Everyone clicks again at once: each one's support flips, the counter follows.
    before = set(backers)
    answers = at_once(*[lambda b=b: b.post(path) for b in browsers])
    assert_answers(answers, allowed=(303,))
    fresh()
    backers = db.session.scalars(select(Support.user_id).where(Support.proposal_id == proposal.id)).all()
    assert set(backers) == {a.id for a in agents} - before
    assert db.session.get(Proposal, proposal.id).support_count == len(backers)


def test_votes_closing_and_publishing_at_once(live):
    coordinator = make_user(roles=["coordinator"], collective=True)
    second = make_user(org_unit=coordinator.org_unit, roles=["coordinator"], collective=True)
    members = [make_user(org_unit=coordinator.org_unit, collective=True) for _ in range(4)]
    make_settings(coordinator.institution)
    proposal = make_proposal(author=make_user(org_unit=coordinator.org_unit), state="in_review")
    session = make_session(coordinator.institution, created_by=coordinator)
    item = voting.schedule(coordinator, session, proposal)
    voters = [coordinator, second, *members]
    voting.set_attendance(coordinator, session, present_ids=[u.id for u in voters])
    voting.open_vote(coordinator, item)
    db.session.commit()
    browsers = live.logged_in(*voters)
    vote = f"/arbitrage/points/{item.id}/voter"

    # Every voter clicks twice (a double click, or a second tab); the last one changes
    # their mind between the two.
    calls = []
    for index, browser in enumerate(browsers):
        second_choice = "against" if index == len(browsers) - 1 else "for"
        calls += [lambda b=browser: b.post(vote, {"choice": "for"}),
                  lambda b=browser, c=second_choice: b.post(vote, {"choice": c}, htmx=True)]
    assert_answers(at_once(*calls), allowed=(200, 303))
    fresh()
    votes = db.session.scalars(select(Vote.user_id).where(Vote.item_id == item.id)).all()
    assert sorted(votes) == sorted(u.id for u in voters)

    # Both coordinators close the vote, one of them twice: one result.
    close = f"/arbitrage/points/{item.id}/clore"
    answers = at_once(lambda: browsers[0].post(close), lambda: browsers[1].post(close),
                      lambda: browsers[1].post(close))
    assert statuses(answers) == [303, 409, 409], [(a.status, a.text[:300]) for a in answers]
    fresh()
    assert db.session.get(AgendaItem, item.id).result == "adopted"

    # Both publish the decision, twice each: published once, one project, one event.
    publish = f"/arbitrage/points/{item.id}/publier"
    data = {"outcome": "accepted", "rationale": RATIONALE}
    answers = at_once(*[lambda b=b: b.post(publish, data) for b in (browsers[0], browsers[1]) * 2])
    assert statuses(answers) == [303, 409, 409, 409], [(a.status, a.text[:300]) for a in answers]
    fresh()
    assert count(Decision, Decision.item_id == item.id) == 1
    assert count(Project, Project.proposal_id == proposal.id) == 1
    assert audit_count("review.decided", target_id=proposal.id) == 1
    assert db.session.get(Proposal, proposal.id).state == "accepted"


def test_time_approvals_at_once_none_lost_none_twice(live):
    manager = make_user(first_name="Karim")
    deputy = make_user(org_unit=manager.org_unit, first_name="Inès")
    make_user(org_unit=manager.org_unit, manager=deputy)  # the deputy is a manager too
    agents = [make_user(org_unit=manager.org_unit, manager=manager) for _ in range(6)]
    project = make_project(title="Carnet des bâtiments", starts_on=date(2026, 9, 1), ends_on=date(2027, 6, 30),
                           members=agents, member_role="Membre", hours_budget=10)
    entry_ids = {}
    for agent in agents:
        time_services.save_week(agent, MONDAY, values={(project.id, MONDAY): "2"})
        time_services.submit_week(agent, MONDAY)
        entry_ids[agent.id] = db.session.scalar(select(TimeEntry.id).where(TimeEntry.user_id == agent.id))
    today = today_paris()
    hierarchy.delegate(manager, delegate_email=deputy.email, starts_on=today,
                           ends_on=today + timedelta(days=10))
    db.session.commit()
    boss, stand_in, recaller = live.logged_in(manager, deputy, agents[0])

    # The N+1 and the deputy approve every line, one request per line, while the first
    # agent recalls their week.
    calls = [lambda b=b, e=e: b.post("/validations", {"entry": str(e), "action": "approve"})
             for e in entry_ids.values() for b in (boss, stand_in)]
    calls.append(lambda: recaller.post(f"/mon-temps/rappeler?semaine={MONDAY}"))
    answers = at_once(*calls)
    assert_answers(answers, allowed=(303, 409))
    fresh()
    recalled = answers[-1].status == 303
    by_entry = {}
    for agent in agents:
        entry = db.session.get(TimeEntry, entry_ids[agent.id])
        by_entry[entry.id] = entry
        if agent is agents[0] and recalled:
            assert entry.status == "draft" and entry.decided_by_id is None
        else:
            assert entry.status == "approved" and entry.decided_by_id in (manager.id, deputy.id)
    approved = [e for e in by_entry.values() if e.status == "approved"]
    # One winner per line: as many successful approvals as approved lines, one event each.
    assert sum(1 for a in answers[:-1] if a.status == 303) == len(approved)
    assert audit_count("time.approved") == len(approved)
    assert count(TimeEntry) == len(agents)


def test_coauthor_answers_at_once(live):
    author = make_user(first_name="Camille", last_name="Martin")
    names = ["Bernard", "Dubois", "Lefèvre", "Moreau", "Garnier"]
    invited = [make_user(institution=author.institution, first_name="Dominique", last_name=name)
               for name in names]
    proposal = make_proposal(author=author, state="submitted", invited=tuple(invited))
    db.session.commit()
    browsers = live.logged_in(*invited)
    path = f"/propositions/{proposal.id}/invitation"

    # Everyone accepts with a double click, but the last one, who accepts in one tab and
    # declines in another.
    calls = []
    for index, browser in enumerate(browsers):
        second = "decline" if index == len(browsers) - 1 else "accept"
        calls += [lambda b=browser: b.post(path, {"answer": "accept"}),
                  lambda b=browser, a=second: b.post(path, {"answer": a})]
    answers = at_once(*calls)
    assert_answers(answers, allowed=(303, 409))
    for index in range(len(browsers)):  # one answer per person, the other one refused
        assert statuses(answers[2 * index: 2 * index + 2]) == [303, 409], \
            [(a.status, a.text[:300]) for a in answers[2 * index: 2 * index + 2]]
    fresh()
    links = {c.user_id: c.status for c in db.session.scalars(
        select(CoAuthor).where(CoAuthor.proposal_id == proposal.id))}
    for user in invited:
        accepted = audit_count("proposal.coauthor_accepted", actor_id=user.id)
        declined = audit_count("proposal.coauthor_declined", actor_id=user.id)
        assert (accepted, declined) == ((1, 0) if links[user.id] == "accepted" else (0, 1)), user.last_name
    assert list(links.values()).count("accepted") >= len(invited) - 1
    # The search text names every co-author who accepted: no acceptance overwrote another.
    search_text = db.session.get(Proposal, proposal.id).search_text
    for user in invited:
        assert (normalise(user.full_name) in search_text) == (links[user.id] == "accepted"), user.last_name


def test_login_throttling_holds_across_workers(live, app):
    user = make_user()
    db.session.commit()
    email = user.email
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    attempts = 3 * limit
    browsers = [live.browser() for _ in range(attempts)]
    for browser in browsers:
        browser.get("/connexion")

    # A burst of wrong passwords spread over the workers: only `limit` are even checked.
    answers = at_once(*[lambda b=b: b.post("/connexion", {"email": email, "password": "devine-moi-bien"})
                        for b in browsers])
    assert statuses(answers) == [422] * limit + [429] * (attempts - limit), \
        [(a.status if isinstance(a, Answer) else a) for a in answers]
    fresh()
    assert count(LoginAttempt, LoginAttempt.email == email) == limit
    # The right password now waits too, whichever worker answers.
    for _ in range(3):
        assert live.browser().log_in(email).status == 429


def test_reads_that_write_wait_for_the_writers(live):
    """An HR read of an agent's record is logged: a GET that writes. Among writers, it
    waits for SQLite's lock like they do."""
    hr = make_user(roles=["hr"])
    proposal = make_proposal(author=make_user(institution=hr.institution), state="submitted")
    agents = [make_user(institution=hr.institution) for _ in range(6)]
    db.session.commit()
    reader, *backers = live.logged_in(hr, *agents)
    support = f"/propositions/{proposal.id}/soutien"
    record = f"/rh/engagement/{agents[0].id}"
    for _ in range(2):
        answers = at_once(*[lambda b=b: b.post(support) for b in backers],
                          *[lambda: reader.get(record) for _ in range(6)])
        assert_answers(answers, allowed=(200, 303))
    fresh()
    assert audit_count("engagement.viewed", target_id=agents[0].id) == 12
    assert db.session.get(Proposal, proposal.id).support_count == 0
