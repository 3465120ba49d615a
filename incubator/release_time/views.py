from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, flash, request, url_for
from flask_login import current_user

from ..admin.forms import ConfirmForm
from ..errors import ValidationFailed
from ..extensions import db
from ..people import hierarchy
from ..people.models import User
from ..security import login_required
from ..text import int_in_range
from ..timeutil import parse_day, today_paris
from ..web import MAX_ID, done, get_in_institution_or_404, page_number, render_page
from . import queries, services
from .models import STATUSES

bp = Blueprint("release_time", __name__)


def _week() -> date:
    return services.monday_of(parse_day(request.values.get("semaine")) or today_paris())


def _render_week(monday: date, *, errors=None, values=None, status=200):
    view = queries.week_view(current_user, monday)
    return render_page("release_time/week.html", block="grid", view=view, errors=errors or {},
                       values=values or {}, statuses=STATUSES, daily_limit=services.daily_limit(current_user),
                       form=ConfirmForm(), prev_week=monday - timedelta(days=7),
                       next_week=monday + timedelta(days=7), status=status)


@bp.get("/mon-temps")
@login_required
def week():
    return _render_week(_week())


@bp.post("/mon-temps")
@login_required
def save():
    monday = _week()
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
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
    try:
        services.save_week(current_user, monday, values=values, notes=notes)
        warnings = services.submit_week(current_user, monday) if submit else []
    except ValidationFailed as exc:
        db.session.rollback()
        return _render_week(monday, errors=exc.errors, values=request.form, status=422)
    db.session.commit()
    for warning in warnings:
        flash(warning, "warning")
    message = "Semaine transmise à votre N+1 pour validation." if submit else "Heures enregistrées (brouillon)."
    return done(message, url_for("release_time.week", semaine=monday.isoformat()))


@bp.post("/mon-temps/rappeler")
@login_required
def recall():
    monday = _week()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.recall_week(current_user, monday)
    db.session.commit()
    return done("Semaine rappelée : vous pouvez la modifier puis la transmettre à nouveau.",
                url_for("release_time.week", semaine=monday.isoformat()))


def _approvals_page(errors=None, status: int = 200):
    page, queues, given, received = queries.approval_queue(current_user, page_number())
    return render_page("release_time/approvals.html", page=page, queues=queues, given=given, received=received,
                       budgets=queries.reports_budgets([q.agent.id for q in queues]), form=ConfirmForm(),
                       errors=errors or {}, today=today_paris(), status=status)


@bp.get("/validations")
@login_required
def approvals():
    return _approvals_page()


@bp.post("/validations")
@login_required
def decide():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    ids = [int_in_range(v, 1, MAX_ID) for v in request.form.getlist("entry")]
    if None in ids:
        abort(400)  # not an id the database could hold
    action = request.form.get("action")
    if action not in ("approve", "refuse"):
        abort(400)
    try:
        count = services.decide(current_user, ids, approve=action == "approve", reason=request.form.get("reason", ""))
    except ValidationFailed as exc:
        db.session.rollback()
        return _approvals_page(exc.errors, 422)
    db.session.commit()
    word = "validée" if action == "approve" else "refusée"
    return done(f"{count} ligne{'s' if count > 1 else ''} {word}{'s' if count > 1 else ''}.", url_for("release_time.approvals"))


@bp.post("/validations/delegation")
@login_required
def delegate():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        hierarchy.delegate(current_user, delegate_email=request.form.get("delegate_email", ""),
                          starts_on=parse_day(request.form.get("starts_on")), ends_on=parse_day(request.form.get("ends_on")))
    except ValidationFailed as exc:
        db.session.rollback()
        return _approvals_page(exc.errors, 422)
    db.session.commit()
    return done("Délégation enregistrée.", url_for("release_time.approvals"))


@bp.post("/validations/derogation/<int:user_id>")
@login_required
def override(user_id: int):
    agent = get_in_institution_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    month = parse_day((request.form.get("month") or "") + "-01")
    services.grant_override(current_user, agent, month=month, reason=request.form.get("reason", ""))
    db.session.commit()
    return done(f"Dérogation au plafond accordée à {agent.full_name}.", url_for("release_time.approvals"))
