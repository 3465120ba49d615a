from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from flask_login import current_user

from ..checks import PROXY_PROBE_HEADER, proxy_headers_seen
from ..engagement.policy import managers_option_refusal
from ..engagement.queries import readable_reports
from ..inbox.items import inbox_for
from ..navigation import site_map_for
from ..security import login_required
from ..web import render_page
from . import queries, rgaa

bp = Blueprint("core", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness for load balancers: touches neither the database nor the session. To a probe
    of `flask check` signed with SECRET_KEY, the forwarding headers it arrived with."""
    seen = proxy_headers_seen(current_app, request.environ, request.headers.get(PROXY_PROBE_HEADER))
    if seen is not None:
        response = jsonify(seen)
        response.headers["Cache-Control"] = "no-store"
        return response
    return Response("ok\n", mimetype="text/plain")


@bp.get("/theme.css")
def theme_css() -> Response:
    """The institution's accent colour (a stylesheet, since the CSP forbids inline styles)."""
    color = "#1f5f8b"
    if current_user.is_authenticated:
        color = current_user.institution.accent_color
    if not (len(color) == 7 and color.startswith("#") and all(c in "0123456789abcdefABCDEF" for c in color[1:])):
        color = "#1f5f8b"
    response = Response(f":root {{ --accent: {color}; }}\n", mimetype="text/css")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.get("/")
@login_required
def home():
    # The N+1's way to their reports' engagement records, when the institution allows it.
    reports_engagement_open = managers_option_refusal(current_user) is None and bool(readable_reports(current_user))
    return render_page("core/home.html", inbox=inbox_for(current_user), summary=queries.home_summary(current_user),
                       reports_engagement_open=reports_engagement_open)


@bp.get("/accessibilite")
def accessibility():
    return render_page("core/accessibility.html", grid=rgaa, outcome=rgaa.result(),
                       non_conformities=rgaa.non_conformities(), themes=rgaa.by_theme(),
                       contact_email=current_app.config["ACCESSIBILITY_CONTACT_EMAIL"])


@bp.get("/plan-du-site")
def site_map():
    return render_page("core/site_map.html", sections=site_map_for(current_user))


@bp.get("/donnees-personnelles")
def personal_data():
    return render_page("core/personal_data.html")
