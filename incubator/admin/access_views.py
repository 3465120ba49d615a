"""The administration's part in giving agents access to their account: the invitation by
email (one agent, or the agents of an import), the printed activation sheet of an agent
without an address. Their state shows on the agent list and page (accounts.queries)."""

from __future__ import annotations

from flask import request, url_for
from flask_login import current_user

from ..accounts import recovery
from ..accounts.tokens import lifetimes
from ..dbutil import MAX_ID
from ..notifications.services import absolute_url
from ..people.models import User
from ..web import done, get_in_institution_or_404, render_page, write
from . import forms
from .views import _institution_id, _user_page, admin_only, bp


@bp.post("/agents/<int:user_id>/invitation")
@admin_only
def user_invite(user_id: int):
    user = get_in_institution_or_404(User, user_id)
    form = forms.ConfirmForm(prefix="access")
    return write(form, lambda: recovery.invite(current_user, user),
                 success=lambda _: done(f"L'invitation a été envoyée à {user.email} ; elle est valable "
                                        f"{lifetimes()['invitation_days']} jours. Un lien envoyé auparavant "
                                        "ne fonctionne plus.",
                                        url_for("admin.user", user_id=user_id)),
                 invalid=lambda _: _user_page(user))


@bp.post("/agents/<int:user_id>/fiche-activation")
@admin_only
def user_activation_sheet(user_id: int):
    """The sheet is the answer to the POST that draws its code: the code is shown this once
    (only its hash is kept); printing a new sheet ends the previous code. Like every page of
    a signed-in person, it is never cached (security.security_headers: no-store)."""
    user = get_in_institution_or_404(User, user_id)
    form = forms.ConfirmForm(prefix="access")
    return write(form, lambda: recovery.issue_activation_sheet(current_user, user),
                 success=lambda sheet: render_page(
                     "admin/activation_sheet.html", sheet=sheet,
                     activation_url=absolute_url(url_for("accounts.activate_with_code")),
                     login_url=absolute_url(url_for("accounts.login"))),
                 invalid=lambda _: _user_page(user))


@bp.post("/import/invitations")
@admin_only
def import_invite():
    """Invite the agents of an import who have no password yet (their ids come back from
    the import's report; the service keeps those of the institution it may invite)."""
    form = forms.ConfirmForm()
    ids = [int(v) for v in request.form.getlist("agent")[:5000] if v.isdigit() and 0 < int(v) <= MAX_ID]

    def sent(report: recovery.InvitationReport):
        message = f"{report.invited} invitation{'s' if report.invited > 1 else ''} envoyée{'s' if report.invited > 1 else ''}."
        if report.skipped:
            message += (f" {report.skipped} agent{'s' if report.skipped > 1 else ''} n'en "
                        f"{'ont' if report.skipped > 1 else 'a'} pas reçu : sans adresse électronique "
                        "(imprimez leur fiche d'activation depuis leur fiche), déjà activé ou désactivé.")
        return done(message, url_for("admin.users", activation="invited"))

    return write(form, lambda: recovery.invite_agents(current_user, institution_id=_institution_id(), user_ids=ids),
                 success=sent)
