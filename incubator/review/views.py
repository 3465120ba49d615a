from __future__ import annotations

from flask import Response, request, url_for
from flask_login import current_user

from ..admin.forms import ConfirmForm
from ..errors import InvalidTransition, NotAllowed
from ..exports import csv_response
from ..extensions import db
from ..pagination import paginate_capped
from ..proposals.models import Proposal
from ..security import login_required
from ..timeutil import format_datetime, parse_day, utcnow
from ..web import (
    done,
    get_in_institution_or_404,
    page_number,
    render_page,
    write,
)
from . import assessments, coordination, decisions, forms, policy, queries
from . import eligibility as eligibility_service
from . import settings as review_settings
from .blueprint import (
    bp,
    common_context,
    proposal_or_404,
    require_coordinator_page,
    require_member_page,
)
from .models import (
    DECISION_RULES,
    DUPLICATE_REASON,
    OUTCOME_LABELS,
    SCORE_LABELS,
    Assessment,
    Criterion,
    Decision,
)

# --------------------------------------------------------------------------- public


@bp.get("")
@login_required
def how():
    return render_page("review/how.html", **queries.how_we_decide(current_user.institution_id),
                       rules=DECISION_RULES, score_labels=SCORE_LABELS, **common_context())


def _journal_filters() -> queries.JournalFilters:
    args = request.args
    return queries.JournalFilters(
        q=(args.get("q") or "").strip()[:100],
        outcome=args.get("issue") if args.get("issue") in OUTCOME_LABELS else "",
        kind=args.get("nature") if args.get("nature") in ("eligibility", "session", "correction") else "",
        since=parse_day(args.get("du")), until=parse_day(args.get("au")),
    )


@bp.get("/journal")
@login_required
def journal():
    filters = _journal_filters()
    if request.args.get("format") == "csv":
        return _journal_csv(*queries.journal_query(current_user.institution_id, filters, rows=True))
    query, params = queries.journal_query(current_user.institution_id, filters)
    page = paginate_capped(query, page=page_number(), per_page=25, params=params, key=Decision.id,
                           load=queries.journal_entries)
    return render_page("review/journal.html", block="results", page=page, filters=filters,
                       outcomes=OUTCOME_LABELS, **common_context())


JOURNAL_COLUMNS = ["date", "proposition", "titre", "nature", "issue", "motif", "séance", "pour", "contre",
                   "abstention", "objections", "présents", "motivation"]
KIND_LABELS = {"eligibility": "recevabilité", "session": "séance", "correction": "correction"}


def _journal_rows(query, params):
    for row in db.session.execute(query.execution_options(yield_per=500), params):
        decision = queries.JournalEntry(*row)
        counts = (decision.tally or {}).get("counts", {})
        yield [format_datetime(decision.published_at), decision.proposal_id, decision.proposal_title,
               KIND_LABELS[decision.kind], decision.outcome_label, decision.reason,
               format_datetime(decision.session_starts_at) if decision.session_starts_at else "",
               counts.get("for", ""), counts.get("against", ""), counts.get("abstain", ""),
               counts.get("objection", ""), (decision.tally or {}).get("present", ""), decision.rationale]


def _journal_csv(query, params) -> Response:
    return csv_response("journal-des-arbitrages.csv", JOURNAL_COLUMNS, _journal_rows(query, params))


# --------------------------------------------------------------------------- settings


@bp.route("/reglages", methods=["GET", "POST"])
@login_required
def settings():
    require_coordinator_page()
    current = review_settings.settings_for(current_user.institution_id)
    form = forms.SettingsForm(data={
        "decision_rule": current.decision_rule, "quorum_percent": current.quorum_percent,
        "votes_public": current.votes_public, "target_days": current.target_days,
        "ineligibility_reasons": "\n".join(current.ineligibility_reasons),
    } if request.method == "GET" else None)

    def page(_=None):
        criteria = db.session.scalars(db.select(Criterion).where(
            Criterion.institution_id == current_user.institution_id).order_by(Criterion.position)).all()
        return render_page("review/settings.html", form=form, criteria=criteria, **common_context())

    if request.method == "GET":
        return page()
    return write(form, lambda: review_settings.save_settings(
        current_user, decision_rule=form.decision_rule.data, quorum_percent=form.quorum_percent.data,
        votes_public=form.votes_public.data, target_days=form.target_days.data,
        ineligibility_reasons=form.ineligibility_reasons.data or ""),
        success=lambda _: done("Règles enregistrées et publiées sur « Comment nous décidons ».",
                               url_for("review.settings")),
        invalid=page)


@bp.route("/criteres/nouveau", methods=["GET", "POST"])
@bp.route("/criteres/<int:criterion_id>", methods=["GET", "POST"])
@login_required
def criterion(criterion_id: int | None = None):
    require_coordinator_page()
    existing = get_in_institution_or_404(Criterion, criterion_id) if criterion_id else None
    form = forms.CriterionForm(obj=existing) if request.method == "GET" else forms.CriterionForm()

    def page(_=None):
        return render_page("review/criterion.html", form=form, criterion=existing, **common_context())

    if request.method == "GET":
        return page()
    return write(form, lambda: review_settings.save_criterion(
        current_user, existing, name=form.name.data, description=form.description.data,
        weight=form.weight.data, is_active=form.is_active.data),
        success=lambda _: done("Critère enregistré.", url_for("review.settings")), invalid=page)


# --------------------------------------------------------------------------- eligibility


@bp.get("/recevabilite")
@login_required
def eligibility_queue():
    require_coordinator_page()
    proposals = queries.eligibility_queue(current_user.institution_id)
    refusals = policy.coordinator_refusals(current_user, proposals)
    return render_page("review/eligibility_queue.html", proposals=proposals, refusals=refusals,
                       actionable=sum(1 for r in refusals.values() if r is None), now=utcnow(), **common_context())


def _eligibility_page(proposal, open_form=None, ineligible_form=None):
    reasons = review_settings.settings_for(proposal.institution_id).ineligibility_reasons
    ineligible_form = ineligible_form or forms.IneligibleForm(prefix="ne")
    ineligible_form.reason.choices = [("", "— Choisir un motif —")] + [(r, r) for r in reasons]
    return render_page("review/eligibility.html", proposal=proposal,
                       open_form=open_form or forms.OpenReviewForm(prefix="ok"),
                       ineligible_form=ineligible_form, duplicate_reason=DUPLICATE_REASON, **common_context())


def _coordinated_proposal_or_404(proposal_id: int) -> Proposal:
    """A proposal of the institution on which the current user takes the coordinator's
    actions (a coordinator not recused on it, or its substitute); else 404 or 403."""
    proposal = proposal_or_404(proposal_id)
    coordination.require_coordinator_on(current_user, proposal)
    return proposal


@bp.get("/recevabilite/<int:proposal_id>")
@login_required
def eligibility(proposal_id: int):
    return _eligibility_page(_coordinated_proposal_or_404(proposal_id))


@bp.post("/recevabilite/<int:proposal_id>/ouvrir")
@login_required
def open_review(proposal_id: int):
    proposal = _coordinated_proposal_or_404(proposal_id)
    form = forms.OpenReviewForm(prefix="ok")
    return write(form, lambda: eligibility_service.open_review(current_user, proposal, rationale=form.rationale.data or ""),
                 success=lambda _: done("Instruction ouverte : la proposition est à évaluer par le collectif.",
                                        url_for("review.eligibility_queue")),
                 invalid=lambda _: _eligibility_page(proposal, open_form=form))


@bp.post("/recevabilite/<int:proposal_id>/non-recevable")
@login_required
def declare_ineligible(proposal_id: int):
    proposal = _coordinated_proposal_or_404(proposal_id)
    form = forms.IneligibleForm(prefix="ne")
    return write(form, lambda: eligibility_service.declare_ineligible(
        current_user, proposal, reason=form.reason.data, rationale=form.rationale.data or "",
        duplicate_of_id=form.duplicate_of_id.data),
        success=lambda _: done("Décision de non-recevabilité publiée.", url_for("review.eligibility_queue")),
        invalid=lambda _: _eligibility_page(proposal_or_404(proposal_id), ineligible_form=form))


# --------------------------------------------------------------------------- assessments


@bp.get("/a-evaluer")
@login_required
def queue():
    require_member_page()
    to_assess, assessed, recused = queries.assessment_queue(current_user)
    return render_page("review/queue.html", to_assess=to_assess, assessed=assessed,
                       recused=recused, now=utcnow(), **common_context())


def _assess_page(proposal, *, errors=None, values=None, comment=None):
    criteria = review_settings.active_criteria(proposal.institution_id)
    mine = db.session.scalar(db.select(Assessment).where(
        Assessment.proposal_id == proposal.id, Assessment.user_id == current_user.id))
    if values is None:
        values = {s.criterion_id: s.score for s in mine.scores} if mine else {}
        comment = mine.comment if mine else ""
    return render_page("review/assess.html", proposal=proposal, criteria=criteria, values=values,
                       comment=comment, errors=errors or {}, mine=mine, score_labels=SCORE_LABELS,
                       recusal=policy.recusal_reason(current_user, proposal),
                       assess_refusal=policy.can_assess(current_user, proposal),
                       conflict_refusal=policy.can_declare_conflict(current_user, proposal),
                       conflicts=queries.conflicts_for(proposal), form=ConfirmForm(),
                       conflict_form=forms.ConflictForm(), **common_context())


@bp.route("/evaluer/<int:proposal_id>", methods=["GET", "POST"])
@login_required
def assess(proposal_id: int):
    require_member_page()
    proposal = proposal_or_404(proposal_id)
    if request.method == "GET":
        return _assess_page(proposal)
    scores = {c.id: request.form.get(f"criterion_{c.id}") for c in review_settings.active_criteria(proposal.institution_id)}
    comment = request.form.get("comment", "")
    return write(None, lambda: assessments.save_assessment(current_user, proposal, scores=scores, comment=comment),
                 success=lambda _: done("Évaluation enregistrée. Vous pouvez la réviser jusqu'à la décision.",
                                        url_for("review.queue")),
                 invalid=lambda refusal: _assess_page(proposal, errors=refusal.errors, values=scores,
                                                      comment=comment))


@bp.post("/conflit/<int:proposal_id>")
@login_required
def declare_conflict(proposal_id: int):
    proposal = proposal_or_404(proposal_id)
    form = forms.ConflictForm()

    def refused(_):
        # The assessment page shows the conflict form's messages together, under its one field.
        messages = [m for field in form for m in field.errors] + list(form.form_errors)
        return _assess_page(proposal, errors={"conflict": messages})

    return write(form, lambda: assessments.declare_conflict(current_user, proposal, reason=form.reason.data or ""),
                 success=lambda _: done("Conflit d'intérêts déclaré : vous êtes récusé·e sur cette proposition.",
                                        url_for("review.queue")),
                 invalid=refused)


@bp.get("/delais")
@login_required
def waiting():
    require_member_page()
    by_state, target = queries.waiting_times(current_user.institution_id)
    return render_page("review/waiting.html", by_state=by_state, target=target, **common_context())


# --------------------------------------------------------------------------- sessions


@bp.route("/decisions/<int:decision_id>/corriger", methods=["GET", "POST"])
@login_required
def correct(decision_id: int):
    decision = get_in_institution_or_404(Decision, decision_id)
    coordination.require_coordinator_on(current_user, decision.proposal)
    if request.method == "GET" and (refusal := policy.correction_refusal(decision)):
        raise InvalidTransition(refusal)
    form = forms.CorrectionForm()

    def page(_=None):
        return render_page("review/correct.html", decision=decision, form=form, **common_context())

    if request.method == "GET":
        return page()
    return write(form, lambda: decisions.correct_decision(current_user, decision, rationale=form.rationale.data or ""),
                 success=lambda _: done("Correction publiée, liée à la décision d'origine : la proposition "
                                        "retourne en instruction.",
                                        url_for("proposals.show", proposal_id=decision.proposal_id)),
                 invalid=page)


@bp.route("/propositions/<int:proposal_id>/suppleance", methods=["GET", "POST"])
@login_required
def designate_substitute(proposal_id: int):
    """An administrator designates who takes the coordinator's actions on this proposal."""
    proposal = proposal_or_404(proposal_id)
    refusal = policy.can_designate_substitute(current_user, proposal)
    if refusal:
        raise NotAllowed(refusal)
    form = forms.SubstituteForm()

    def page(_=None):
        return render_page("review/substitute.html", proposal=proposal, form=form,
                           coordination=policy.coordination_of(proposal),
                           substitute=policy.substitute_for(proposal), **common_context())

    if request.method == "GET":
        return page()
    return write(form, lambda: coordination.designate_substitute(current_user, proposal, email=form.email.data or ""),
                 success=lambda _: done("Suppléant·e désigné·e : la désignation figure dans l'historique public "
                                        "de la proposition.", url_for("proposals.show", proposal_id=proposal_id)),
                 invalid=page)

