"""Who may do what with a project: one rule per action, asked by the services (which raise
with its reason), the views and the templates.

The charter (lettre de mission): its lead, sponsor and validator are three distinct people: the lead never
validates their own charter nor becomes its sponsor, and the sponsor does not validate the
charter they commission. Appointing the sponsor and validating are coordinator actions: a
coordinator recused on the proposal the project comes from takes neither (another
coordinator does, or the substitute an administrator designated for that proposal).

The immersion's agreement is read only by the people of the immersion.
"""

from __future__ import annotations

from sqlalchemy import and_, exists

from ..errors import not_now
from ..people.models import User
from ..review.policy import NOT_COORDINATOR, can_act_as_coordinator
from . import lifecycle
from .models import Project, ProjectMember

OTHER_INSTITUTION = "Ce projet appartient à une autre collectivité."
CLOSED = "Ce projet est clos : il ne peut plus être modifié."
LEAD_VALIDATES = "Le chef ou la cheffe de projet ne valide pas sa propre lettre de mission."
SPONSOR_VALIDATES = ("Le ou la commanditaire ne valide pas la lettre de mission qu'il ou elle commande : "
                     "l'animation du collectif la valide.")
SAME_PERSON = "Le ou la commanditaire et le chef ou la cheffe de projet sont deux personnes distinctes."


def coordination_refusal(actor: User, project: Project) -> str | None:
    """None if `actor` takes the coordinator's actions on this project: on its proposal's
    terms (recusal, substitute), or as a coordinator when it comes from no proposal."""
    if actor.institution_id != project.institution_id:
        return OTHER_INSTITUTION
    if project.proposal is not None:
        return can_act_as_coordinator(actor, project.proposal)
    return None if actor.has_role("coordinator") else NOT_COORDINATOR


def charter_capacities(actor: User, project: Project) -> set[str]:
    """What `actor` is to the charter: lead, sponsor, member; and coordinator only when they
    take the coordinator's actions on it (not by the role alone)."""
    found = project.capacities(actor) - {lifecycle.COORDINATOR}
    if coordination_refusal(actor, project) is None:
        found.add(lifecycle.COORDINATOR)
    return found


def can_edit_charter(actor: User, project: Project) -> str | None:
    if actor.institution_id != project.institution_id:
        return OTHER_INSTITUTION
    if project.is_closed:
        return CLOSED
    capacities = charter_capacities(actor, project)
    if actor.has_role("coordinator") and lifecycle.COORDINATOR not in capacities and not (
            capacities & {lifecycle.LEAD, lifecycle.SPONSOR}):
        return coordination_refusal(actor, project)  # a recused coordinator: says so
    if project.state == "framing":
        if not capacities & {lifecycle.LEAD, lifecycle.SPONSOR, lifecycle.COORDINATOR}:
            return "La lettre de mission se rédige par le chef de projet, le commanditaire ou l'animation."
    elif not capacities & {lifecycle.SPONSOR, lifecycle.COORDINATOR}:
        # Once validated, the charter binds: only its sponsor or the coordinator changes it.
        return "La lettre de mission validée ne se modifie que par le commanditaire ou l'animation."
    return None


def can_appoint_sponsor(actor: User, project: Project) -> str | None:
    refusal = coordination_refusal(actor, project)
    if refusal == NOT_COORDINATOR:
        return "Le commanditaire est désigné par l'animation du collectif."
    return refusal


SPONSOR_APPOINTED_BY = "Désigné·e par l'animation du collectif"


def sponsor_note(actor: User, project: Project) -> str | None:
    """The project page's sentence on who appoints the sponsor (can_appoint_sponsor), while
    the charter may still change; for its appointer, that they may."""
    if project.is_closed:
        return None
    if actor.has_role("coordinator") and can_appoint_sponsor(actor, project) is None:
        return SPONSOR_APPOINTED_BY + " : vous pouvez le faire en modifiant la lettre de mission."
    return SPONSOR_APPOINTED_BY + "."


def can_validate_charter(actor: User, project: Project) -> str | None:
    """Whoever validates is neither the lead nor the sponsor, and takes the coordinator's
    actions on the project; then the lifecycle table says whether the state allows it."""
    if actor.institution_id != project.institution_id:
        return OTHER_INSTITUTION
    if actor.id == project.lead_id:
        return LEAD_VALIDATES
    if actor.id == project.sponsor_id:
        return SPONSOR_VALIDATES
    return (coordination_refusal(actor, project)
            or lifecycle.MACHINE.refusal(project.state, "validate_charter", {lifecycle.COORDINATOR}))


def charter_missing(project: Project) -> list[str]:
    """What the charter lacks before it can be validated (French, for the message); empty
    when it is ready. `charter_ready_clause` is the same rule in SQL, for many projects."""
    missing = []
    if not project.sponsor_id:
        missing.append("le commanditaire")
    if not project.lead_id:
        missing.append("le chef ou la cheffe de projet")
    if not project.objectives:
        missing.append("les objectifs")
    if not (project.starts_on and project.ends_on):
        missing.append("les dates de début et de fin")
    if not any(m.hours_budget > 0 for m in project.team):
        missing.append("au moins un membre avec son budget d'heures")
    return missing


def charter_ready_clause():
    """SQL on Project: `charter_missing(project)` is empty (tests/projects check they agree)."""
    return and_(Project.sponsor_id.is_not(None), Project.lead_id.is_not(None), Project.objectives != "",
                Project.starts_on.is_not(None), Project.ends_on.is_not(None),
                exists().where(ProjectMember.project_id == Project.id, ProjectMember.hours_budget > 0))


# --------------------------------------------------------------------------- running

TEAM = frozenset({lifecycle.LEAD, lifecycle.MEMBER, lifecycle.COORDINATOR})


def _open_to(actor: User, project: Project, capacities: frozenset[str], message: str) -> str | None:
    """None if the project is open and `actor` is one of `capacities` to it, else why not."""
    if actor.institution_id != project.institution_id:
        return OTHER_INSTITUTION
    if project.is_closed:
        return not_now(CLOSED)
    if not project.capacities(actor) & capacities:
        return message
    return None


def can_manage_milestones(actor: User, project: Project) -> str | None:
    """The team (lead, members, coordinator) adds milestones and marks them reached."""
    return _open_to(actor, project, TEAM, "Seule l'équipe du projet gère ses jalons.")


def can_close(actor: User, project: Project) -> str | None:
    """The lead, the sponsor or the coordinator closes an open project (the table then says
    which outcomes each may choose: completed, abandoned)."""
    return _open_to(actor, project, frozenset({lifecycle.LEAD, lifecycle.SPONSOR, lifecycle.COORDINATOR}),
                    "Seuls le chef de projet, le commanditaire ou l'animation clôturent un projet.")


def can_add_progress(actor: User, project: Project) -> str | None:
    """The team publishes progress updates, once the charter is validated (the project has
    started: the table no longer offers to validate it)."""
    refusal = _open_to(actor, project, TEAM, "Seule l'équipe du projet publie ses points d'avancement.")
    if refusal is None and lifecycle.transition(project.state, "validate_charter") is not None:
        return not_now("Validez d'abord la lettre de mission : le projet n'a pas démarré.")
    return refusal


def roles_problem(lead_id: int | None, sponsor_id: int | None,
                  validator_id: int | None) -> tuple[str, str] | None:
    """The charter's lead, sponsor and validator are distinct people: None, or the charter
    field at fault and why."""
    if lead_id is not None and lead_id == sponsor_id:
        return "sponsor_email", SAME_PERSON
    if validator_id is not None and validator_id in (lead_id, sponsor_id):
        return ("lead_email" if validator_id == lead_id else "sponsor_email",
                "La personne qui a validé la lettre de mission n'en est ni le chef ou la cheffe de projet, "
                "ni le ou la commanditaire.")
    return None


# --------------------------------------------------------------------------- immersions


