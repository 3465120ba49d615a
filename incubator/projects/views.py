from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from flask import Blueprint, abort, request, url_for
from flask_login import current_user

from ..admin.forms import ConfirmForm
from ..errors import NotAllowed
from ..extensions import db
from ..immersions import policy as immersion_policy
from ..immersions.models import Application
from ..pagination import paginate_capped
from ..people.models import User
from ..release_time.services import team_budgets
from ..security import login_required
from ..timeutil import today_paris
from ..web import done, int_arg, is_htmx, page_number, render_page, write
from . import forms, lifecycle, policy, queries, services
from .models import KIND_LABELS, Milestone, Project

bp = Blueprint("projects", __name__)


def _project_or_404(project_id: int, *, for_page: bool = False) -> Project:
    """A project of one's institution; or, from a partner institution, an immersion one
    takes part in (the visitor, and the N+1 who consented). `for_page`: loaded for the
    project page (queries.load_project_for_page), else with its members as objects."""
    project = (queries.load_project_for_page if for_page else queries.load_project)(project_id)
    if project is None:
        abort(404)
    if project.institution_id != current_user.institution_id:
        involved = project.has_member(current_user.id) or db.session.scalar(
            db.select(Application.id).where(Application.project_id == project.id,
                                            Application.manager_id == current_user.id)) is not None
        if not involved:
            abort(404)
    return project


@bp.get("/realisations")
@login_required
def portfolio():
    filters = queries.PortfolioFilters.from_args(request.args)
    query, params = queries.portfolio_query(current_user.institution_id, filters)
    today = today_paris()
    page = paginate_capped(query, page=page_number(), per_page=20, params=params, key=Project.id,
                           load=partial(queries.portfolio_cards, today=today))
    return render_page("projects/portfolio.html", block="results", page=page, filters=filters,
                       states=lifecycle.STATES, kinds=KIND_LABELS)


def _render_project(project: Project, **form_overrides):
    capacities = project.capacities(current_user)
    forms_ = {
        "milestone_form": forms.MilestoneForm(prefix="jalon"),
        "progress_form": forms.ProgressForm(prefix="avancement", data={"progress": project.progress}),
        "reason_form": forms.ReasonForm(prefix="motif"),
        "close_form": forms.CloseForm(prefix="cloture"),
        "csrf_form": ConfirmForm(),
    }
    forms_.update(form_overrides)
    # Budgets: the whole team for its lead, sponsor and the coordinator; one's own line otherwise.
    # Only that line is computed: summing a whole team's hours to show one is the page's cost.
    sees_team = bool(capacities & {lifecycle.LEAD, lifecycle.SPONSOR, lifecycle.COORDINATOR})
    budget_lines = team_budgets(project, user_ids=None if sees_team else [current_user.id])
    application = immersion_policy.convention_application(project)
    transitions = lifecycle.available(project.state, capacities)
    # The outcomes offered when closing: those the table lets this person choose.
    closing = {t.action for t in transitions if t.action in ("complete", "abandon")}
    close_form = forms_["close_form"]
    close_form.action.choices = [choice for choice in close_form.action.choices if choice[0] in closing]
    if close_form.action.data not in closing and close_form.action.choices:
        close_form.action.data = close_form.action.choices[0][0]
    return render_page(
        "projects/show.html", project=project, page=queries.project_page(project, updates_before=int_arg("avant")),
        budgets=budget_lines,
        convention=application if application and immersion_policy.can_read_convention(
            current_user, project, application) else None,
        capacities=capacities, transitions=transitions, closing=closing,
        sponsor_note=policy.sponsor_note(current_user, project),
        can_manage_milestones=policy.can_manage_milestones(current_user, project) is None,
        can_add_progress=policy.can_add_progress(current_user, project) is None,
        can_edit_charter=policy.can_edit_charter(current_user, project) is None,
        can_validate=policy.can_validate_charter(current_user, project) is None,
        today=today_paris(), **forms_)


@bp.get("/projets/<int:project_id>")
@login_required
def show(project_id: int):
    return _render_project(_project_or_404(project_id, for_page=True))


@bp.get("/projets/<int:project_id>/lettre-de-mission")
@login_required
def charter(project_id: int):
    project = _project_or_404(project_id)
    return render_page("projects/charter.html", project=project, today=today_paris())


@dataclass
class TeamRow:
    """One member's line in the charter form: the agent, the role and hours as typed, and
    the messages for each."""
    user: User
    role: str = ""
    hours: str = ""
    errors: dict = field(default_factory=dict)


def _posted_team(project: Project) -> tuple[list[tuple[int, str, str]], list[int]]:
    """The team rows sent by the charter form (agent id, role, hours), without the members
    marked to leave; and the ids of every row sent (to show them again)."""
    ids = []
    for raw in request.form.getlist("membres"):
        if raw.isdigit() and int(raw) not in ids and len(raw) < 12:
            ids.append(int(raw))
    rows = [(i, request.form.get(f"membre-{i}-role", ""), request.form.get(f"membre-{i}-heures", ""))
            for i in ids if not request.form.get(f"membre-{i}-retirer")]
    return rows, ids


def _team_rows(project: Project, refusal=None) -> list[TeamRow]:
    """The rows to show: those sent (after a refusal), else the team as saved, plus the agent
    chosen on the search page (?ajouter=id, the way to add someone without JavaScript)."""
    if request.method == "POST":
        _rows, ids = _posted_team(project)
        agents = queries.team_agents(project.institution_id, ids)
        errors = refusal.errors if refusal is not None else {}
        return [TeamRow(agents[i], request.form.get(f"membre-{i}-role", ""),
                        request.form.get(f"membre-{i}-heures", ""),
                        {name: errors.get(services.member_field(i, name), []) for name in ("role", "hours")})
                for i in ids if i in agents]
    rows = [TeamRow(m.user, m.role, str(m.hours_budget)) for m in project.members]
    added = request.args.get("ajouter", "")
    if added.isdigit() and len(added) < 12 and int(added) not in {r.user.id for r in rows}:
        rows += [TeamRow(u) for u in queries.team_agents(project.institution_id, [int(added)]).values()]
    return rows


def _charter_editor(project: Project) -> None:
    refusal = policy.can_edit_charter(current_user, project)
    if refusal:
        raise NotAllowed(refusal)


@bp.route("/projets/<int:project_id>/lettre-de-mission/modifier", methods=["GET", "POST"])
@login_required
def edit_charter(project_id: int):
    project = _project_or_404(project_id)
    _charter_editor(project)
    # The sponsor field is offered only to who may appoint the sponsor; the others see why not.
    sponsor_refusal = policy.can_appoint_sponsor(current_user, project)

    def page(form, refusal=None):
        return render_page("projects/charter_form.html", project=project, form=form, sponsor_refusal=sponsor_refusal,
                           team=_team_rows(project, refusal), query_min=queries.AGENT_QUERY_MIN,
                           team_errors=refusal.errors.get("members", []) if refusal is not None else [])

    if request.method == "GET":
        return page(forms.CharterForm(data={
            "sponsor_email": project.sponsor.login if project.sponsor else "",
            "lead_email": project.lead.login if project.lead else "",
            "objectives": project.objectives, "indicators": project.indicators,
            "starts_on": project.starts_on, "ends_on": project.ends_on,
        }))
    form = forms.CharterForm()
    # A form without the field keeps the sponsor; a change by who may not appoint is refused.
    sponsor_email = form.sponsor_email.data or "" if "sponsor_email" in request.form else None
    members, _ids = _posted_team(project)
    return write(form, lambda: services.save_charter(
        current_user, project, sponsor_email=sponsor_email, lead_email=form.lead_email.data or "",
        objectives=form.objectives.data or "", indicators=form.indicators.data or "",
        starts_on=form.starts_on.data, ends_on=form.ends_on.data, members=members),
        success=lambda _: done("Lettre de mission enregistrée.", url_for("projects.show", project_id=project_id)),
        invalid=lambda refusal: page(form, refusal))


@bp.get("/projets/<int:project_id>/equipe/agents")
@login_required
def agent_search(project_id: int):
    """The team picker's suggestions: the institution's active agents matching `q`, as an
    htmx fragment under the search field, or as a page to choose from without JavaScript."""
    project = _project_or_404(project_id)
    _charter_editor(project)
    q = (request.args.get("q") or "").strip()[:queries.AGENT_QUERY_MAX]
    agents, more = queries.agent_suggestions(project.institution_id, q)
    return render_page("projects/agent_search.html", block="suggestions", project=project, q=q, agents=agents,
                       more=more, too_short=len(q) < queries.AGENT_QUERY_MIN, query_min=queries.AGENT_QUERY_MIN,
                       fragment=is_htmx())


@bp.post("/projets/<int:project_id>/valider")
@login_required
def validate(project_id: int):
    project = _project_or_404(project_id)
    form = ConfirmForm()
    return write(form, lambda: services.validate_charter(current_user, project),
                 success=lambda _: done("Lettre de mission validée : le projet démarre.",
                                        url_for("projects.show", project_id=project_id)),
                 invalid=lambda _: _render_project(_project_or_404(project_id), csrf_form=form))


@bp.post("/projets/<int:project_id>/jalons")
@login_required
def add_milestone(project_id: int):
    project = _project_or_404(project_id)
    form = forms.MilestoneForm(prefix="jalon")
    return write(form, lambda: services.add_milestone(current_user, project, title=form.title.data or "",
                                                      due_on=form.due_on.data),
                 success=lambda _: done("Jalon ajouté.", url_for("projects.show", project_id=project_id) + "#jalons"),
                 invalid=lambda _: _render_project(_project_or_404(project_id), milestone_form=form))


@bp.post("/projets/<int:project_id>/jalons/<int:milestone_id>")
@login_required
def toggle_milestone(project_id: int, milestone_id: int):
    project = _project_or_404(project_id)
    milestone = db.session.get(Milestone, milestone_id)
    if milestone is None or milestone.project_id != project.id:
        abort(404)
    return write(None, lambda: services.toggle_milestone(current_user, project, milestone),
                 success=lambda _: done("Jalon mis à jour.", url_for("projects.show", project_id=project_id) + "#jalons"))


@bp.post("/projets/<int:project_id>/avancement")
@login_required
def add_progress(project_id: int):
    project = _project_or_404(project_id)
    form = forms.ProgressForm(prefix="avancement")
    return write(form, lambda: services.add_progress(current_user, project, text=form.text.data or "",
                                                     progress=form.progress.data,
                                                     indicator_values=form.indicator_values.data or ""),
                 success=lambda _: done("Point d'avancement publié.",
                                        url_for("projects.show", project_id=project_id) + "#avancement"),
                 invalid=lambda _: _render_project(_project_or_404(project_id), progress_form=form))


@bp.post("/projets/<int:project_id>/<any(pause, reprise):action>")
@login_required
def hold_or_resume(project_id: int, action: str):
    project = _project_or_404(project_id)
    form = forms.ReasonForm(prefix="motif")
    service = services.hold if action == "pause" else services.resume
    return write(form, lambda: service(current_user, project, reason=form.reason.data or ""),
                 success=lambda _: done("Projet mis en pause." if action == "pause" else "Projet repris.",
                                        url_for("projects.show", project_id=project_id)),
                 invalid=lambda _: _render_project(_project_or_404(project_id), reason_form=form))


@bp.post("/projets/<int:project_id>/cloture")
@login_required
def close(project_id: int):
    project = _project_or_404(project_id)
    form = forms.CloseForm(prefix="cloture")
    return write(form, lambda: services.close(
        current_user, project, action=form.action.data or "", worked=form.worked.data or "",
        did_not_work=form.did_not_work.data or "", reusable=form.reusable.data or "",
        indicators_reached=form.indicators_reached.data or "", abandon_confirmed=bool(form.confirm_abandon.data)),
        success=lambda _: done("Projet clos ; son retour d'expérience est publié.",
                               url_for("projects.show", project_id=project_id)),
        invalid=lambda _: _render_project(_project_or_404(project_id), close_form=form))


# --------------------------------------------------------------------------- immersions


PROJECT_EVENTS = {
    "created": "Projet créé", "charter_saved": "Lettre de mission modifiée",
    "validate_charter": "Lettre de mission validée : le projet démarre", "hold": "Mis en pause",
    "resume": "Repris", "complete": "Terminé", "abandon": "Abandonné",
    "progress": "Point d'avancement publié", "milestone_done": "Jalon atteint",
}


@bp.app_template_filter("project_event")
def project_event(action: str) -> str:
    return PROJECT_EVENTS.get(action, action)
