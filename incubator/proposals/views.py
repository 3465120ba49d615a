from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_login import current_user

from ..admin.forms import ConfirmForm
from ..admin.queries import unit_choices
from ..errors import NotAllowed, ValidationFailed, refuse
from ..extensions import db
from ..immersions import policy as immersion_policy
from ..projects.queries import project_for_proposal
from ..review import policy as review_policy
from ..review import queries as review_queries
from ..security import login_required, roles_required
from ..timeutil import utcnow
from ..web import (
    apply_errors,
    done,
    get_in_institution_or_404,
    int_arg,
    is_htmx,
    page_number,
    redirect_see_other,
    render_page,
    write,
)
from . import lifecycle, policy, queries, services
from .forms import CommentForm, HideCommentForm, InitiativeForm, MobilityForm, ThemeForm
from .models import KIND_LABELS, OPEN_TO_LABELS, Comment, Proposal, Theme

bp = Blueprint("proposals", __name__)

FORM_CLASSES = {"initiative": InitiativeForm, "mobility": MobilityForm}
INTENT_MESSAGES = {
    "draft": "Brouillon enregistré. Vous pourrez le compléter puis le déposer.",
    "submit": "Proposition déposée : l'animation du collectif va vérifier sa recevabilité.",
    "resubmit": "Version révisée déposée : elle repart pour un examen par le collectif.",
}


def _visible_or_404(proposal_id: int, *, load=queries.load_proposal) -> Proposal:
    """The proposal if the current user may read it: same institution, and a draft only
    for its authors and invited co-authors. `load`: what to read with it (the page's
    people by default)."""
    proposal = load(proposal_id)
    if proposal is None or proposal.institution_id != current_user.institution_id:
        abort(404)
    if proposal.submitted_at is None and not (
        proposal.author_id == current_user.id
        or any(c.user_id == current_user.id and c.status != "declined" for c in proposal.coauthors)
    ):
        abort(404)
    return proposal


def _theme_choices(institution_id: int) -> list[tuple[str, str]]:
    return [("", "— Choisir un thème —")] + [(str(t.id), t.name) for t in queries.institution_themes(institution_id)
                                             if t.is_active]


def _form_for(kind: str, proposal: Proposal | None = None, *, prefill: bool | None = None):
    """The proposal's form: filled from the request, or from `proposal` when `prefill`
    (default: on GET)."""
    form_class = FORM_CLASSES[kind]
    if prefill is None:
        prefill = request.method == "GET"
    if proposal is not None and prefill:
        form = form_class(formdata=None, obj=proposal)
        form.coauthor_emails.data = ", ".join(
            c.user.login for c in proposal.coauthors if c.status != "declined")
        if proposal.kind == "mobility":
            form.contact_email.data = proposal.contact.email if proposal.contact else ""
    else:
        form = form_class()
    form.theme_id.choices = _theme_choices(current_user.institution_id)
    if kind == "mobility":
        form.host_org_unit_id.choices = unit_choices(current_user.institution_id, empty="— Choisir —")
        if proposal is None and request.method == "GET":
            form.host_org_unit_id.data = current_user.org_unit_id
            form.contact_email.data = current_user.email
    return form


def _form_data(form) -> dict:
    return {name: field.data for name, field in form._fields.items() if name != "csrf_token"}


def _render_form(form, kind: str, proposal: Proposal | None):
    similar = queries.similar_proposals(current_user.institution_id, form.title.data or "",
                                        exclude_id=proposal.id if proposal else None) if form.title.data else []
    # Its buttons: save, and the deposit (submit, or resubmit a revision) the table lets the
    # current user take from the form (the creator of a new proposal is its author).
    state, capacities = ((proposal.state, proposal.capacities(current_user)) if proposal
                         else (lifecycle.MACHINE.initial, {lifecycle.AUTHOR}))
    deposit = next((t for t in lifecycle.available(state, capacities) if t.action in ("submit", "resubmit")), None)
    return render_page("proposals/form.html", block="form", form=form, kind=kind,
                       kind_label=KIND_LABELS[kind], proposal=proposal, similar=similar, deposit=deposit,
                       revising=lifecycle.transition(state, "resubmit") is not None,
                       manages_coauthors=policy.can_manage_coauthors(current_user, proposal))


def _intent() -> str:
    intent = request.form.get("intent", "draft")
    return intent if intent in INTENT_MESSAGES else "draft"


def _new(kind: str):
    form = _form_for(kind)
    if request.method == "GET":
        return _render_form(form, kind, None)
    intent = _intent()

    def act() -> Proposal:
        proposal = services.create_proposal(current_user, kind=kind, data=_form_data(form),
                                            submitting=intent == "submit")
        if intent == "submit":
            services.submit_proposal(current_user, proposal)
        return proposal

    return write(form, act,
                 success=lambda proposal: done(INTENT_MESSAGES[intent],
                                               url_for("proposals.show", proposal_id=proposal.id)),
                 invalid=lambda _: _render_form(form, kind, None))


@bp.route("/propositions/nouvelle", methods=["GET", "POST"])
@login_required
def new_initiative():
    return _new("initiative")


@bp.route("/propositions/nouvelle-offre", methods=["GET", "POST"])
@login_required
def new_offer():
    return _new("mobility")


@bp.route("/propositions/<int:proposal_id>/modifier", methods=["GET", "POST"])
@login_required
def edit(proposal_id: int):
    proposal = _visible_or_404(proposal_id)
    if not lifecycle.allowed(proposal.state, "edit", proposal.capacities(current_user)):
        raise NotAllowed("Cette proposition ne peut pas être modifiée par vous à cette étape.")
    form = _form_for(proposal.kind, proposal)
    if request.method == "GET":
        return _render_form(form, proposal.kind, proposal)
    intent = _intent()

    def act() -> None:
        services.update_proposal(current_user, proposal, data=_form_data(form),
                                 submitting=intent in ("submit", "resubmit"))
        if intent == "submit":
            services.submit_proposal(current_user, proposal)
        elif intent == "resubmit":
            services.resubmit_proposal(current_user, proposal)

    message = INTENT_MESSAGES[intent] if intent != "draft" else "Modifications enregistrées."
    return write(form, act,
                 success=lambda _: done(message, url_for("proposals.show", proposal_id=proposal.id)),
                 invalid=lambda _: _render_form(form, proposal.kind, proposal))


def _submit_from_page(proposal_id: int, action: str):
    proposal = _visible_or_404(proposal_id)
    service = services.submit_proposal if action == "submit" else services.resubmit_proposal

    def incomplete(refusal: ValidationFailed):
        # The form, filled from the proposal as saved, with what is missing next to each field.
        saved = _visible_or_404(proposal_id)
        form = _form_for(saved.kind, saved, prefill=True)
        apply_errors(form, refusal)
        form.form_errors.append("Pour déposer, complétez d'abord les champs signalés.")
        return _render_form(form, saved.kind, saved)

    return write(None, lambda: service(current_user, proposal),
                 success=lambda _: done(INTENT_MESSAGES[action], url_for("proposals.show", proposal_id=proposal_id)),
                 invalid=incomplete)


@bp.post("/propositions/<int:proposal_id>/deposer")
@login_required
def submit(proposal_id: int):
    return _submit_from_page(proposal_id, "submit")


@bp.post("/propositions/<int:proposal_id>/redeposer")
@login_required
def resubmit(proposal_id: int):
    return _submit_from_page(proposal_id, "resubmit")


@bp.route("/propositions/<int:proposal_id>/retirer", methods=["GET", "POST"])
@login_required
def withdraw(proposal_id: int):
    proposal = _visible_or_404(proposal_id)
    form = ConfirmForm()
    if request.method == "POST":
        return write(None, lambda: services.withdraw_proposal(current_user, proposal),
                     success=lambda _: done("La proposition est retirée. Elle reste consultable.",
                                            url_for("proposals.show", proposal_id=proposal_id)))
    if not lifecycle.allowed(proposal.state, "withdraw", proposal.capacities(current_user)):
        raise NotAllowed("Vous ne pouvez pas retirer cette proposition.")
    return render_page("proposals/withdraw.html", proposal=proposal, form=form)


@bp.get("/propositions/<int:proposal_id>")
@login_required
def show(proposal_id: int):
    proposal = _visible_or_404(proposal_id)
    return _render_show(proposal, comments_before=int_arg("avant"))


def _render_show(proposal: Proposal, *, comment_form=None, block=None, comments_before: int | None = None):
    page = queries.proposal_page(proposal, current_user, comments_before=comments_before)
    decisions = review_queries.decisions_for(proposal) if proposal.submitted_at else []
    # Who takes the coordinator's actions (review.policy): the links this user is offered.
    coordinating = proposal.submitted_at is not None and proposal.state not in review_policy.NO_SUBSTITUTE_STATES
    refusal = review_policy.can_act_as_coordinator(current_user, proposal) if coordinating else "—"
    correctable = (decisions[-1].id if refusal is None and decisions
                   and review_policy.correction_refusal(decisions[-1]) is None else None)
    capacities = proposal.capacities(current_user)
    # While its authors revise it, others keep reading the text as last submitted.
    content = proposal
    if proposal.state == "changes_requested" and not proposal.is_author_side(current_user):
        content = queries.versions(proposal)[0] if proposal.version_number else proposal
    actions = [t for t in lifecycle.available(proposal.state, capacities)
               if t.action in ("submit", "withdraw", "edit", "resubmit")]
    return render_page(
        "proposals/show.html", block=block, page=page, proposal=proposal, content=content, actions=actions,
        support_refusal=services.can_support(current_user, proposal),
        comment_form=comment_form or CommentForm(),
        can_moderate=policy.can_hide_comment(current_user, proposal) is None,
        can_answer_invitation=policy.can_answer_invitation(current_user, proposal) is None,
        open_to_labels=OPEN_TO_LABELS, timeline_label=queries.timeline_sentence,
        decisions=decisions, correctable_id=correctable,
        can_examine=refusal is None and lifecycle.transition(proposal.state, "open_review") is not None,
        coordination=review_policy.coordination_of(proposal) if coordinating else None,
        can_designate=coordinating and review_policy.can_designate_substitute(current_user, proposal) is None,
        scores=review_queries.published_scores(proposal),
        project_and_retro=project_for_proposal(proposal) if proposal.state == "accepted" else (None, None),
        # A recused member (author, co-author, declared conflict) is not invited to assess.
        can_assess=review_policy.can_assess(current_user, proposal) is None,
        offer=_published_offer(proposal), now=utcnow(),
    )


def _published_offer(proposal: Proposal) -> dict | None:
    """For a published mobility offer open to the reader: whether it is full (« Complète »,
    out of the open offers: immersions.policy)."""
    if not immersion_policy.is_open_to(current_user, proposal):
        return None
    return {"full": immersion_policy.is_full(proposal)}


@bp.get("/propositions/<int:proposal_id>/versions")
@login_required
def versions(proposal_id: int):
    proposal = _visible_or_404(proposal_id)
    return render_page("proposals/versions.html", proposal=proposal,
                       versions=queries.versions(proposal))


@bp.post("/propositions/<int:proposal_id>/soutien")
@login_required
def support(proposal_id: int):
    proposal = _visible_or_404(proposal_id, load=queries.load_proposal_and_coauthors)

    def supported(has_supported: bool):
        if is_htmx():
            return render_page("proposals/_support.html", proposal=proposal, has_supported=has_supported,
                               support_refusal=services.can_support(current_user, proposal))
        flash("Merci pour votre soutien." if has_supported else "Votre soutien est retiré.", "success")
        return redirect_see_other(url_for("proposals.show", proposal_id=proposal.id) + "#soutiens")

    return write(None, lambda: services.toggle_support(current_user, proposal), success=supported)


@bp.post("/propositions/<int:proposal_id>/commentaires")
@login_required
def comment(proposal_id: int):
    proposal = _visible_or_404(proposal_id, load=queries.load_proposal_alone)
    form = CommentForm()

    def published(_):
        if is_htmx():
            return _render_comments(proposal, CommentForm(formdata=None))
        return done("Commentaire publié.", url_for("proposals.show", proposal_id=proposal.id) + "#commentaires")

    return write(form, lambda: services.add_comment(current_user, proposal, body=form.body.data),
                 success=published, keep_loaded=True,
                 invalid=lambda _: _render_comments(proposal, form) if is_htmx() else
                 _render_show(queries.load_proposal(proposal_id), comment_form=form))


def _render_comments(proposal: Proposal, comment_form: CommentForm):
    """The comments block alone, the htmx answer to a comment: what it shows, not the
    rest of the page's reads."""
    return render_page("proposals/show.html", block="comments", proposal=proposal,
                       page={"comments": queries.comments(proposal)}, comment_form=comment_form,
                       can_moderate=policy.can_hide_comment(current_user, proposal) is None)


@bp.route("/propositions/<int:proposal_id>/commentaires/<int:comment_id>/masquer",
          methods=["GET", "POST"])
@login_required
def hide_comment(proposal_id: int, comment_id: int):
    proposal = _visible_or_404(proposal_id)
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.proposal_id != proposal.id:
        abort(404)
    refuse(policy.can_hide_comment(current_user, proposal))
    form = HideCommentForm()

    def page(_=None):
        return render_page("proposals/hide_comment.html", proposal=proposal, comment=comment, form=form)

    if request.method == "GET":
        return page()
    return write(form, lambda: services.hide_comment(current_user, comment, proposal, reason=form.reason.data),
                 success=lambda _: done("Le commentaire est masqué ; la raison est affichée à sa place.",
                                        url_for("proposals.show", proposal_id=proposal.id) + "#commentaires"),
                 invalid=page)


@bp.post("/propositions/<int:proposal_id>/invitation")
@login_required
def answer_invitation(proposal_id: int):
    proposal = _visible_or_404(proposal_id)
    if not any(c.user_id == current_user.id for c in proposal.coauthors):
        raise NotAllowed("Vous n'êtes pas invité·e à co-signer cette proposition.")
    answer = request.form.get("answer")
    if answer not in ("accept", "decline"):
        abort(400)
    accept = answer == "accept"
    message = ("Vous êtes désormais co-auteur ou co-autrice de cette proposition." if accept
               else "Invitation déclinée.")
    return write(None, lambda: services.respond_to_invitation(current_user, proposal, accept=accept),
                 success=lambda _: done(message, url_for("proposals.show", proposal_id=proposal_id)))


@bp.get("/propositions/similaires")
@login_required
def similar():
    exclude = int_arg("exclude")
    found = queries.similar_proposals(current_user.institution_id, request.args.get("title", "")[:200],
                                      exclude_id=exclude)
    return render_page("proposals/_similar.html", similar=found)


@bp.get("/propositions")
@login_required
def board():
    filters = queries.BoardFilters.from_args(request.args)
    page = queries.board_page(current_user.institution_id, filters, page=page_number(), per_page=20,
                              cap=current_app.config["SEARCH_COUNT_CAP"] if filters.q else None)
    themes, units = queries.board_choices(current_user.institution_id)
    return render_page("proposals/board.html", block="results", page=page, filters=filters,
                       themes=themes, units=units, states=queries.BOARD_STATES,
                       sorts=queries.SORTS, kinds=KIND_LABELS, now=utcnow())


@bp.get("/mes-propositions")
@login_required
def mine():
    proposals, invitations = queries.my_proposals(current_user)
    return render_page("proposals/mine.html", proposals=proposals, invitations=invitations,
                       invitation_refusals={p.id: policy.invitation_refusal(c, p) for c, p in invitations},
                       now=utcnow())


# --------------------------------------------------------------------------- themes (admin)


@bp.route("/admin/themes", methods=["GET", "POST"])
@roles_required("admin")
def themes():
    form = ThemeForm()

    def page(_=None):
        return render_page("proposals/themes.html", form=form,
                           themes=queries.institution_themes(current_user.institution_id))

    if request.method == "GET":
        return page()
    return write(form, lambda: services.create_theme(current_user, name=form.name.data),
                 success=lambda _: done("Thème ajouté.", url_for("proposals.themes")), invalid=page)


@bp.post("/admin/themes/<int:theme_id>/basculer")
@roles_required("admin")
def toggle_theme(theme_id: int):
    theme = get_in_institution_or_404(Theme, theme_id)
    return write(None, lambda: services.toggle_theme(current_user, theme),
                 success=lambda _: done(f"Thème « {theme.name} » {'réactivé' if theme.is_active else 'désactivé'}.",
                                        url_for("proposals.themes")))

