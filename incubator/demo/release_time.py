"""Several months of release time for the demo agents, in every state."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from ..extensions import db
from ..people.models import ApprovalDelegation, User
from ..projects.models import Project, ProjectMember
from ..release_time import totals
from ..release_time.models import ReleaseSettings, TimeEntry
from ..release_time.services import monday_of
from ..timeutil import today_paris, utcnow
from ..workdays import is_working_day


def seed(named: dict[str, User]) -> None:
    rng = random.Random(1607)
    ville = named["agent"].institution
    today = today_paris()
    now = utcnow()
    db.session.add(ReleaseSettings(institution_id=ville.id, monthly_cap_percent=20, daily_minutes_full_time=420))
    active = db.session.scalars(select(Project).where(Project.institution_id == ville.id, Project.state == "active",
                                                      Project.kind == "initiative").order_by(Project.id)).all()
    if not active:
        return
    project = active[0]
    # The demo agent and the collective member work on the first active project.
    for user, role, hours in ((named["agent"], "Référente terrain", 80), (named["collectif"], "Appui usagers", 40)):
        if not any(m.user_id == user.id for m in project.members):
            project.members.append(ProjectMember(user=user, role=role, hours_budget=hours))
    project.starts_on = min(project.starts_on or today, today - timedelta(days=120))
    project.ends_on = max(project.ends_on or today, today + timedelta(days=120))
    db.session.flush()

    this_monday = monday_of(today)
    for member in project.members:
        user = member.user
        if not user.manager_id:
            continue
        for weeks_ago in range(12, -1, -1):
            monday = this_monday - timedelta(weeks=weeks_ago)
            if weeks_ago == 0:
                status = "draft"
            elif weeks_ago == 1 or (weeks_ago == 2 and user.id == named["agent"].id):
                # The encadrant's inbox: two weeks of the demo agent wait for approval.
                status = "submitted"
            elif weeks_ago == 3 and user.id == named["agent"].id:
                status = "refused"
            else:
                status = "approved"
            for offset in sorted(rng.sample(range(5), k=2)):
                day = monday + timedelta(days=offset)
                if not is_working_day(day) or day > today:
                    continue
                entry = TimeEntry(institution_id=ville.id, user_id=user.id, project_id=project.id, day=day,
                                  minutes=rng.choice([60, 90, 120, 180]), status=status,
                                  note=rng.choice(["", "Atelier", "Réunion d'équipe", "Visite de site"]),
                                  created_at=now - timedelta(weeks=weeks_ago))
                if status != "draft":
                    entry.submitted_at = now - timedelta(weeks=weeks_ago) + timedelta(days=4)
                if status in ("approved", "refused"):
                    entry.decided_at = entry.submitted_at + timedelta(days=2)
                    entry.decided_by_id = user.manager_id
                if status == "refused":
                    entry.refusal_reason = "Ce jour-là vous étiez d'astreinte : corrigez l'horaire, s'il vous plaît."
                db.session.add(entry)
    # Written without the approval service: the dashboard's totals are counted afterwards.
    db.session.flush()
    totals.rebuild()
    # The encadrant delegates approvals during next month's leave.
    start = today + timedelta(days=20)
    db.session.add(ApprovalDelegation(institution_id=ville.id, manager_id=named["encadrant"].id,
                                      delegate_id=named["animation"].id, starts_on=start,
                                      ends_on=start + timedelta(days=14)))
    db.session.flush()
