from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

from ..audit.services import record_read
from ..errors import refuse
from ..pagination import paginate_capped
from ..people.models import CATEGORIES, User
from ..people.search import SEARCH_MAX, clean_search
from ..security import login_required, roles_required
from ..timeutil import parse_day, today_paris
from ..web import get_in_institution_or_404, int_arg, is_htmx, page_number, render_page
from .export import export_response
from .policy import managers_option_refusal, report_record_refusal, reports_page_refusal
from .queries import HR_PAGE_SIZE, HrFilters, Period, figures_for, hr_agents_query, readable_reports
from .units import UnitTree

bp = Blueprint("engagement", __name__)
hr_only = roles_required("hr")


def _period() -> Period:
    year = request.args.get("annee", type=int)
    start, end = parse_day(request.args.get("du")), parse_day(request.args.get("au"))
    if start and end and start <= end:
        return Period(start, end)
    if year and 2000 <= year <= 2100:
        return Period.year(year)
    return Period.year(today_paris().year)


@bp.get("/mon-engagement")
@login_required
def mine():
    period = _period()
    figures = figures_for([current_user.id], period)[current_user.id]
    return render_page("engagement/mine.html", period=period, f=figures, agent=current_user,
                       today_date=today_paris(), manager_reads=managers_option_refusal(current_user) is None
                       and current_user.manager_id is not None)


def _hr_filters(units: UnitTree) -> HrFilters:
    try:
        minimum = float((request.args.get("heures_min") or "0").replace(",", "."))
    except ValueError:
        minimum = 0.0
    return HrFilters(q=clean_search(request.args.get("q")),
                     org_unit_id=units.chosen(int_arg("direction"), int_arg("service")),
                     category=request.args.get("categorie") if request.args.get("categorie") in CATEGORIES else "",
                     min_hours=max(0.0, min(minimum, 2000.0)),
                     sort="unit" if request.args.get("tri") == "service" else "name")


@bp.get("/rh/engagement")
@hr_only
def hr():
    units = UnitTree.load(current_user.institution_id, token=current_user.institution.org_units_token)
    period, filters = _period(), _hr_filters(units)
    query, params = hr_agents_query(current_user.institution_id, filters, period, units)
    export = request.args.get("format")
    # Every HR read is logged, the list and each of its pages included (README, DESIGN §4.4).
    read = {"from": period.start.isoformat(), "to": period.end.isoformat(), "q": filters.q,
            "service": filters.org_unit_id, "category": filters.category, "min_hours": filters.min_hours, "sort": filters.sort}
    if export in ("csv", "xlsx"):
        record_read("engagement.exported", actor=current_user, institution_id=current_user.institution_id,
                    data={"format": export, **read})
        return export_response(query, params, period, export, units)
    number = page_number()
    record_read("engagement.listed", actor=current_user, institution_id=current_user.institution_id,
                data={**read, "page": number})
    page = paginate_capped(query, params=params, page=number, per_page=HR_PAGE_SIZE,
                           exact=filters.counts_from_indexes)
    figures = figures_for([u.id for u in page.items], period)
    direction = units.anchor(filters.org_unit_id) if filters.org_unit_id else None
    return render_page("engagement/hr.html", block="results", page=page, figures=figures, period=period,
                       places={u.org_unit_id: units.place(u.org_unit_id) for u in page.items},
                       filters=filters, direction=direction, directions=units.direction_choices,
                       services=units.service_choices(direction), fragment=is_htmx(),
                       categories=CATEGORIES, search_max=SEARCH_MAX)


@bp.get("/rh/engagement/<int:user_id>")
@hr_only
def hr_agent(user_id: int):
    agent = get_in_institution_or_404(User, user_id)
    period = _period()
    record_read("engagement.viewed", actor=current_user, institution_id=current_user.institution_id, target=agent,
                data={"from": period.start.isoformat(), "to": period.end.isoformat()})
    figures = figures_for([agent.id], period)[agent.id]
    return render_page("engagement/mine.html", period=period, f=figures, agent=agent, hr_view=True,
                       today_date=today_paris())


@bp.get("/mes-agents")
@login_required
def reports():
    """The N+1's way in: their direct reports, by name, each a link to their record (no
    figures side by side: no ranking)."""
    agents = readable_reports(current_user)
    refuse(reports_page_refusal(current_user, len(agents)))
    return render_page("engagement/reports.html", agents=agents)


@bp.get("/mes-agents/<int:user_id>/engagement")
@login_required
def report_agent(user_id: int):
    """A direct report's record, read by their N+1 when the institution allows it
    (engagement.policy): the page the agent sees, read-only, each read logged like HR's."""
    agent = get_in_institution_or_404(User, user_id)
    refuse(report_record_refusal(current_user, agent))
    period = _period()
    record_read("engagement.viewed_by_manager", actor=current_user, institution_id=current_user.institution_id,
                target=agent, data={"from": period.start.isoformat(), "to": period.end.isoformat()})
    figures = figures_for([agent.id], period)[agent.id]
    return render_page("engagement/mine.html", period=period, f=figures, agent=agent, manager_view=True,
                       today_date=today_paris())
