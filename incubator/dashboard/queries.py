"""Indicators of the programme, each from an aggregate SQL query; the page runs a fixed
number of queries whatever the size of the institution.

No figure singles a person out: each query also counts the distinct people a figure is
about (authors of the proposals counted, agents whose hours are summed, applicants), and
a figure about fewer than MIN_GROUP_SIZE people is replaced by « moins de 5 » (`guarded`)
before it leaves this module, so the charts, their tables and the CSV cannot show it.
Counts of projects and of sessions are about projects and sessions (public in the
portfolio and the journal), not about people, and are shown as they are.

Each query reads a covering index (migrations 0017, 0018 and 0024); the approved hours come from
the agent-month totals the approval keeps (release_time.totals), not from a year of entries.
The PostgreSQL plans at full scale are in docs/plans/dashboard.txt (`python -m bench.plans`
refreshes them), and the bench measures the whole computation without the cache
(`dashboard_compute_ms`): the cache spares repeated views, the figures do not need it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import String, case, cast, extract, func, literal, null, select, union_all
from sqlalchemy.orm import aliased

from ..collective.models import CollectiveMembership
from ..engagement.queries import Period
from ..extensions import db
from ..immersions.models import Application
from ..organisation.models import OrgUnit
from ..people.models import User
from ..projects.models import Project, ProjectMember
from ..proposals import lifecycle
from ..proposals.models import Proposal, Theme
from ..release_time.models import ApprovedMonth, TimeEntry
from ..release_time.services import month_start, next_month
from ..release_time.totals import counted, key_of, month_key
from ..review.models import ReviewSession
from ..timeutil import MONTHS_FR, to_paris, utcnow
from .charts import Chart, Hidden, guarded, protect

ANSWERS = ("accepted", "rejected", "changes_requested", "not_eligible")


def month_label(key: str) -> str:
    """« 2026-03 » -> « mars 2026 »."""
    year, month = key.split("-")
    return f"{MONTHS_FR[int(month) - 1]} {year}"


def _rank(count: int, share: float) -> int:
    """The rank (from 1) of the value at `share` of `count` sorted values (nearest rank)."""
    return min(count - 1, max(0, round(share * (count - 1)))) + 1


@dataclass
class Dashboard:
    period: Period
    funnel: Chart
    answered_share: float | Hidden | None
    median_days: float | Hidden | None
    p90_days: float | Hidden | None
    by_theme: Chart
    by_direction: Chart
    participation: Chart
    hours_by_direction: Chart
    hours_by_month: Chart
    immersions: Chart
    backlog: Chart | None = None
    sessions_by_month: Chart | None = None
    computed_at: datetime | None = None


# Built dashboards, per worker: (institution, period, coordinator) -> (expires, dashboard).
_CACHE: dict[tuple, tuple[float, Dashboard]] = {}
_CACHE_SIZE = 64


def cached_build(institution_id: int, period: Period, *, coordinator: bool) -> Dashboard:
    """The dashboard, recomputed at most every DASHBOARD_CACHE_SECONDS. Its aggregates read
    years of proposals and release time: a large institution would otherwise pay seconds
    for each view, for figures that move by the day."""
    ttl = current_app.config["DASHBOARD_CACHE_SECONDS"]
    if ttl <= 0:
        return build(institution_id, period, coordinator=coordinator)
    key = (institution_id, period.start, period.end, coordinator, current_app.config["MIN_GROUP_SIZE"])
    now = time.monotonic()
    found = _CACHE.get(key)
    if found and found[0] > now:
        return found[1]
    dashboard = build(institution_id, period, coordinator=coordinator)
    for stale in [k for k, (expires, _d) in _CACHE.items() if expires <= now]:
        _CACHE.pop(stale, None)
    while len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)), None)
    _CACHE[key] = (now + ttl, dashboard)
    return dashboard


def _days_between(start, end):
    """`end - start` in days (a float), in SQL: NULL when either is."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.julianday(end) - func.julianday(start)
    return extract("epoch", end - start) / 86400


def _approved_hours(institution_id: int, period: Period):
    """Two subqueries on the approved hours of the period: (user_id, minutes) per agent, and
    (month, minutes, agents) per month. The months the period covers whole come from the
    agent-month totals (ix_approved_months_institution_month); the days of the months it
    covers in part (a chosen period) from the entries, each range its own select so that it
    reads only its days of the index."""
    dialect = db.session.get_bind().dialect.name
    whole_from = period.start if period.start.day == 1 else next_month(period.start)
    whole_until = next_month(period.end) if (period.end + timedelta(days=1)).day == 1 else month_start(period.end)
    ranges = []
    if whole_from >= whole_until:
        ranges.append((period.start, period.end))
        by_agent, by_month = [], []
    else:
        ranges += [(period.start, whole_from - timedelta(days=1))] if period.start < whole_from else []
        ranges += [(whole_until, period.end)] if whole_until <= period.end else []
        whole = (ApprovedMonth.institution_id == institution_id, ApprovedMonth.month >= key_of(whole_from),
                 ApprovedMonth.month < key_of(whole_until))
        by_agent = [select(ApprovedMonth.user_id, func.sum(ApprovedMonth.minutes).label("minutes"))
                    .where(*whole).group_by(ApprovedMonth.user_id)]
        # One row per agent and month: a month's rows are its agents.
        by_month = [select(ApprovedMonth.month, func.sum(ApprovedMonth.minutes).label("minutes"),
                           func.count().label("agents")).where(*whole).group_by(ApprovedMonth.month)]
    month = month_key(TimeEntry.day, dialect)
    for first, last in ranges:
        days = (TimeEntry.institution_id == institution_id, TimeEntry.day >= first, TimeEntry.day <= last,
                *counted())
        by_agent.append(select(TimeEntry.user_id, func.sum(TimeEntry.minutes).label("minutes"))
                        .where(*days).group_by(TimeEntry.user_id))
        by_month.append(select(month.label("month"), func.sum(TimeEntry.minutes).label("minutes"),
                               func.count(func.distinct(TimeEntry.user_id)).label("agents"))
                        .where(*days).group_by(month))
    if len(by_agent) == 1:
        per_agent = by_agent[0]
    else:  # an agent may have hours in several parts
        parts = union_all(*by_agent).subquery()
        per_agent = select(parts.c.user_id, func.sum(parts.c.minutes).label("minutes")).group_by(parts.c.user_id)
    # The months of the parts are distinct: their rows are simply put together.
    return per_agent.subquery(), union_all(*by_month).subquery()


def _authors_when(condition):
    """The number of distinct authors of the proposals meeting `condition`."""
    return func.count(func.distinct(case((condition, Proposal.author_id))))


def build(institution_id: int, period: Period, *, coordinator: bool) -> Dashboard:
    minimum = current_app.config["MIN_GROUP_SIZE"]
    start_at, end_at = period.start_at, period.end_at
    in_period = (Proposal.institution_id == institution_id, Proposal.submitted_at >= start_at,
                 Proposal.submitted_at < end_at)

    # 1. Funnel, in one query, with the distinct authors behind each count.
    row = db.session.execute(select(
        func.count(),
        func.sum(case((Proposal.state == "withdrawn", 1), else_=0)),
        func.sum(case((Proposal.state.in_(ANSWERS), 1), else_=0)),
        func.sum(case((Proposal.state == "accepted", 1), else_=0)),
        func.count(func.distinct(Proposal.author_id)),
        _authors_when(Proposal.state != "withdrawn"),
        _authors_when(Proposal.state.in_(ANSWERS)),
        _authors_when(Proposal.state == "accepted"),
        func.count(Proposal.first_answered_at),
        _authors_when(Proposal.first_answered_at.is_not(None)),
    ).where(*in_period)).one()
    (submitted, withdrawn, answered, accepted, submitters, base_authors, answered_authors, accepted_authors,
     timed, timed_authors) = (int(v or 0) for v in row)
    # 2. Projects of the institution: active now, completed in the period.
    projects = db.session.execute(select(
        func.sum(case((Project.state == "active", 1), else_=0)),
        func.sum(case(((Project.state == "completed") & (Project.state_changed_at >= start_at)
                       & (Project.state_changed_at < end_at), 1), else_=0)),
    ).where(Project.institution_id == institution_id, Project.state.in_(("active", "completed")),
            Project.kind == "initiative")).one()
    active, completed = (int(v or 0) for v in projects)
    funnel = Chart("entonnoir", "Du dépôt au projet",
                   "Propositions déposées sur la période, réponses rendues, propositions retenues, projets en cours "
                   "et projets terminés.",
                   [("Déposées", guarded(submitted, submitters, minimum)),
                    ("Ayant reçu leur réponse", guarded(answered, answered_authors, minimum)),
                    ("Retenues", guarded(accepted, accepted_authors, minimum)),
                    ("Projets en cours", active), ("Projets terminés", completed)])
    base = submitted - withdrawn
    answered_share = guarded(100 * answered / base, base_authors, minimum) if base else None

    # 3. Time to answer: from submission to the first answer, which each proposal keeps
    # (review.decisions.record), read from ix_proposals_dashboard alone; looking up each
    # proposal's first answering decision took 170 ms of the 550 at full scale. The database
    # computes the days and ranks them, and returns the median and the 90th percentile
    # only, not the 15,000 durations of a year (the funnel counted them and their authors).
    median = p90 = None
    if timed:
        days = _days_between(Proposal.submitted_at, Proposal.first_answered_at)
        ranked = (select(days.label("days"), func.row_number().over(order_by=days).label("rank"))
                  .where(*in_period, Proposal.first_answered_at.is_not(None)).subquery())
        ranks = {share: _rank(timed, share) for share in (0.5, 0.9)}
        found = dict(db.session.execute(select(ranked.c.rank, ranked.c.days)
                                        .where(ranked.c.rank.in_(set(ranks.values())))).all())
        median, p90 = (guarded(max(0.0, float(found[ranks[share]])), timed_authors, minimum) for share in (0.5, 0.9))

    # 4. By theme and by direction, with the distinct authors of each count.
    author_count = func.count(func.distinct(Proposal.author_id))
    theme_rows = db.session.execute(
        select(Theme.name, func.count(), author_count).select_from(Proposal)
        .outerjoin(Theme, Theme.id == Proposal.theme_id)
        .where(*in_period).group_by(Theme.name).order_by(func.count().desc())).all()
    by_theme = Chart("themes", "Propositions par thème", "Nombre de propositions déposées sur la période, par thème.",
                     protect([(name or "Sans thème", count, people) for name, count, people in theme_rows],
                             minimum, adds_up=True, ranked=True))
    # The direction of a unit: its parent when it is a service, else itself.
    unit, parent = aliased(OrgUnit), aliased(OrgUnit)
    direction_name = case((unit.kind == "direction", unit.name), else_=func.coalesce(parent.name, unit.name))
    direction_rows = db.session.execute(
        select(direction_name, func.count(), author_count).select_from(Proposal)
        .outerjoin(unit, unit.id == Proposal.org_unit_id).outerjoin(parent, parent.id == unit.parent_id)
        .where(*in_period).group_by(direction_name).order_by(func.count().desc())).all()
    by_direction = Chart("directions", "Propositions par direction",
                         "Nombre de propositions déposées sur la période, par direction de leur auteur.",
                         protect([(name or "Non rattachées", count, people) for name, count, people in direction_rows],
                                 minimum, adds_up=True, ranked=True))

    # 5. Participation by category: authors, collective members, project members, in one
    # query. Each role's agents are counted by category among the users IN its set (a
    # semi-join), which makes them distinct without a union and a count(distinct) over
    # every row (170 ms at full scale, 60 this way).
    authors = select(Proposal.author_id).where(*in_period)
    members = select(CollectiveMembership.user_id).where(
        CollectiveMembership.institution_id == institution_id,
        CollectiveMembership.overlapping(period.start, period.end))
    teams = select(ProjectMember.user_id).join(Project, Project.id == ProjectMember.project_id).where(
        Project.institution_id == institution_id, Project.state != "framing",
        (Project.starts_on.is_(None)) | (Project.starts_on <= period.end),
        (Project.ends_on.is_(None)) | (Project.ends_on >= period.start))
    counts = {(kind, category): n for kind, category, n in db.session.execute(union_all(*(
        select(literal(kind), User.category, func.count()).where(User.id.in_(ids)).group_by(User.category)
        for kind, ids in (("author", authors), ("collective", members), ("project", teams)))))}
    labels = {"author": "Auteurs", "collective": "Collectif", "project": "Équipes projet"}
    participation = Chart("participation", "Participation par catégorie",
                          "Agents distincts par rôle et par catégorie A, B, C sur la période.",
                          [(f"{labels[k]} — cat. {c}", guarded(counts.get((k, c), 0), counts.get((k, c), 0), minimum))
                           for k in labels for c in "ABC"])

    # 6. Approved release hours by direction and by month, with the distinct agents behind
    # each sum. Whole months come from the agent-month totals (release_time.totals: 100,000
    # rows a year in the bench instead of 290,000 entries); the days of a period's first and
    # last months that the period only partly covers come from the entries themselves.
    per_agent, per_month_rows = _approved_hours(institution_id, period)
    hours_rows = db.session.execute(union_all(
        # Summed per agent first: the users and units are joined to 15,000 sums, not to every row.
        select(direction_name.label("direction"), cast(null(), String).label("month"),
               func.sum(per_agent.c.minutes).label("minutes"), func.count())
        .select_from(per_agent).join(User, User.id == per_agent.c.user_id).outerjoin(unit, unit.id == User.org_unit_id)
        .outerjoin(parent, parent.id == unit.parent_id).group_by(direction_name),
        select(cast(null(), String), per_month_rows.c.month, per_month_rows.c.minutes, per_month_rows.c.agents),
    )).all()
    per_direction: list[tuple[str, float, int]] = []
    per_month: list[tuple[str, float, int]] = []
    for name, in_month, minutes, people in hours_rows:
        hours = round(int(minutes) / 60, 1)  # a sum of sums is a numeric (Decimal) on PostgreSQL
        if in_month is None:
            per_direction.append((name or "Non rattachés", hours, people))
        else:
            per_month.append((in_month, hours, people))
    hours_by_direction = Chart("heures-directions", "Heures de décharge validées par direction",
                               "Total des heures validées par les N+1 sur la période, par direction.",
                               protect(sorted(per_direction, key=lambda r: (-r[1], r[0])), minimum,
                                       adds_up=True, ranked=True), " h")
    hours_by_month = Chart("heures-mois", "Heures de décharge validées par mois",
                           "Total des heures validées par mois sur la période.",
                           protect([(month_label(key), hours, people) for key, hours, people in sorted(per_month)],
                                   minimum, adds_up=True), " h")

    # 7. Immersions made (own agents, selected) and hosted (by the institution's offers).
    row = db.session.execute(select(
        func.sum(case((User.institution_id == institution_id, 1), else_=0)),
        func.sum(case((Proposal.institution_id == institution_id, 1), else_=0)),
        func.count(func.distinct(case((User.institution_id == institution_id, Application.applicant_id)))),
        func.count(func.distinct(case((Proposal.institution_id == institution_id, Application.applicant_id)))),
    ).select_from(Application).join(User, User.id == Application.applicant_id)
        .join(Proposal, Proposal.id == Application.offer_id)
        .where(Application.status == "selected", Application.starts_on >= period.start,
               Application.starts_on <= period.end)).one()
    immersions = Chart("immersions", "Immersions", "Immersions effectuées par des agents de la collectivité et "
                       "immersions accueillies dans ses services, sur la période.",
                       [("Effectuées", guarded(int(row[0] or 0), int(row[2] or 0), minimum)),
                        ("Accueillies", guarded(int(row[1] or 0), int(row[3] or 0), minimum))])

    dashboard = Dashboard(period, funnel, answered_share, median, p90, by_theme, by_direction, participation,
                          hours_by_direction, hours_by_month, immersions, computed_at=utcnow())
    if coordinator:
        now = utcnow()
        # Counted by the database, step by step and age by age (a day-count below 30, up to
        # 60, beyond), from ix_proposals_institution_state alone (it holds the author).
        age = case((Proposal.state_changed_at > now - timedelta(days=30), "moins de 30 j"),
                   (Proposal.state_changed_at > now - timedelta(days=61), "30 à 60 j"), else_="plus de 60 j")
        buckets: dict[str, int] = {}
        bucket_authors: dict[str, int] = {}
        for state, bucket, count, people in db.session.execute(
                select(Proposal.state, age, func.count(), func.count(func.distinct(Proposal.author_id)))
                .where(Proposal.institution_id == institution_id, Proposal.state.in_(lifecycle.OPEN_STATES))
                .group_by(Proposal.state, age)):
            key = f"{lifecycle.STATES[state].label} — {bucket}"
            buckets[key], bucket_authors[key] = count, people
        order = [f"{lifecycle.STATES[s].label} — {b}" for s in lifecycle.OPEN_STATES
                 for b in ("moins de 30 j", "30 à 60 j", "plus de 60 j")]
        dashboard.backlog = Chart("attente", "Propositions en attente, par étape et ancienneté",
                                  "Propositions sans réponse, par étape et par ancienneté dans l'étape.",
                                  [(k, guarded(buckets[k], bucket_authors[k], minimum))
                                   for k in order if buckets.get(k)])
        months: dict[str, int] = {}
        for (starts_at,) in db.session.execute(select(ReviewSession.starts_at).where(
                ReviewSession.institution_id == institution_id, ReviewSession.starts_at >= start_at,
                ReviewSession.starts_at < min(end_at, now))):
            key = f"{to_paris(starts_at):%Y-%m}"
            months[key] = months.get(key, 0) + 1
        dashboard.sessions_by_month = Chart("seances", "Séances tenues par mois",
                                            "Nombre de séances d'arbitrage tenues par mois sur la période.",
                                            [(month_label(k), v) for k, v in sorted(months.items())])
    return dashboard


