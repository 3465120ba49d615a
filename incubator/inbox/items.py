"""What waits for one person, role by role: typed items (kind, count, oldest date, the
page where to act, French sentences), read for the home page and the daily digest.

Every count is an aggregate in SQL, and all of them come back in ONE query (a SELECT of
scalar subqueries), plus the reads the rules themselves need (who is a member of the
collective today, whose delegation one holds): a fixed number of queries whatever the
size of the data. The filters are those of the pages the items lead to (the approval
queue, the immersions page...) or their rules in SQL (recusal: review.policy.recused_clause;
a charter ready to validate: projects.policy.charter_ready_clause), so that a card's count
is what its page lists (tests/inbox check it page by page).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import aliased

from ..collective.services import is_member
from ..dbutil import prebuilt, week_start
from ..extensions import db
from ..immersions.models import Application
from ..immersions.queries import awaiting_consent, awaiting_selection
from ..notifications.links import Link, link
from ..notifications.services import register_waiting
from ..people.hierarchy import decidable_agents_params, is_approver
from ..people.models import User
from ..projects import lifecycle as projects_lifecycle
from ..projects.models import Milestone, Project, ProjectMember
from ..projects.policy import charter_ready_clause
from ..proposals import lifecycle as proposals_lifecycle
from ..proposals.models import CoAuthor, Proposal
from ..release_time.lifecycle import ENTRIES, REFUSED
from ..release_time.models import TimeEntry
from ..release_time.queries import awaiting_approval
from ..review.lifecycle import ITEMS
from ..review.models import AgendaItem, Assessment, ReviewSession
from ..review.policy import recused_clause
from ..security import user_may_open
from ..timeutil import (
    days_since,
    format_date,
    format_datetime,
    paris_day_start,
    to_paris,
    today_paris,
    utcnow,
)

# The sections of the home page, in their order: one per role the person holds.
SECTIONS = {
    "mine": "Vos propositions et votre temps",
    "projects": "Vos projets",
    "team": "Votre équipe (N+1)",
    "host": "Votre service d'accueil",
    "collective": "Collectif pilote",
    "coordination": "Animation du collectif",
    "hr": "Gestion RH",
}


@dataclass(frozen=True)
class Item:
    """One thing waiting for the person: how many, since when, and the page where to act."""

    kind: str
    section: str
    count: int | None  # None: a standing link (the HR report), not a count
    label: str  # « 3 semaines à valider »
    action: str  # the link's words: « Valider les heures »
    link: Link
    since: str = ""  # « la plus ancienne depuis 12 jours »
    oldest: datetime | None = None  # for the order, oldest first

    @property
    def sentence(self) -> str:
        """The whole card in one line (the digest, the link's accessible name)."""
        return f"{self.label} — {self.since}" if self.since else self.label


@dataclass
class Section:
    key: str
    title: str
    items: list[Item] = field(default_factory=list)


@dataclass
class Inbox:
    sections: list[Section]

    @property
    def items(self) -> list[Item]:
        return [item for section in self.sections for item in section.items]

    @property
    def pending(self) -> list[Item]:
        """What asks for an action (the standing links left out)."""
        return [item for item in self.items if item.count]

    def by_kind(self, kind: str) -> Item | None:
        return next((item for item in self.items if item.kind == kind), None)


def plural(count: int, singular: str, several: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (several or singular + 's')}"


def _days(value: date | datetime | None, now: datetime) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return days_since(value, now)
    return max(0, (to_paris(now).date() - value).days)


def _since(count: int, value, now: datetime, *, feminine: bool, waiting: str = "en attente") -> str:
    """« en attente depuis 40 jours » for one, « la plus ancienne depuis 12 jours » for several."""
    days = _days(value, now)
    when = "aujourd'hui" if days == 0 else f"depuis {plural(days, 'jour')}"
    if count == 1:
        return f"{waiting} {when}"
    return f"{'la plus ancienne' if feminine else 'le plus ancien'} {when}"


def _instant(value: date | datetime | None) -> datetime | None:
    """An oldest date as a UTC instant, to sort items of any kind together."""
    if value is None or isinstance(value, datetime):
        return value
    return paris_day_start(value)


# --------------------------------------------------------------------------- probes


@dataclass
class Probe:
    """One item's SQL (scalar subqueries, read together) and how to word its answer."""

    kind: str
    section: str
    columns: dict[str, Any]  # name -> scalar subquery
    build: Callable[[dict[str, Any], datetime], Item | None]
    params: dict[str, Any] = field(default_factory=dict)  # values of the columns' bindparams


def _count(where, *, from_=None) -> Any:
    stmt = select(func.count())
    if from_ is not None:
        stmt = stmt.select_from(from_)
    return stmt.where(*where).scalar_subquery()


def _first(column, where, order_by) -> Any:
    return select(column).where(*where).order_by(*order_by).limit(1).scalar_subquery()


def _weeks(where) -> Any:
    """Distinct (agent, week) pairs among time entries."""
    pairs = select(TimeEntry.user_id, week_start(TimeEntry.day).label("week")).where(*where).distinct().subquery()
    return select(func.count()).select_from(pairs).scalar_subquery()


@prebuilt
def _current_entry():
    """Entries that no later entry corrects (the cell as the week's page shows it). Built
    once per process: the clause is immutable, and a new alias is costly to adapt."""
    newer = aliased(TimeEntry)
    return ~exists().where(newer.corrects_id == TimeEntry.id)


def _mine(user: User) -> list[Probe]:
    uid = user.id
    drafts = (Proposal.author_id == uid, Proposal.state == proposals_lifecycle.MACHINE.initial)
    revise = (Proposal.author_id == uid, Proposal.state.in_(proposals_lifecycle.MACHINE.sources("resubmit")))
    invited = (CoAuthor.user_id == uid, CoAuthor.status == "invited", Proposal.id == CoAuthor.proposal_id,
               Proposal.state.in_([c for c, s in proposals_lifecycle.STATES.items() if s.is_open]))
    refused = (TimeEntry.user_id == uid, TimeEntry.status == REFUSED, _current_entry())
    to_submit = (TimeEntry.user_id == uid, TimeEntry.status.in_(ENTRIES.sources("submit")), _current_entry())
    mine = link("proposals.mine")

    def week_link(day: date | None) -> Link:
        return link("release_time.week", semaine=day - timedelta(days=day.weekday())) if day else link("release_time.week")

    return [
        Probe("to_revise", "mine", {"n": _count(revise, from_=Proposal),
                                    "at": select(func.min(Proposal.state_changed_at)).where(*revise).scalar_subquery()},
              lambda r, now: Item("to_revise", "mine", r["n"], plural(r["n"], "proposition à réviser", "propositions à réviser"),
                                  "Réviser selon la décision", mine, _since(r["n"], r["at"], now, feminine=True), r["at"])),
        Probe("invitations", "mine", {"n": _count(invited, from_=CoAuthor),
                                      "at": select(func.min(CoAuthor.invited_at)).where(*invited).scalar_subquery()},
              lambda r, now: Item("invitations", "mine", r["n"],
                                  plural(r["n"], "invitation à co-signer", "invitations à co-signer"),
                                  "Répondre aux invitations", link("proposals.mine", "invitations"),
                                  _since(r["n"], r["at"], now, feminine=True), r["at"])),
        Probe("refused_weeks", "mine", {"n": _weeks(refused),
                                        "at": select(func.min(TimeEntry.decided_at)).where(*refused).scalar_subquery(),
                                        "day": select(func.min(TimeEntry.day)).where(*refused).scalar_subquery()},
              lambda r, now: Item("refused_weeks", "mine", r["n"],
                                  plural(r["n"], "semaine d'heures refusées", "semaines d'heures refusées"),
                                  "Corriger et transmettre à nouveau", week_link(r["day"]),
                                  _since(r["n"], r["at"], now, feminine=True, waiting="refusées"), r["at"])),
        Probe("weeks_to_submit", "mine", {"n": _weeks(to_submit),
                                          "day": select(func.min(TimeEntry.day)).where(*to_submit).scalar_subquery()},
              lambda r, now: Item("weeks_to_submit", "mine", r["n"],
                                  plural(r["n"], "semaine d'heures à transmettre", "semaines d'heures à transmettre"),
                                  "Transmettre à mon N+1", week_link(r["day"]),
                                  f"{'la plus ancienne' if r['n'] > 1 else 'semaine'} du {format_date(r['day'] - timedelta(days=r['day'].weekday()))}"
                                  if r["day"] else "", _instant(r["day"]))),
        Probe("drafts", "mine", {"n": _count(drafts, from_=Proposal),
                                 "at": select(func.min(Proposal.created_at)).where(*drafts).scalar_subquery()},
              lambda r, now: Item("drafts", "mine", r["n"], plural(r["n"], "brouillon à compléter et déposer",
                                                                   "brouillons à compléter et déposer"),
                                  "Ouvrir mes propositions", mine,
                                  _since(r["n"], r["at"], now, feminine=False), r["at"])),
    ]


def _projects(user: User) -> list[Probe]:
    uid = user.id
    late = (Milestone.project_id == Project.id, Milestone.done_on.is_(None), Milestone.due_on < today_paris(),
            Project.state.in_(projects_lifecycle.OPEN_STATES),
            or_(Project.lead_id == uid, exists().where(ProjectMember.project_id == Project.id, ProjectMember.user_id == uid)))
    return [
        Probe("late_milestones", "projects", {
            "n": _count(late, from_=Milestone),
            "due": select(func.min(Milestone.due_on)).where(*late).scalar_subquery(),
            "project": _first(Milestone.project_id, late, (Milestone.due_on, Milestone.id))},
            lambda r, now: Item("late_milestones", "projects", r["n"], plural(r["n"], "jalon en retard", "jalons en retard"),
                                "Mettre à jour les jalons", link("projects.show", "jalons", project_id=r["project"]),
                                _since(r["n"], r["due"], now, feminine=False, waiting="en retard"), _instant(r["due"]))),
    ]


def _team(user: User) -> list[Probe]:
    waiting = (awaiting_approval(),)
    consent = (awaiting_consent(user),)
    return [
        Probe("weeks_to_approve", "team", {
            "n": _weeks(waiting), "at": select(func.min(TimeEntry.submitted_at)).where(*waiting).scalar_subquery()},
            lambda r, now: Item("weeks_to_approve", "team", r["n"], plural(r["n"], "semaine à valider", "semaines à valider"),
                                "Valider les heures", link("release_time.approvals"),
                                _since(r["n"], r["at"], now, feminine=True), r["at"]),
            decidable_agents_params(user)),
        Probe("immersions_to_consent", "team", {
            "n": _count(consent, from_=Application),
            "at": select(func.min(Application.created_at)).where(*consent).scalar_subquery()},
            lambda r, now: Item("immersions_to_consent", "team", r["n"],
                                plural(r["n"], "demande d'immersion à examiner", "demandes d'immersion à examiner"),
                                "Donner mon avis", link("immersions.index", "accords"),
                                _since(r["n"], r["at"], now, feminine=True), r["at"])),
    ]


def _host(user: User) -> list[Probe]:
    waiting = (awaiting_selection(user),)
    return [
        Probe("applications_to_select", "host", {
            "n": _count(waiting, from_=Application),
            "at": select(func.min(Application.decided_at)).where(*waiting).scalar_subquery()},
            lambda r, now: Item("applications_to_select", "host", r["n"],
                                plural(r["n"], "candidature à retenir ou non", "candidatures à retenir ou non"),
                                "Choisir parmi les candidatures", link("immersions.index", "accueil"),
                                _since(r["n"], r["at"], now, feminine=True), r["at"])),
    ]


def _next_session(user: User, section: str) -> Probe:
    start = paris_day_start(today_paris())
    upcoming = (ReviewSession.institution_id == user.institution_id, ReviewSession.starts_at >= start)
    next_id = _first(ReviewSession.id, upcoming, (ReviewSession.starts_at, ReviewSession.id))

    def build(r, now):
        if r["id"] is None:
            return None
        items = r["items"]
        agenda = plural(items, "proposition à l'ordre du jour", "propositions à l'ordre du jour") if items \
            else "ordre du jour à composer"
        return Item("next_session", section, items, f"Prochaine séance le {format_datetime(r['at'])}",
                    "Voir la séance et son ordre du jour", link("review.session", session_id=r["id"]), agenda, None)

    return Probe("next_session", section, {
        "id": next_id, "at": _first(ReviewSession.starts_at, upcoming, (ReviewSession.starts_at, ReviewSession.id)),
        "items": select(func.count()).select_from(AgendaItem).where(AgendaItem.session_id == next_id).scalar_subquery()},
        build)


def _collective(user: User) -> list[Probe]:
    uid = user.id
    to_assess = (Proposal.institution_id == user.institution_id,
                 Proposal.state.in_(proposals_lifecycle.ASSESSED_STATES), ~recused_clause(uid),
                 ~exists().where(Assessment.proposal_id == Proposal.id, Assessment.user_id == uid))
    return [
        Probe("to_assess", "collective", {
            "n": _count(to_assess, from_=Proposal),
            "at": select(func.min(Proposal.state_changed_at)).where(*to_assess).scalar_subquery()},
            lambda r, now: Item("to_assess", "collective", r["n"], plural(r["n"], "proposition à évaluer", "propositions à évaluer"),
                                "Évaluer les propositions", link("review.queue"),
                                _since(r["n"], r["at"], now, feminine=True), r["at"])),
    ]


def _not_recused_project(uid: int):
    """SQL on Project: `uid` takes the coordinator's actions on it as far as recusal goes
    (projects.policy.coordination_refusal: its proposal's recusal, if it comes from one)."""
    return or_(Project.proposal_id.is_(None), ~Project.proposal_id.in_(select(Proposal.id).where(recused_clause(uid))))


def _coordination(user: User) -> list[Probe]:
    uid, institution = user.id, user.institution_id
    eligibility = (Proposal.institution_id == institution,
                   Proposal.state.in_(proposals_lifecycle.MACHINE.sources("open_review")), ~recused_clause(uid))
    publish = (AgendaItem.proposal_id == Proposal.id, Proposal.institution_id == institution,
               AgendaItem.status.in_(ITEMS.sources("publish")), ~recused_clause(uid))
    sponsors = (Project.institution_id == institution, Project.state.in_(projects_lifecycle.OPEN_STATES),
                Project.sponsor_id.is_(None), _not_recused_project(uid))
    charters = (Project.institution_id == institution,
                Project.state.in_(projects_lifecycle.MACHINE.sources("validate_charter")), charter_ready_clause(),
                Project.lead_id != uid, Project.sponsor_id != uid, _not_recused_project(uid))
    return [
        Probe("eligibility", "coordination", {
            "n": _count(eligibility, from_=Proposal),
            "at": select(func.min(Proposal.submitted_at)).where(*eligibility).scalar_subquery()},
            lambda r, now: Item("eligibility", "coordination", r["n"],
                                plural(r["n"], "proposition à déclarer recevable ou non", "propositions à déclarer recevables ou non"),
                                "Examiner la recevabilité", link("review.eligibility_queue"),
                                _since(r["n"], r["at"], now, feminine=True), r["at"])),
        Probe("to_publish", "coordination", {
            "n": _count(publish, from_=AgendaItem),
            "at": select(func.min(AgendaItem.vote_closed_at)).where(*publish).scalar_subquery(),
            "session": _first(AgendaItem.session_id, publish, (AgendaItem.vote_closed_at, AgendaItem.id)),
            "item": _first(AgendaItem.id, publish, (AgendaItem.vote_closed_at, AgendaItem.id))},
            lambda r, now: Item("to_publish", "coordination", r["n"], plural(r["n"], "décision à publier", "décisions à publier"),
                                "Publier la décision", link("review.session", f"point-{r['item']}", session_id=r["session"]),
                                _since(r["n"], r["at"], now, feminine=True, waiting="vote clos"), r["at"])),
        Probe("sponsors_to_appoint", "coordination", {
            "n": _count(sponsors, from_=Project),
            "at": select(func.min(Project.created_at)).where(*sponsors).scalar_subquery(),
            "project": _first(Project.id, sponsors, (Project.created_at, Project.id))},
            lambda r, now: Item("sponsors_to_appoint", "coordination", r["n"],
                                plural(r["n"], "projet sans commanditaire", "projets sans commanditaire"),
                                "Désigner le ou la commanditaire", link("projects.edit_charter", project_id=r["project"]),
                                _since(r["n"], r["at"], now, feminine=False), r["at"])),
        Probe("charters_to_validate", "coordination", {
            "n": _count(charters, from_=Project),
            "at": select(func.min(Project.created_at)).where(*charters).scalar_subquery(),
            "project": _first(Project.id, charters, (Project.created_at, Project.id))},
            lambda r, now: Item("charters_to_validate", "coordination", r["n"],
                                plural(r["n"], "lettre de mission à valider", "lettres de mission à valider"),
                                "Relire et valider la lettre de mission", link("projects.show", "cadre", project_id=r["project"]),
                                _since(r["n"], r["at"], now, feminine=True), r["at"])),
    ]


def _hr_item(now: datetime) -> Item:
    """The engagement report of the current year: the HR page's default period."""
    year = to_paris(now).year
    return Item("engagement_report", "hr", None, f"Relevé d'engagement {year}", "Ouvrir le relevé d'engagement",
                link("engagement.hr", annee=year),
                f"période en cours : du 1er janvier au 31 décembre {year}, exportable en CSV et XLSX")


# --------------------------------------------------------------------------- the inbox


def probes_for(user: User) -> list[Probe]:
    """The probes of the roles `user` holds (one query for the collective's members, one
    for the delegations held: the rules' own reads)."""
    probes = _mine(user) + _projects(user)
    if is_approver(user):
        probes += _team(user)
    probes += _host(user)
    member = is_member(user)
    coordinator = user.has_role("coordinator")
    if member:
        probes += _collective(user)
    if member or coordinator:
        probes.append(_next_session(user, "coordination" if coordinator else "collective"))
    if coordinator:
        probes += _coordination(user)
    return probes


def inbox_for(user: User, now: datetime | None = None) -> Inbox:
    """What waits for `user`, by section, oldest first in each."""
    now = now or utcnow()
    probes = probes_for(user)
    names = {f"{probe.kind}__{name}": column for probe in probes for name, column in probe.columns.items()}
    params = {name: value for probe in probes for name, value in probe.params.items()}
    row = db.session.execute(select(*(column.label(name) for name, column in names.items())), params).one()._mapping
    sections = {key: Section(key, title) for key, title in SECTIONS.items()}
    for probe in probes:
        values = {name: row[f"{probe.kind}__{name}"] for name in probe.columns}
        if "n" in values and not values["n"]:
            continue
        item = probe.build(values, now)
        if item is not None:
            sections[item.section].items.append(item)
    if user_may_open(user, "engagement.hr"):  # the page's own role guard
        sections["hr"].items.append(_hr_item(now))
    for section in sections.values():
        section.items.sort(key=lambda item: (item.oldest is None, item.oldest or now))
    return Inbox([section for section in sections.values() if section.items])


def pending_items(user: User) -> list[Item]:
    """What the digest lists: the same items, those asking for an action."""
    return inbox_for(user).pending


__all__ = ["SECTIONS", "Inbox", "Item", "Section", "inbox_for", "pending_items"]


register_waiting(pending_items)
