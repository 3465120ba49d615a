"""Pages of the immersions: published offers and one's applications, applying, the N+1's
consent, the host's selection, and the agreement between the two employers."""

from __future__ import annotations

from flask import Blueprint, abort, request, url_for
from flask_login import current_user

from ..admin.forms import ConfirmForm
from ..errors import NotAllowed, refuse
from ..extensions import db
from ..projects.queries import load_project
from ..proposals.models import Proposal
from ..security import login_required
from ..timeutil import today_paris, utcnow
from ..web import done, render_page, write
from . import forms, lifecycle, policy, queries, services
from .lifecycle import APPLICATIONS
from .models import Application

bp = Blueprint("immersions", __name__)


@bp.get("/projets/<int:project_id>/convention")
@login_required
def convention(project_id: int):
    """Read by the two institutions (see policy.can_read_convention): not behind
    _project_or_404, which hides a project from the visitor's institution."""
    project = load_project(project_id)
    application = policy.convention_application(project) if project is not None else None
    if application is None:
        abort(404)
    if not policy.can_read_convention(current_user, project, application):
        if current_user.institution_id not in (project.institution_id, application.applicant.institution_id):
            abort(404)  # a third institution does not learn that the immersion exists
        raise NotAllowed(policy.CONVENTION_REFUSED)
    return render_page("immersions/convention.html", project=project, application=application,
                       visitor_institution=application.applicant.institution,
                       host_institution=application.offer.institution, today=today_paris())


@bp.get("/immersions")
@login_required
def index():
    return _index_page()


def _index_page(consent_form=None, consenting_id: int | None = None):
    """The immersions page; `consent_form` and `consenting_id`: a refused answer, its
    messages shown on that application."""
    mine, to_consent, to_select = queries.applications_overview(current_user)
    offers = queries.published_offers(current_user)
    taken = policy.taken_places(o.id for o in offers)
    return render_page("immersions/index.html", offers=offers,
                       may_apply={o.id for o in offers
                                  if policy.can_apply(current_user, o, taken=taken.get(o.id, 0)) is None},
                       mine=mine, to_consent=to_consent, to_select=to_select,
                       host_actions={a.id: APPLICATIONS.available(a.status, {lifecycle.HOST}) for a in to_select},
                       applied={a.offer_id for a in mine}, csrf_form=ConfirmForm(),
                       consent_form=consent_form or forms.ConsentForm(), consenting_id=consenting_id, now=utcnow())


def _offer_or_404(offer_id: int) -> Proposal:
    offer = db.session.get(Proposal, offer_id)
    if offer is None or not services.can_apply_to(current_user, offer):
        abort(404)
    return offer


@bp.route("/immersions/<int:offer_id>/candidater", methods=["GET", "POST"])
@login_required
def apply(offer_id: int):
    offer = _offer_or_404(offer_id)
    refuse(policy.can_apply(current_user, offer))
    form = forms.ApplicationForm()

    def page(_=None):
        return render_page("immersions/apply.html", offer=offer, form=form)

    if request.method == "GET":
        form.starts_on.data = offer.window_starts_on
        return page()
    return write(form, lambda: services.apply(current_user, offer, motivation=form.motivation.data or "",
                                              starts_on=form.starts_on.data, ends_on=form.ends_on.data),
                 success=lambda _: done("Candidature envoyée : votre N+1 doit maintenant donner son accord.",
                                        url_for("immersions.index")),
                 invalid=page)


def _application_or_404(application_id: int) -> Application:
    application = db.session.get(Application, application_id)
    if application is None or current_user.id not in (
            application.manager_id, application.applicant_id, *policy.host_ids(application.offer)):
        abort(404)
    return application


@bp.post("/immersions/candidatures/<int:application_id>/avis")
@login_required
def consent(application_id: int):
    application = _application_or_404(application_id)
    if current_user.id != application.manager_id:
        raise NotAllowed("Seul le N+1 de l'agent donne son accord au départ en immersion.")
    form = forms.ConsentForm()
    answer = request.form.get("answer")
    if answer not in ("consent", "refuse"):
        abort(400)
    return write(form, lambda: services.manager_decide(current_user, application, consent=answer == "consent",
                                                       reason=form.reason.data or ""),
                 success=lambda _: done("Avis enregistré ; l'agent en est informé.", url_for("immersions.index")),
                 invalid=lambda _: _index_page(consent_form=form, consenting_id=application_id))


@bp.post("/immersions/candidatures/<int:application_id>/selection")
@login_required
def select(application_id: int):
    application = _application_or_404(application_id)
    if current_user.id not in policy.host_ids(application.offer):
        raise NotAllowed("Seul le service d'accueil choisit parmi les candidatures.")
    answer = request.form.get("answer")
    if answer not in ("select", "decline"):
        abort(400)

    def answered(project):
        if project is not None:
            return done("Candidature retenue : l'immersion est programmée.",
                        url_for("projects.show", project_id=project.id))
        return done("Candidature non retenue.", url_for("immersions.index"))

    return write(None, lambda: services.select_applicant(current_user, application, selected=answer == "select"),
                 success=answered)
