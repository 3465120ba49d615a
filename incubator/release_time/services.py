"""Recording, submitting and approving release time; caps, delegations and budgets.

Every function takes the acting user, checks permission and state, changes the models and
records the audit event; the caller commits. Status changes are conditional UPDATEs so
that an agent and their N+1 acting on the same week at once cannot both win."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import bindparam, delete, exists, func, select
from sqlalchemy.orm import aliased
from sqlalchemy.orm.util import identity_key

from ..audit.services import record
from ..dbutil import prebuilt, request_cached
from ..errors import InvalidTransition, NotAllowed, ValidationFailed
from ..extensions import db
from ..notifications.links import link
from ..notifications.services import notify
from ..people.hierarchy import can_decide_for
from ..people.models import ApprovalDelegation, User
from ..projects.models import Project, ProjectMember
from ..text import clean, decimal_fr
from ..timeutil import today_paris, utcnow
from ..workdays import is_working_day
from . import totals
from .lifecycle import AGENT, COUNTED, ENTRIES
from .models import (
    ANNUAL_HOURS,
    CAP_PERCENT_DEFAULT,
    DAY_MINUTES_DEFAULT,
    CapOverride,
    ReleaseSettings,
    TimeEntry,
)

# From this share of the monthly cap on, the agent is warned (when submitting, and on the
# week's page: see near_cap).
# A refusal of hours or a cap override is motivated: the agent reads it.
REASON_MIN, REASON_MAX = 5, 1000
WARN_SHARE = 0.8
NOTE_MAX = 300  # characters of the note on a week's line


def near_cap(counted: int, cap: int) -> bool:
    """Whether `counted` minutes reach WARN_SHARE of the monthly `cap`."""
    return cap > 0 and counted >= WARN_SHARE * cap


@prebuilt
def _settings_query():
    return select(ReleaseSettings).where(ReleaseSettings.institution_id == bindparam("institution_id"))


@request_cached("release_settings")
def settings_for(institution_id: int) -> ReleaseSettings:
    # Read once a request: the week's page asks it for the daily limit and the monthly cap.
    found = db.session.scalar(_settings_query(), {"institution_id": institution_id})
    return found or ReleaseSettings(institution_id=institution_id, monthly_cap_percent=CAP_PERCENT_DEFAULT,
                                    daily_minutes_full_time=DAY_MINUTES_DEFAULT)


def daily_limit(user: User) -> int:
    """Minutes in the agent's working day (institution setting x quotité), in quarter hours."""
    full = settings_for(user.institution_id).daily_minutes_full_time
    return (full * user.quotite // 100) // 15 * 15


def monthly_cap(user: User) -> int:
    """Minutes a month: the cap share of the agent's monthly working time (1,607 h a year full time)."""
    cap = settings_for(user.institution_id).monthly_cap_percent
    return ANNUAL_HOURS * 60 * user.quotite * cap // (12 * 100 * 100)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def parse_hours(raw: str | None) -> int | None:
    """« 1,5 », « 1.5 », « 1:30 » -> 90 minutes; None if empty; ValueError if not a quarter hour."""
    raw = (raw or "").strip().replace(",", ".")
    if not raw:
        return None
    if ":" in raw:
        hours, _, minutes = raw.partition(":")
        value = Decimal(int(hours)) + Decimal(int(minutes)) / 60
    else:
        try:
            value = Decimal(raw)
        except InvalidOperation as exc:
            raise ValueError(raw) from exc
        if not value.is_finite():  # "NaN", "Infinity": Decimal accepts them, no clock does
            raise ValueError(raw)
    minutes = value * 60
    if minutes < 0 or minutes > 1440 or minutes % 15 != 0:
        raise ValueError(raw)
    return int(minutes)


# --------------------------------------------------------------------------- reading


@prebuilt
def _not_superseded():
    """Entries that no submitted or approved correction replaces. Built once per process
    (the clause is immutable): an alias and a correlated EXISTS cost more to build than
    to run, and the week, approval and project pages use it for each of their sums."""
    newer = aliased(TimeEntry)
    return ~exists().where(newer.corrects_id == TimeEntry.id, newer.status.in_(COUNTED))


@prebuilt
def _counted_minutes_query(statuses: tuple[str, ...]):
    return select(func.coalesce(func.sum(TimeEntry.minutes), 0)).where(
        TimeEntry.user_id == bindparam("user_id"), TimeEntry.day >= bindparam("start"),
        TimeEntry.day < bindparam("end"), TimeEntry.status.in_(statuses), _not_superseded())


def counted_minutes(user_id: int, start: date, end: date, statuses=COUNTED) -> int:
    """Minutes counted between two days (end excluded): each cell once, corrections included."""
    return db.session.scalar(_counted_minutes_query(tuple(statuses)),
                             {"user_id": user_id, "start": start, "end": end}) or 0


@prebuilt
def _week_projects_query():
    return (select(Project).join(ProjectMember, ProjectMember.project_id == Project.id)
            .where(ProjectMember.user_id == bindparam("user_id"), Project.institution_id == bindparam("institution_id"),
                   Project.state == "active",
                   (Project.starts_on.is_(None)) | (Project.starts_on <= bindparam("friday")),
                   (Project.ends_on.is_(None)) | (Project.ends_on >= bindparam("monday")))
            .order_by(Project.title))


def week_projects(user: User, monday: date) -> list[Project]:
    """Projects the agent may record time on this week: a member, project running, dates overlapping."""
    return list(db.session.scalars(_week_projects_query(), {
        "user_id": user.id, "institution_id": user.institution_id,
        "monday": monday, "friday": monday + timedelta(days=4)}))


@prebuilt
def _not_corrected():
    """Entries that no later entry corrects: built once per process, as _not_superseded
    (a new alias costs more to adapt than the week's query takes to run)."""
    newer = aliased(TimeEntry)
    return ~exists().where(newer.corrects_id == TimeEntry.id)


@prebuilt
def _current_entries_query():
    return (select(TimeEntry).where(TimeEntry.user_id == bindparam("user_id"), TimeEntry.day >= bindparam("start"),
                                    TimeEntry.day < bindparam("end"), _not_corrected())
            .order_by(TimeEntry.id))


def current_entries(user: User, start: date, end: date) -> dict[tuple[int, date], TimeEntry]:
    """The entry that stands for each (project, day) cell: the end of its correction chain."""
    rows = db.session.scalars(_current_entries_query(), {"user_id": user.id, "start": start, "end": end})
    return {(e.project_id, e.day): e for e in rows}


# --------------------------------------------------------------------------- recording


def save_week(actor: User, monday: date, *, values: dict[tuple[int, date], str],
              notes: dict[int, str] | None = None) -> None:
    """Save the week's grid as drafts. Empty or zero clears a draft; a new value on an
    approved cell becomes a correction to approve."""
    monday = monday_of(monday)
    days = [monday + timedelta(days=n) for n in range(5)]
    projects = {p.id: p for p in week_projects(actor, monday)}
    errors: dict[str, str] = {}
    parsed: dict[tuple[int, date], int | None] = {}
    for (project_id, day), raw in values.items():
        field = f"h-{project_id}-{day:%Y%m%d}"
        project = projects.get(project_id)
        try:
            minutes = parse_hours(raw)
        except ValueError:
            errors[field] = "Heures par quarts d'heure (ex. 1,5 ou 1:30)."
            continue
        if minutes and project is None:
            errors[field] = "Vous n'êtes pas membre de ce projet en cours."
            continue
        if minutes and day not in days:
            errors[field] = "Jour hors de la semaine affichée."
            continue
        if minutes and project is not None and ((project.starts_on and day < project.starts_on)
                                                 or (project.ends_on and day > project.ends_on)):
            errors[field] = "Ce jour est hors des dates du projet."
            continue
        parsed[(project_id, day)] = minutes
    cells = current_entries(actor, monday, monday + timedelta(days=7))
    limit = daily_limit(actor)
    for day in days:
        total = 0
        for (project_id, cell_day), entry in cells.items():
            if cell_day == day and (project_id, day) not in parsed and entry.status != "refused":
                total += entry.minutes
        total += sum(m or 0 for (p, d), m in parsed.items() if d == day)
        if total > limit:
            errors[f"day-{day:%Y%m%d}"] = (f"Le {day:%d/%m} dépasse votre journée de travail "
                                           f"({limit // 60} h {limit % 60:02d}).")
    if errors:
        raise ValidationFailed(errors)

    notes = {k: clean(v)[:NOTE_MAX] for k, v in (notes or {}).items()}
    changed = 0
    for (project_id, day), minutes in parsed.items():
        entry = cells.get((project_id, day))
        note = notes.get(project_id, "")
        if entry is None:
            if minutes:
                db.session.add(TimeEntry(institution_id=actor.institution_id, user_id=actor.id,
                                         project_id=project_id, day=day, minutes=minutes, note=note))
                changed += 1
            continue
        if ENTRIES.allowed(entry.status, "correct", {AGENT}):
            if (minutes or 0) != entry.minutes:
                db.session.add(TimeEntry(institution_id=actor.institution_id, user_id=actor.id,
                                         project_id=project_id, day=day, minutes=minutes or 0, note=note,
                                         corrects_id=entry.id))
                changed += 1
            continue
        if not ENTRIES.allowed(entry.status, "edit", {AGENT}):
            if (minutes or 0) != entry.minutes:
                raise InvalidTransition("Cette semaine est transmise à votre N+1 : rappelez-la pour la modifier.")
            continue
        if not minutes and entry.corrects_id is None:
            done = db.session.execute(delete(TimeEntry).where(
                TimeEntry.id == entry.id, TimeEntry.status.in_(ENTRIES.sources("edit")))).rowcount
        else:
            done = db.session.execute(ENTRIES.update(
                TimeEntry, "edit", TimeEntry.id == entry.id,
                minutes=minutes or 0, note=note or entry.note, refusal_reason="")).rowcount
        if done != 1:
            raise InvalidTransition("Ces heures viennent d'être traitées par ailleurs : rechargez la page.")
        changed += 1
    if changed:
        record("time.saved", actor=actor, institution_id=actor.institution_id, target=actor,
               data={"week": monday.isoformat(), "cells": changed})


@prebuilt
def _override_query():
    return select(CapOverride.id).where(CapOverride.user_id == bindparam("user_id"),
                                        CapOverride.month == bindparam("month"))


def cap_status(user: User, month: date) -> tuple[int, int, bool]:
    """(counted minutes, cap minutes, override granted) for the month."""
    start = month_start(month)
    counted = counted_minutes(user.id, start, next_month(start))
    override = db.session.scalar(_override_query(), {"user_id": user.id, "month": start}) is not None
    return counted, monthly_cap(user), override


def submit_week(actor: User, monday: date) -> list[str]:
    """Send the week's drafts to the N+1. Refused above the monthly cap unless the N+1
    granted an override for that month; returns warnings from WARN_SHARE of the cap (near_cap)."""
    monday = monday_of(monday)
    if actor.manager_id is None:
        raise ValidationFailed({"week": "Votre fiche n'indique pas de N+1 pour valider vos heures : contactez l'administration."})
    drafts = db.session.scalars(select(TimeEntry).where(
        TimeEntry.user_id == actor.id, TimeEntry.status.in_(ENTRIES.sources("submit")),
        TimeEntry.day >= monday, TimeEntry.day < monday + timedelta(days=7))).all()
    if not drafts:
        raise ValidationFailed({"week": "Rien à transmettre : saisissez et enregistrez d'abord des heures."})
    ids = [e.id for e in drafts]
    done = db.session.execute(ENTRIES.update(TimeEntry, "submit", TimeEntry.id.in_(ids),
                                             submitted_at=utcnow())).rowcount
    if done != len(ids):
        raise InvalidTransition("Ces heures viennent de changer : rechargez la page.")
    warnings = []
    for month in sorted({month_start(e.day) for e in drafts}):
        counted, cap, override = cap_status(actor, month)
        if counted > cap and not override:
            raise ValidationFailed({"week": (
                f"Plafond mensuel dépassé en {month:%m/%Y} : {counted / 60:.2f} h pour {cap / 60:.2f} h autorisées. "
                "Réduisez les heures, ou demandez à votre N+1 une dérogation pour ce mois.").replace(".", ",", 2)})
        if near_cap(counted, cap):
            warnings.append(f"Vous atteignez {round(100 * counted / cap)} % de votre plafond de {month:%m/%Y}.")
    record("time.submitted", actor=actor, institution_id=actor.institution_id, target=actor,
           data={"week": monday.isoformat(), "entries": len(ids)})
    delegates = db.session.scalars(select(User).join(ApprovalDelegation, ApprovalDelegation.delegate_id == User.id).where(
        ApprovalDelegation.manager_id == actor.manager_id, ApprovalDelegation.starts_on <= today_paris(),
        ApprovalDelegation.ends_on >= today_paris())).all()
    notify([actor.manager, *delegates], "approvals", "Des heures attendent votre validation",  # not a delegate's own
           f"{actor.full_name} a transmis ses heures de la semaine du {monday:%d/%m/%Y}.", link("release_time.approvals"), exclude=actor)
    return warnings


def recall_week(actor: User, monday: date) -> None:
    monday = monday_of(monday)
    done = db.session.execute(ENTRIES.update(
        TimeEntry, "recall", TimeEntry.user_id == actor.id,
        TimeEntry.day >= monday, TimeEntry.day < monday + timedelta(days=7))).rowcount
    if not done:
        raise InvalidTransition("Rien à rappeler : votre N+1 a peut-être déjà traité cette semaine.")
    record("time.recalled", actor=actor, institution_id=actor.institution_id, target=actor,
           data={"week": monday.isoformat()})


# --------------------------------------------------------------------------- approval


def _require_approver(actor: User, agent: User) -> None:
    if reason := can_decide_for(actor, agent):
        raise NotAllowed(reason)


@prebuilt
def _decided_lines_query():
    # Rows, with their agents: the approval reads nothing else of the lines, and holds
    # SQLite's write lock from this first query to its commit.
    return (select(TimeEntry.id, TimeEntry.day, TimeEntry.minutes, User)
            .join(User, User.id == TimeEntry.user_id)
            .where(TimeEntry.id.in_(bindparam("ids", expanding=True))).order_by(TimeEntry.id))


@prebuilt
def _decide_statement(action: str):
    # On the table, built once: it runs inside the write lock, where the ORM's update cost
    # twice as much (see _forget_loaded).
    table = TimeEntry.__table__
    return ENTRIES.update(table, action, table.c.id.in_(bindparam("ids", expanding=True)),
                          decided_at=bindparam("at"), decided_by_id=bindparam("by"),
                          refusal_reason=bindparam("reason"))


def _forget_loaded(entry_ids: list[int]) -> None:
    """The lines of `entry_ids` that the session holds (a caller loaded them) are read
    again when next used: an UPDATE on the table does not change them."""
    for entry_id in entry_ids:
        loaded = db.session.identity_map.get(identity_key(TimeEntry, entry_id))
        if loaded is not None:
            db.session.expire(loaded)


def decide(actor: User, entry_ids: list[int], *, approve: bool, reason: str = "") -> int:
    # Both problems of an empty refusal at once: no line ticked and no reason.
    errors: dict[str, str] = {}
    if not entry_ids:
        errors["entries"] = "Cochez au moins une ligne."
    reason = clean(reason)
    if not approve and not REASON_MIN <= len(reason) <= REASON_MAX:
        errors["reason"] = f"Un refus doit être motivé ({REASON_MIN} à {REASON_MAX} caractères) : l'agent le lira."
    if errors:
        raise ValidationFailed(errors)
    ids = sorted(set(entry_ids))
    lines = db.session.execute(_decided_lines_query(), {"ids": ids}).all()
    if len(lines) != len(ids):
        raise ValidationFailed({"entries": "Certaines lignes n'existent plus : rechargez la page."})
    agents = {line.User.id: line.User for line in lines}
    for agent in agents.values():
        _require_approver(actor, agent)
    done = db.session.execute(_decide_statement("approve" if approve else "refuse"), {
        "ids": ids, "at": utcnow(), "by": actor.id, "reason": "" if approve else reason}).rowcount
    _forget_loaded(ids)
    if done != len(ids):
        raise InvalidTransition("Certaines heures ont été modifiées ou traitées entre-temps : rechargez la page.")
    if approve:
        # A correction is on the same agent and day as the entry it replaces: recounting
        # the approved entries' agent-months covers both.
        totals.recount((line.User.id, line.day) for line in lines)
    for agent in agents.values():
        own = [line for line in lines if line.User.id == agent.id]
        record("time.approved" if approve else "time.refused", actor=actor, institution_id=actor.institution_id,
               target=agent, data={"entries": [line.id for line in own], "reason": reason})
        if approve:
            # One notification per week approved, whatever the number of its lines.
            for monday in sorted({monday_of(line.day) for line in own}):
                hours = decimal_fr(sum(line.minutes for line in own if monday_of(line.day) == monday) / 60)
                notify([agent], "my_time", "Des heures de décharge sont validées",
                       f"{actor.full_name} a validé {hours} h de la semaine du {monday:%d/%m/%Y}.",
                       link("release_time.week", semaine=monday))
        else:
            monday = monday_of(min(line.day for line in own))
            notify([agent], "my_time", "Des heures de décharge sont refusées",
                   f"{actor.full_name} a refusé des heures : {reason} Corrigez-les et transmettez à nouveau.",
                   link("release_time.week", semaine=monday))
    return done


def grant_override(actor: User, agent: User, *, month: date | None, reason: str) -> CapOverride:
    _require_approver(actor, agent)
    reason = clean(reason)
    errors = {}
    if month is None:
        errors["month"] = "Indiquez le mois."
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        errors["reason"] = f"Motivez la dérogation ({REASON_MIN} à {REASON_MAX} caractères)."
    if errors:
        raise ValidationFailed(errors)
    start = month_start(month)
    if db.session.scalar(select(CapOverride.id).where(CapOverride.user_id == agent.id, CapOverride.month == start)):
        raise InvalidTransition("Une dérogation existe déjà pour ce mois.")
    override = CapOverride(user_id=agent.id, month=start, granted_by_id=actor.id, reason=reason)
    db.session.add(override)
    record("time.cap_override", actor=actor, institution_id=actor.institution_id, target=agent,
           data={"month": start.isoformat(), "reason": reason})
    return override


# --------------------------------------------------------------------------- budgets


@dataclass(frozen=True, slots=True)
class Budget:
    """A member's line of hours on a project: what the week, project and approval pages show."""
    project_id: int
    user_id: int
    agent_name: str
    project_title: str
    hours_budget: int
    approved: int  # minutes
    pending: int

    @property
    def budget(self) -> int:
        return self.hours_budget * 60

    @property
    def remaining(self) -> int:
        return self.budget - self.approved - self.pending

    @property
    def over(self) -> bool:
        return self.budget > 0 and self.approved + self.pending > self.budget


@prebuilt
def _budget_queries(by_project: bool, by_agent: bool):
    filters = {"members": [], "entries": []}
    if by_project:
        project_ids = bindparam("project_ids", expanding=True)
        filters["members"].append(ProjectMember.project_id.in_(project_ids))
        filters["entries"].append(TimeEntry.project_id.in_(project_ids))
    if by_agent:
        user_ids = bindparam("user_ids", expanding=True)
        filters["members"].append(ProjectMember.user_id.in_(user_ids))
        filters["entries"].append(TimeEntry.user_id.in_(user_ids))
    members = (select(ProjectMember.project_id, ProjectMember.user_id, ProjectMember.hours_budget,
                      User.full_name.label("agent_name"), Project.title)
               .join(User, User.id == ProjectMember.user_id).join(Project, Project.id == ProjectMember.project_id)
               .where(*filters["members"]).order_by(ProjectMember.project_id, ProjectMember.id))
    sums = (select(TimeEntry.project_id, TimeEntry.user_id, TimeEntry.status, func.sum(TimeEntry.minutes))
            .where(*filters["entries"], TimeEntry.status.in_(COUNTED), _not_superseded())
            .group_by(TimeEntry.project_id, TimeEntry.user_id, TimeEntry.status))
    return members, sums


def budgets(project_ids: list[int] | None, user_ids: list[int] | None = None) -> list[Budget]:
    """Budget, approved and pending minutes for each member of these projects (or only
    these members; `project_ids` None: of every project these agents are members of):
    two queries whatever the number of projects and members, read as rows (a team of
    sixty as objects, with their projects and agents, cost more than its sums)."""
    if project_ids is None and user_ids is None:
        raise ValueError("budgets of which projects or which agents?")
    members_stmt, _sums = _budget_queries(project_ids is not None, user_ids is not None)
    members = db.session.execute(members_stmt, {"project_ids": project_ids, "user_ids": user_ids})
    return _budget_lines([(m.project_id, m.user_id, m.agent_name, m.title, m.hours_budget)
                          for m in members], project_ids, user_ids)


def team_budgets(project: Project, user_ids: list[int] | None = None) -> list[Budget]:
    """`budgets([project.id], user_ids)` of a project whose team is already read (its page,
    `Project.team`): its sums only."""
    lines = [(project.id, m.user_id, m.full_name, project.title, m.hours_budget)
             for m in project.team if user_ids is None or m.user_id in user_ids]
    return _budget_lines(lines, [project.id], user_ids) if lines else []


def _budget_lines(members: list[tuple], project_ids: list[int] | None, user_ids: list[int] | None) -> list[Budget]:
    """Each (project id, agent id, name, project title, hours budgeted) with its approved
    and pending minutes, summed in one query."""
    _members, sums_stmt = _budget_queries(project_ids is not None, user_ids is not None)
    sums = {(project_id, uid, status): int(total or 0) for project_id, uid, status, total
            in db.session.execute(sums_stmt, {"project_ids": project_ids, "user_ids": user_ids})}
    return [Budget(project_id, uid, name, title, hours, sums.get((project_id, uid, "approved"), 0),
                   sums.get((project_id, uid, "submitted"), 0)) for project_id, uid, name, title, hours in members]


def plan_immersion(project: Project, visitor: User) -> int:
    """The immersion's working days as planned entries, to confirm after the fact."""
    minutes = min(daily_limit(visitor), 7 * 60)
    day, count = project.starts_on, 0
    while day <= project.ends_on:
        if is_working_day(day):
            db.session.add(TimeEntry(institution_id=visitor.institution_id, user_id=visitor.id, project_id=project.id,
                                     day=day, minutes=minutes, status="planned", note="Immersion"))
            count += 1
        day += timedelta(days=1)
    return count


