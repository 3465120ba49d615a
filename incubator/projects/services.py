"""State changes on projects and immersions. Each takes the acting user, checks role and
state, changes the models, records the audit event; the caller commits."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from ..audit.services import record
from ..errors import InvalidTransition, NotAllowed, ValidationFailed, refuse
from ..extensions import db
from ..notifications.links import link
from ..notifications.services import notify
from ..people.models import User
from ..people.services import agent_by_email
from ..proposals.models import Proposal
from ..review.policy import coordination_of, coordinators_of
from ..text import clean, int_in_range
from ..timeutil import today_paris, utcnow
from . import lifecycle, policy
from .models import (
    HOURS_BUDGET_MAX,
    Milestone,
    ProgressUpdate,
    Project,
    ProjectMember,
    Retrospective,
)

# Input limits: the services check them, the forms (projects/forms.py) read them here.
TEXT_MAX = 5000  # a charter's objectives and indicators, a progress update, a retrospective answer
TEXT_MIN = 10  # a progress update, each retrospective answer
MILESTONE_TITLE_MIN, MILESTONE_TITLE_MAX = 3, 200
INDICATOR_VALUES_MAX = 2000
REASON_MIN, REASON_MAX = 5, 1000  # why a project is put on hold or resumed (published)


def _require(project: Project, action: str, actor: User) -> lifecycle.Transition:
    if actor.institution_id != project.institution_id:
        raise NotAllowed("Ce projet appartient à une autre collectivité.")
    return lifecycle.MACHINE.require(project.state, action, project.capacities(actor))


def _move(project: Project, transition: lifecycle.Transition, actor: User, data: dict | None = None) -> None:
    before = lifecycle.MACHINE.enter(project, transition)
    project.state_changed_at = utcnow()
    record(f"project.{transition.action}", actor=actor, institution_id=project.institution_id,
           target=project, data={"from": before, "to": transition.target, **(data or {})}, public=True)


# --------------------------------------------------------------------------- creation


def create_from_proposal(proposal: Proposal, actor: User) -> Project:
    """An accepted initiative becomes a project in framing, its authors first members."""
    project = Project(institution_id=proposal.institution_id, kind="initiative", state="framing",
                      title=proposal.title, proposal_id=proposal.id, lead_id=proposal.author_id,
                      objectives=proposal.change, indicators=proposal.gain)
    authors = [proposal.author] + [c.user for c in proposal.coauthors if c.status == "accepted"]
    for author in authors:
        project.members.append(ProjectMember(user=author, role="Porteur ou porteuse de l'idée"))
    db.session.add(project)
    db.session.flush()
    record("project.created", actor=actor, institution_id=project.institution_id, target=project,
           data={"proposal_id": proposal.id}, public=True)
    record("project.created", actor=actor, institution_id=project.institution_id, target=proposal,
           data={"project_id": project.id}, public=True)
    notify(authors, "proposals", "Un projet est ouvert pour votre proposition",
           f"« {proposal.title} » devient un projet : sa lettre de mission (équipe, objectifs, temps de décharge) "
           "est à rédiger.", link("projects.show", project_id=project.id))
    coordination = coordination_of(proposal)
    notify([*coordination.acting, coordination.substitute], "projects", "Un nouveau projet attend son commanditaire",
           f"« {proposal.title} » devient un projet : désignez son ou sa commanditaire pour que sa lettre de mission "
           "puisse être rédigée puis validée.", link("projects.edit_charter", project_id=project.id))
    return project


# --------------------------------------------------------------------------- charter


MEMBER_ROLE_MAX = 120
TEAM_MAX = 60  # members of one team
DEFAULT_ROLE = "Membre de l'équipe"


def member_field(user_id: int, name: str) -> str:
    """The field name of one member's `name` ("role", "hours") in a charter's errors."""
    return f"member-{user_id}-{name}"


def read_team(project: Project, rows) -> tuple[list[tuple[User, str, int]], dict[str, str]]:
    """The team from `rows` of (agent id, role, hours as typed): each an active agent of the
    project's institution, once, with 0 to HOURS_BUDGET_MAX hours; and the errors by field."""
    rows = list(rows)
    errors: dict[str, str] = {}
    if len(rows) > TEAM_MAX:
        return [], {"members": f"Une équipe compte au plus {TEAM_MAX} membres."}
    agents = {u.id: u for u in db.session.scalars(select(User).where(
        User.id.in_([r[0] for r in rows]), User.institution_id == project.institution_id,
        User.is_active.is_(True)))} if rows else {}
    members, seen = [], set()
    for user_id, role, hours in rows:
        user = agents.get(user_id)
        if user is None:
            errors["members"] = "Un membre choisi n'est pas un agent actif de la collectivité : choisissez-le à nouveau."
            continue
        if user.id in seen:
            continue  # chosen twice: once is enough
        number = int_in_range(str(hours).strip() or "0", 0, HOURS_BUDGET_MAX)
        if number is None:
            errors[member_field(user.id, "hours")] = f"Un nombre entier d'heures, de 0 à {HOURS_BUDGET_MAX}."
        role = " ".join(clean(role).split())
        if len(role) > MEMBER_ROLE_MAX:
            errors[member_field(user.id, "role")] = f"{MEMBER_ROLE_MAX} caractères au plus."
        seen.add(user.id)
        members.append((user, role or DEFAULT_ROLE, number or 0))
    return members, errors


def save_charter(actor: User, project: Project, *, sponsor_email: str | None, lead_email: str,
                 objectives: str, indicators: str, starts_on: date | None, ends_on: date | None,
                 members) -> None:
    """`sponsor_email` None: the sponsor stays (the form does not offer it to who may not
    appoint one). `members`: rows of (agent id, role, hours as typed), see read_team."""
    refusal = policy.can_edit_charter(actor, project)
    if refusal == policy.CLOSED:
        raise InvalidTransition(refusal)
    if refusal:
        raise NotAllowed(refusal)
    errors: dict[str, str] = {}
    was_ready, sponsor_before = not policy.charter_missing(project), project.sponsor_id
    sponsor = (db.session.get(User, project.sponsor_id) if project.sponsor_id else None) if sponsor_email is None \
        else agent_by_email(project.institution_id, sponsor_email)
    if sponsor_email and sponsor is None:
        errors["sponsor_email"] = "Aucun agent actif de la collectivité n'a cette adresse."
    elif (sponsor.id if sponsor else None) != project.sponsor_id:
        # Appointing the sponsor is the coordinator's action, never by a recused one.
        refusal = policy.can_appoint_sponsor(actor, project)
        if refusal:
            raise NotAllowed(refusal)
    lead = agent_by_email(project.institution_id, lead_email)
    if lead_email and lead is None:
        errors["lead_email"] = "Aucun agent actif de la collectivité n'a cette adresse."
    problem = policy.roles_problem(lead.id if lead else None, sponsor.id if sponsor else None,
                                   project.charter_validated_by_id)
    if problem:
        errors.setdefault(*problem)
    objectives, indicators = clean(objectives), clean(indicators)
    for field, value in (("objectives", objectives), ("indicators", indicators)):
        if len(value) > TEXT_MAX:
            errors[field] = f"{TEXT_MAX} caractères au plus."
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = "La fin doit suivre le début."
    members, problems = read_team(project, members)
    errors.update(problems)
    if errors:
        raise ValidationFailed(errors)
    project.sponsor_id = sponsor.id if sponsor else None
    project.lead_id = lead.id if lead else None
    project.objectives, project.indicators = objectives, indicators
    project.starts_on, project.ends_on = starts_on, ends_on
    wanted = {user.id: (role, hours) for user, role, hours in members}
    for member in list(project.members):
        if member.user_id not in wanted:
            project.members.remove(member)
    present = {m.user_id: m for m in project.members}
    for user, role, hours in members:
        member = present.get(user.id) or ProjectMember(user=user)
        member.role, member.hours_budget = role, hours
        if user.id not in present:
            project.members.append(member)
    db.session.flush()
    record("project.charter_saved", actor=actor, institution_id=project.institution_id, target=project,
           data={"members": len(members), "sponsor_id": project.sponsor_id, "lead_id": project.lead_id})
    _notify_charter_hand_overs(actor, project, was_ready=was_ready, sponsor_before=sponsor_before)


def _notify_charter_hand_overs(actor: User, project: Project, *, was_ready: bool, sponsor_before: int | None) -> None:
    """The appointed sponsor is told; once the charter is complete, its sponsor and the
    coordinators who may validate it (neither its lead nor its sponsor) are told."""
    # Read by id: the relationship may still hold the sponsor loaded before the change.
    sponsor = db.session.get(User, project.sponsor_id) if project.sponsor_id else None
    if sponsor is not None and project.sponsor_id != sponsor_before:
        notify([sponsor], "projects", "Vous êtes désigné·e commanditaire d'un projet",
               f"Vous êtes commanditaire du projet « {project.title} » : relisez sa lettre de mission (objectifs, "
               "équipe, temps de décharge) avant sa validation par l'animation du collectif.",
               link("projects.charter", project_id=project.id), exclude=actor)
    if was_ready or policy.charter_missing(project) or lifecycle.transition(project.state, "validate_charter") is None:
        return
    notify([sponsor], "projects", "La lettre de mission est prête",
           f"La lettre de mission du projet « {project.title} » est complète : l'animation du collectif peut la valider.",
           link("projects.charter", project_id=project.id), exclude=actor)
    validators = [u for u in _project_coordinators(project) if policy.can_validate_charter(u, project) is None]
    notify(validators, "projects", "Une lettre de mission est à valider",
           f"La lettre de mission du projet « {project.title} » est complète : relisez-la et validez-la.",
           link("projects.show", "cadre", project_id=project.id), exclude=actor)


def _project_coordinators(project: Project) -> list[User]:
    """Who takes the coordinator's actions on the project: of its proposal, or all the
    institution's coordinators for a project that comes from none."""
    if project.proposal is not None:
        coordination = coordination_of(project.proposal)
        return [u for u in (*coordination.acting, coordination.substitute) if u is not None]
    return coordinators_of(project.institution_id)


def validate_charter(actor: User, project: Project) -> None:
    """By a coordinator (not recused on the proposal, or its substitute) who is neither the
    lead nor the sponsor: the three are distinct people."""
    refuse(policy.can_validate_charter(actor, project))
    transition = lifecycle.transition(project.state, "validate_charter")
    missing = policy.charter_missing(project)
    if missing:
        raise ValidationFailed({"charter": "Avant de valider, complétez : " + ", ".join(missing) + "."})
    problem = policy.roles_problem(project.lead_id, project.sponsor_id, actor.id)
    if problem:
        raise ValidationFailed({"charter": problem[1]})
    project.charter_validated_at = utcnow()
    project.charter_validated_by_id = actor.id
    _move(project, transition, actor)
    notify([m.user for m in project.members] + [project.lead], "projects", "La lettre de mission est validée",
           f"Le projet « {project.title} » démarre : vos heures de décharge prévues figurent dans la lettre de mission.",
           link("projects.show", project_id=project.id), exclude=actor)


# --------------------------------------------------------------------------- running


def add_milestone(actor: User, project: Project, *, title: str, due_on: date | None) -> Milestone:
    refuse(policy.can_manage_milestones(actor, project))
    title = " ".join(clean(title).split())
    errors = {}
    if not MILESTONE_TITLE_MIN <= len(title) <= MILESTONE_TITLE_MAX:
        errors["title"] = f"Un intitulé de {MILESTONE_TITLE_MIN} à {MILESTONE_TITLE_MAX} caractères."
    if due_on is None:
        errors["due_on"] = "Indiquez l'échéance."
    if errors:
        raise ValidationFailed(errors)
    milestone = Milestone(title=title, due_on=due_on)
    project.milestones.append(milestone)
    db.session.flush()
    record("project.milestone_added", actor=actor, institution_id=project.institution_id, target=project,
           data={"title": title, "due_on": due_on.isoformat()})
    return milestone


def toggle_milestone(actor: User, project: Project, milestone: Milestone) -> None:
    refuse(policy.can_manage_milestones(actor, project))
    milestone.done_on = None if milestone.done_on else today_paris()
    record("project.milestone_done" if milestone.done_on else "project.milestone_reopened", actor=actor,
           institution_id=project.institution_id, target=project, data={"title": milestone.title},
           public=milestone.done_on is not None)


def add_progress(actor: User, project: Project, *, text: str, progress: Any,
                 indicator_values: str) -> ProgressUpdate:
    refuse(policy.can_add_progress(actor, project))
    errors = {}
    text, indicator_values = clean(text), clean(indicator_values)
    if not TEXT_MIN <= len(text) <= TEXT_MAX:
        errors["text"] = f"Décrivez l'avancement en {TEXT_MIN} à {TEXT_MAX} caractères."
    value = int_in_range(progress, 0, 100)
    if value is None:
        errors["progress"] = "Un pourcentage entre 0 et 100."
    if len(indicator_values) > INDICATOR_VALUES_MAX:
        errors["indicator_values"] = f"{INDICATOR_VALUES_MAX} caractères au plus."
    if errors:
        raise ValidationFailed(errors)
    update = ProgressUpdate(project_id=project.id, author_id=actor.id, text=text, progress=value,
                            indicator_values=indicator_values)
    db.session.add(update)
    project.progress = value
    record("project.progress", actor=actor, institution_id=project.institution_id, target=project,
           data={"progress": value}, public=True)
    return update


def hold(actor: User, project: Project, *, reason: str) -> None:
    transition = _require(project, "hold", actor)
    reason = clean(reason)
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise ValidationFailed({"reason": f"Donnez la raison de la pause ({REASON_MIN} à {REASON_MAX} caractères) : "
                                          "elle est publiée."})
    project.hold_reason = reason
    _move(project, transition, actor, {"reason": reason})


def resume(actor: User, project: Project, *, reason: str) -> None:
    transition = _require(project, "resume", actor)
    reason = clean(reason)
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise ValidationFailed({"reason": f"Dites ce qui permet de reprendre ({REASON_MIN} à {REASON_MAX} caractères)."})
    project.hold_reason = ""
    _move(project, transition, actor, {"reason": reason})


ABANDON_UNCONFIRMED = "Cochez la case pour confirmer l'abandon : le projet sera clos sans suite."


def close(actor: User, project: Project, *, action: str, worked: str, did_not_work: str,
          reusable: str, indicators_reached: str, abandon_confirmed: bool = False) -> Retrospective:
    """Abandoning is confirmed explicitly (`abandon_confirmed`), whatever the page showed."""
    refuse(policy.can_close(actor, project))
    fields = {"worked": clean(worked), "did_not_work": clean(did_not_work), "reusable": clean(reusable),
              "indicators_reached": clean(indicators_reached)}
    errors = {k: f"Le retour d'expérience est obligatoire pour clore : {TEXT_MIN} caractères au moins."
              for k, v in fields.items() if len(v) < TEXT_MIN}
    errors.update({k: f"{TEXT_MAX} caractères au plus." for k, v in fields.items() if len(v) > TEXT_MAX})
    if action not in ("complete", "abandon"):  # said with the rest: every problem at once
        errors["action"] = "Choisissez : terminé ou abandonné."
        raise ValidationFailed(errors)
    transition = _require(project, action, actor)
    if action == "abandon" and not abandon_confirmed:
        errors["confirm_abandon"] = ABANDON_UNCONFIRMED
    if errors:
        raise ValidationFailed(errors)
    retro = Retrospective(project_id=project.id, author_id=actor.id, **fields)
    db.session.add(retro)
    if action == "complete":
        project.progress = 100
    _move(project, transition, actor)
    return retro


# --------------------------------------------------------------------------- immersions


def notify_overdue_milestones() -> int:
    """Tell each running project's team about milestones past due, once per milestone."""
    today = today_paris()
    overdue = db.session.scalars(select(Milestone).join(Project, Project.id == Milestone.project_id).where(
        Milestone.done_on.is_(None), Milestone.due_on < today, Milestone.overdue_notified_on.is_(None),
        Project.state.in_(("active", "on_hold")))).all()
    for milestone in overdue:
        project = milestone.project
        notify([m.user for m in project.members] + [project.lead], "projects", "Un jalon est en retard",
               f"Le jalon « {milestone.title} » du projet « {project.title} » devait être atteint le "
               f"{milestone.due_on:%d/%m/%Y}.", link("projects.show", "jalons", project_id=project.id))
        milestone.overdue_notified_on = today
    return len(overdue)
