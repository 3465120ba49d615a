from __future__ import annotations

from flask import Blueprint, abort, current_app, request
from flask_login import current_user

from ..engagement.views import _period
from ..exports import csv_response
from ..security import login_required
from ..web import render_page
from . import queries
from .charts import bar_svg, figure, stat

bp = Blueprint("dashboard", __name__)


@bp.get("/tableau-de-bord")
@login_required
def index():
    coordinator = current_user.has_role("coordinator")
    dashboard = queries.cached_build(current_user.institution_id, _period(), coordinator=coordinator)
    charts = [dashboard.funnel, dashboard.by_theme, dashboard.by_direction, dashboard.participation,
              dashboard.hours_by_direction, dashboard.hours_by_month, dashboard.immersions]
    if coordinator:
        charts += [dashboard.backlog, dashboard.sessions_by_month]
    if request.args.get("format") == "csv":
        chart = next((c for c in charts if c.name == request.args.get("graphique")), None)
        if chart is None:
            abort(404)
        return csv_response(f"{chart.name}.csv", ["libellé", "valeur"], chart.rows)
    return render_page("dashboard/index.html", d=dashboard, period=dashboard.period, charts=charts, svg=bar_svg,
                       figure=figure, stat=stat, coordinator=coordinator,
                       refresh_minutes=max(1, current_app.config["DASHBOARD_CACHE_SECONDS"] // 60))
