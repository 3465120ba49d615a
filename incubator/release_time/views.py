from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, flash, request, url_for
from flask_login import current_user

from ..admin.forms import ConfirmForm
from ..people import hierarchy
from ..people.models import User
from ..security import login_required
from ..text import int_in_range
from ..timeutil import parse_day, today_paris
from ..web import MAX_ID, done, get_in_institution_or_404, page_number, render_page, write
from . import queries, services

bp = Blueprint("release_time", __name__)


def _week() -> date:
    return services.monday_of(parse_day(request.values.get("semaine")) or today_paris())


def _render_week(monday: date, *, errors=None, values=None):
    view = queries.week_view(current_user, monday)
    return render_page("release_time/week.html", block="grid", view=view, errors=errors or {},
                       values=values or {}, daily_limit=services.daily_limit(current_user),
                       note_max=services.NOTE_MAX,
                       form=ConfirmForm(), prev_week=monday - timedelta(days=7),
                       next_week=monday + timedelta(days=7))


@bp.get("/mon-temps")
@login_required
def week():
    return _render_week(_week())


@bp.post("/mon-temps")
@login_required
def save():
    monday = _week()
    values, notes = {}, {}
    for key, raw in request.form.items():
        if key.startswith("h-"):
            try:
                _h, project_id, day = key.split("-")
                values[(int(project_id), date(int(day[:4]), int(day[4:6]), int(day[6:])))] = raw
            except ValueError:
                abort(400)
        elif key.startswith("note-"):
            try:
                notes[int(key[5:])] = raw
            except ValueError:
                abort(400)
    submit = request.form.get("action") == "submit"

    def save_and_submit() -> list[str]:
        services.save_week(current_user, monday, values=values, notes=notes)
        return services.submit_week(current_user, monday) if submit else []

    def saved(warnings: list[str]):
        for warning in warnings:
            flash(warning, "warning")
        message = "Semaine transmise à votre N+1 pour validation." if submit else "Heures enregistrées (brouillon)."
        return done(message, url_for("release_time.week", semaine=monday.isoformat()))

    return write(None, save_and_submit, success=saved,
                 invalid=lambda refusal: _render_week(monday, errors=refusal.errors, values=request.form))


@bp.post("/mon-temps/rappeler")
@login_required
def recall():
    monday = _week()
    return write(None, lambda: services.recall_week(current_user, monday),
                 success=lambda _: done("Semaine rappelée : vous pouvez la modifier puis la transmettre à nouveau.",
                                        url_for("release_time.week", semaine=monday.isoformat())))


def _approvals_page(errors=None):
    page, queues, given, received = queries.approval_queue(current_user, page_number())
    # Who has no agent (nor a delegation) is told what the page is for, not offered a
    # delegation the service would refuse.
    return render_page("release_time/approvals.html", page=page, queues=queues, given=given, received=received,
                       budgets=queries.reports_budgets([q.agent.id for q in queues]), form=ConfirmForm(),
                       errors=errors or {}, today=today_paris(), manages=hierarchy.has_reports(current_user),
                       approver=hierarchy.is_approver(current_user))


@bp.get("/validations")
@login_required
def approvals():
    return _approvals_page()


@bp.post("/validations")
@login_required
def decide():
    ids = [int_in_range(v, 1, MAX_ID) for v in request.form.getlist("entry")]
    if None in ids:
        abort(400)  # not an id the database could hold
    action = request.form.get("action")
    if action not in ("approve", "refuse"):
        abort(400)
    word = "validée" if action == "approve" else "refusée"
    return write(None, lambda: services.decide(current_user, ids, approve=action == "approve",
                                               reason=request.form.get("reason", "")),
                 success=lambda count: done(f"{count} ligne{'s' if count > 1 else ''} {word}{'s' if count > 1 else ''}.",
                                            url_for("release_time.approvals")),
                 invalid=lambda refusal: _approvals_page(refusal.errors))


@bp.post("/validations/delegation")
@login_required
def delegate():
    return write(None, lambda: hierarchy.delegate(
        current_user, delegate_email=request.form.get("delegate_email", ""),
        starts_on=parse_day(request.form.get("starts_on")), ends_on=parse_day(request.form.get("ends_on"))),
        success=lambda _: done("Délégation enregistrée.", url_for("release_time.approvals")),
        invalid=lambda refusal: _approvals_page(refusal.errors))


@bp.post("/validations/derogation/<int:user_id>")
@login_required
def override(user_id: int):
    agent = get_in_institution_or_404(User, user_id)
    month = parse_day((request.form.get("month") or "") + "-01")
    return write(None, lambda: services.grant_override(current_user, agent, month=month,
                                                       reason=request.form.get("reason", "")),
                 success=lambda _: done(f"Dérogation au plafond accordée à {agent.full_name}.",
                                        url_for("release_time.approvals")),
                 invalid=lambda refusal: _approvals_page(refusal.errors))
