"""/admin/parametres: the institution's settings, edited by its administration."""

from __future__ import annotations

from flask import Blueprint, request, url_for
from flask_login import current_user

from ..review.policy import coordination_pages_refusal
from ..security import roles_required
from ..web import done, render_page, write
from . import services
from .forms import SettingsForm

bp = Blueprint("settings", __name__, url_prefix="/admin/parametres")


def _form_data(current: services.Settings) -> dict:
    return {"monthly_cap_percent": str(current.monthly_cap_percent),
            "day_length": services.hours_text(current.daily_minutes_full_time),
            "limits_mode": current.limits_mode, "internal_min_days": str(current.internal_min_days),
            "internal_max_days": str(current.internal_max_days),
            "managers_see_engagement": current.managers_see_engagement}


def _saved(changes: list[dict]):
    if not changes:
        return done("Aucun changement : les paramètres enregistrés sont ceux que vous avez envoyés.",
                    url_for("settings.edit"))
    listed = " ; ".join(change["text"] for change in changes)
    return done(f"Paramètres enregistrés et inscrits au journal d'audit. {listed}.", url_for("settings.edit"))


@bp.route("", methods=["GET", "POST"])
@roles_required("admin")
def edit():
    institution_id = current_user.institution_id
    form = SettingsForm(data=_form_data(services.current_settings(institution_id))
                        if request.method == "GET" else None)

    def page(_=None):
        return render_page("settings/edit.html", form=form, block="form",
                           can_open_review_settings=coordination_pages_refusal(current_user) is None)

    if request.method == "GET":
        return page()
    return write(form, lambda: services.save_settings(
        current_user, institution_id, monthly_cap_percent=form.monthly_cap_percent.data,
        day_length=form.day_length.data, limits_mode=form.limits_mode.data,
        internal_min_days=form.internal_min_days.data, internal_max_days=form.internal_max_days.data,
        managers_see_engagement=form.managers_see_engagement.data),
        success=_saved, invalid=page)
