from __future__ import annotations

from flask import Blueprint, abort, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from ..accounts.sessions import register_session_fact
from ..admin.forms import ConfirmForm
from ..extensions import db
from ..security import background, login_required
from ..web import done, local_path, page_number, render_page, write
from . import services
from .models import CATEGORIES, DELIVERY, Notification

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


def unread_clause(user_id):
    """SQL: how many notifications of the user are unread."""
    return (select(func.count()).select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None)).scalar_subquery())


# Every page's header shows the count: answered by the session's own query (no query of its
# own, no htmx call on load, so the header never moves); htmx only refreshes it.
register_session_fact("unread_notifications", unread_clause)


def unread_count(user) -> int:
    """The count read with the session's query, else one query."""
    known = user.session_facts.get("unread_notifications")
    if known is not None:
        return int(known)
    return db.session.scalar(select(unread_clause(user.id))) or 0


@bp.app_context_processor
def header_counter():
    """The header's count (templates/base.html), computed only when a page shows it."""
    return {"unread_notifications": lambda: unread_count(current_user)}


@bp.get("")
@login_required
def index():
    page = db.paginate(select(Notification).where(Notification.user_id == current_user.id)
                       .order_by(Notification.created_at.desc(), Notification.id.desc()),
                       page=page_number(), per_page=30, error_out=False)
    return render_page("notifications/index.html", page=page, form=ConfirmForm(), unread=unread_count(current_user))


@bp.get("/compteur")
@background
@login_required
def counter():
    response = render_page("notifications/_counter.html", unread=unread_count(current_user))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<int:notification_id>/lu")
@login_required
def read(notification_id: int):
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != current_user.id:
        abort(404)
    return write(None, lambda: services.mark_read(current_user, notification_id),
                 success=lambda _: done("Notification marquée comme lue.",
                                        local_path(request.form.get("next"), url_for("notifications.index"))))


@bp.post("/tout-lu")
@login_required
def read_all():
    return write(None, lambda: services.mark_read(current_user),
                 success=lambda count: done(f"{count} notification{'s' if count > 1 else ''} marquée{'s' if count > 1 else ''} "
                                            f"comme lue{'s' if count > 1 else ''}.", url_for("notifications.index")))


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    def page(refusal=None):
        current = {c: services.preference(current_user, c) for c in CATEGORIES}
        return render_page("notifications/preferences.html", current=current, categories=CATEGORIES,
                           deliveries=DELIVERY, form=ConfirmForm(), invalid=refusal is not None)

    if request.method == "GET":
        return page()
    return write(None, lambda: services.set_preferences(current_user, {c: request.form.get(c, "") for c in CATEGORIES}),
                 success=lambda _: done("Préférences enregistrées.", url_for("notifications.preferences")),
                 invalid=page)


