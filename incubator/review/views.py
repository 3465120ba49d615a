from __future__ import annotations

from flask import Blueprint, Response, abort, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload

from ..admin.forms import ConfirmForm
from ..collective import services as collective_services
from ..errors import InvalidTransition, NotAllowed, ValidationFailed
from ..exports import csv_response
from ..extensions import db
from ..pagination import paginate_capped
from ..proposals.lifecycle import COORDINATOR
from ..proposals.models import Proposal
from ..proposals.queries import load_proposal
from ..security import login_required
from ..text import int_in_range
from ..timeutil import format_datetime, parse_day, utcnow
from ..web import (
    MAX_ID,
    done,
    get_in_institution_or_404,
    is_htmx,
    page_number,
    render_page,
    write,
)
from . import assessments, coordination, decisions, forms, policy, queries, voting
from . import eligibility as eligibility_service
from . import settings as review_settings
from .lifecycle import ITEMS
from .models import (
    CHOICES,
    DECISION_RULES,
    DUPLICATE_REASON,
    ITEM_STATUSES,
    OUTCOME_LABELS,
    SCORE_LABELS,
    AgendaItem,
    Assessment,
    Criterion,
    Decision,
    ReviewSession,
)

bp = Blueprint("review", __name__, url_prefix="/arbitrage")


def _require_coordinator() -> None:
    if refusal := policy.coordination_pages_refusal(current_user):
        raise NotAllowed(refusal)


def _require_member_or_coordinator() -> None:
    if refusal := policy.member_pages_refusal(current_user):
        raise NotAllowed(refusal)


def _proposal_or_404(proposal_id: int) -> Proposal:
    proposal = load_proposal(proposal_id)
    if proposal is None or proposal.institution_id != current_user.institution_id or proposal.submitted_at is None:
        abort(404)
    return proposal


def _common() -> dict:
    """What every arbitration page's navigation asks: the same predicates as the pages' guards."""
    return {"is_member": collective_services.is_member(current_user),  # in office today: wording only
            "opens_member_pages": policy.member_pages_refusal(current_user) is None,
            "opens_coordination_pages": policy.coordination_pages_refusal(current_user) is None}


# --------------------------------------------------------------------------- public


@bp.get("")
@login_required
def how():
    return render_page("review/how.html", **queries.how_we_decide(current_user.institution_id),
                       rules=DECISION_RULES, score_labels=SCORE_LABELS, **_common())


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
    query = queries.journal_query(current_user.institution_id, filters)
    if request.args.get("format") == "csv":
        return _journal_csv(query)
    page = paginate_capped(query, page=page_number(), per_page=25)
    return render_page("review/journal.html", block="results", page=page, filters=filters,
                       outcomes=OUTCOME_LABELS, **_common())


JOURNAL_COLUMNS = ["date", "proposition", "titre", "nature", "issue", "motif", "séance", "pour", "contre",
                   "abstention", "objections", "présents", "motivation"]
KIND_LABELS = {"eligibility": "recevabilité", "session": "séance", "correction": "correction"}


def _journal_rows(query):
    for decision in db.session.scalars(query.execution_options(yield_per=500)):
        counts = (decision.tally or {}).get("counts", {})
        yield [format_datetime(decision.published_at), decision.proposal_id, decision.proposal.title,
               KIND_LABELS[decision.kind], decision.outcome_label, decision.reason,
               format_datetime(decision.session.starts_at) if decision.session else "",
               counts.get("for", ""), counts.get("against", ""), counts.get("abstain", ""),
               counts.get("objection", ""), (decision.tally or {}).get("present", ""), decision.rationale]


def _journal_csv(query) -> Response:
    return csv_response("journal-des-arbitrages.csv", JOURNAL_COLUMNS, _journal_rows(query))


# --------------------------------------------------------------------------- settings


@bp.route("/reglages", methods=["GET", "POST"])
@login_required
def settings():
    _require_coordinator()
    current = review_settings.settings_for(current_user.institution_id)
    form = forms.SettingsForm(data={
        "decision_rule": current.decision_rule, "quorum_percent": current.quorum_percent,
        "votes_public": current.votes_public, "target_days": current.target_days,
        "ineligibility_reasons": "\n".join(current.ineligibility_reasons),
    } if request.method == "GET" else None)

    def page(_=None):
        criteria = db.session.scalars(db.select(Criterion).where(
            Criterion.institution_id == current_user.institution_id).order_by(Criterion.position)).all()
        return render_page("review/settings.html", form=form, criteria=criteria, **_common())

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
    _require_coordinator()
    existing = get_in_institution_or_404(Criterion, criterion_id) if criterion_id else None
    form = forms.CriterionForm(obj=existing) if request.method == "GET" else forms.CriterionForm()

    def page(_=None):
        return render_page("review/criterion.html", form=form, criterion=existing, **_common())

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
    _require_coordinator()
    proposals = queries.eligibility_queue(current_user.institution_id)
    return render_page("review/eligibility_queue.html", proposals=proposals,
                       refusals=policy.coordinator_refusals(current_user, proposals),
                       now=utcnow(), **_common())


def _eligibility_page(proposal, open_form=None, ineligible_form=None):
    reasons = review_settings.settings_for(proposal.institution_id).ineligibility_reasons
    ineligible_form = ineligible_form or forms.IneligibleForm(prefix="ne")
    ineligible_form.reason.choices = [("", "— Choisir un motif —")] + [(r, r) for r in reasons]
    return render_page("review/eligibility.html", proposal=proposal,
                       open_form=open_form or forms.OpenReviewForm(prefix="ok"),
                       ineligible_form=ineligible_form, duplicate_reason=DUPLICATE_REASON, **_common())


def _coordinated_proposal_or_404(proposal_id: int) -> Proposal:
    """A proposal of the institution on which the current user takes the coordinator's
    actions (a coordinator not recused on it, or its substitute); else 404 or 403."""
    proposal = _proposal_or_404(proposal_id)
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
        invalid=lambda _: _eligibility_page(_proposal_or_404(proposal_id), ineligible_form=form))


# --------------------------------------------------------------------------- assessments


@bp.get("/a-evaluer")
@login_required
def queue():
    _require_member_or_coordinator()
    to_assess, assessed, recused = queries.assessment_queue(current_user)
    return render_page("review/queue.html", to_assess=to_assess, assessed=assessed,
                       recused=recused, now=utcnow(), **_common())


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
                       conflict_form=forms.ConflictForm(), **_common())


@bp.route("/evaluer/<int:proposal_id>", methods=["GET", "POST"])
@login_required
def assess(proposal_id: int):
    _require_member_or_coordinator()
    proposal = _proposal_or_404(proposal_id)
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
    proposal = _proposal_or_404(proposal_id)
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
    _require_member_or_coordinator()
    by_state, target = queries.waiting_times(current_user.institution_id)
    return render_page("review/waiting.html", by_state=by_state, target=target, **_common())


# --------------------------------------------------------------------------- sessions


@bp.route("/seances", methods=["GET", "POST"])
@login_required
def sessions():
    form = forms.SessionForm()

    def page(_=None):
        upcoming = queries.upcoming_sessions(current_user.institution_id)
        past = db.paginate(queries.past_sessions_query(current_user.institution_id), page=page_number(),
                           per_page=20, error_out=False)
        return render_page("review/sessions.html", upcoming=upcoming, past=past, form=form,
                           item_counts=queries.item_counts(upcoming + list(past.items)), **_common())

    if request.method == "GET":
        return page()
    _require_coordinator()
    return write(form, lambda: voting.create_session(
        current_user, starts_on=form.starts_on.data, starts_time=form.starts_time.data,
        place=form.place.data or "", video_link=form.video_link.data or ""),
        success=lambda created: done("Séance créée : inscrivez maintenant les propositions à son ordre du jour.",
                                     url_for("review.session", session_id=created.id)),
        invalid=page)


def _session_or_404(session_id: int) -> ReviewSession:
    return get_in_institution_or_404(ReviewSession, session_id)


def _item_or_404(item_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id, options=[joinedload(AgendaItem.session),
                                                        joinedload(AgendaItem.proposal)])
    if item is None or item.session.institution_id != current_user.institution_id:
        abort(404)
    return item


def _render_session(session: ReviewSession, *, block=None, forms_by_item=None, schedule_form=None):
    views, members, present = queries.session_page(session, current_user)
    settings = review_settings.settings_for(session.institution_id)
    # Closed items show their stored tally; only open votes are counted live.
    tallies = {v.item.id: voting.tally(v.item, v.votes) for v in views if v.item.is_voting}
    coordinates = policy.may_coordinate_something(current_user)
    # Per item: None if the current user takes its coordinator actions, else why not.
    refusals = policy.coordinator_refusals(current_user, [v.item.proposal for v in views]) if coordinates else {}
    # The coordinator's buttons per item: those its policy lets the current user take now;
    # and why not, instead of a button the table offers from its state (a recusal is told to
    # the coordinators only: a substitute acts on their proposals and sees no other).
    item_actions, item_notes = {}, {}
    for v in views if coordinates else ():
        coordination = refusals[v.item.proposal_id]
        answers = {tr.action: policy.can_act_on_item(current_user, v.item, tr.action, coordination=coordination)
                   for tr in ITEMS.available(v.item.status, {COORDINATOR}) if tr.action in policy.ITEM_ACTIONS}
        item_actions[v.item.id] = {action for action, refusal in answers.items() if refusal is None}
        if coordination is None or current_user.has_role("coordinator"):
            item_notes[v.item.id] = coordination or next(filter(None, answers.values()), None)
    schedule_form = schedule_form or forms.ScheduleForm()
    schedulable = queries.schedulable(session.institution_id) if coordinates else []
    may_schedule = policy.coordinator_refusals(current_user, schedulable)
    schedule_form.proposal_id.choices = [(str(p.id), f"n° {p.id} — {p.title}") for p in schedulable
                                         if may_schedule[p.id] is None]
    return render_page(
        "review/session.html", block=block, session=session, views=views, members=members,
        present=present, settings=settings, tallies=tallies, choices=CHOICES[settings.decision_rule],
        item_statuses=ITEM_STATUSES, outcome_labels=OUTCOME_LABELS,
        outcomes_by_result=decisions.OUTCOMES_BY_RESULT, forms_by_item=forms_by_item or {},
        schedule_form=schedule_form, csrf_form=ConfirmForm(),
        may_schedule=coordinates and policy.can_schedule_in(current_user, session) is None,
        coordinates=coordinates, item_actions=item_actions, item_notes=item_notes,
        vote_refusals={v.item.id: policy.can_vote(current_user, v.item) for v in views if v.item.is_voting},
        attendance_refusal=policy.can_record_attendance(current_user, session) if coordinates else policy.NOT_COORDINATOR,
        **_common())


@bp.get("/seances/<int:session_id>")
@login_required
def session(session_id: int):
    return _render_session(_session_or_404(session_id))


@bp.post("/seances/<int:session_id>/ordre-du-jour")
@login_required
def schedule(session_id: int):
    session = _session_or_404(session_id)
    if not policy.may_coordinate_something(current_user):
        raise NotAllowed(policy.NOT_COORDINATOR)
    form = forms.ScheduleForm()

    def act():
        number = int_in_range(form.proposal_id.data, 1, MAX_ID)
        if number is None:
            raise ValidationFailed({"proposal_id": "Choisissez une proposition en instruction."})
        proposal = _proposal_or_404(number)
        voting.schedule(current_user, session, proposal)

    return write(form, act,
                 success=lambda _: done("Proposition inscrite à l'ordre du jour ; ses auteurs connaissent la date.",
                                        url_for("review.session", session_id=session_id)),
                 invalid=lambda _: _render_session(session, schedule_form=form))


@bp.post("/seances/<int:session_id>/presences")
@login_required
def attendance(session_id: int):
    session = _session_or_404(session_id)
    ids = [int_in_range(v, 1, MAX_ID) for v in request.form.getlist("present")]
    if None in ids:
        abort(400)  # not an id the database could hold: no form of the application sends it
    return write(None, lambda: voting.set_attendance(current_user, session, present_ids=ids),
                 success=lambda _: done("Présences enregistrées.",
                                        url_for("review.session", session_id=session_id) + "#presences"))


def _item_action(item_id: int, action, message: str):
    item = _item_or_404(item_id)
    anchor = url_for("review.session", session_id=item.session_id) + f"#point-{item.id}"
    return write(None, lambda: action(item),
                 success=lambda result: done(message(result) if callable(message) else message, anchor))


@bp.post("/points/<int:item_id>/ouvrir")
@login_required
def open_vote(item_id: int):
    return _item_action(item_id, lambda item: voting.open_vote(current_user, item),
                        "Vote ouvert : les membres présents peuvent voter.")


@bp.post("/points/<int:item_id>/clore")
@login_required
def close_vote(item_id: int):
    messages = {"adopted": "Vote clos : proposition adoptée. Rédigez et publiez la motivation.",
                "not_adopted": "Vote clos : proposition non adoptée. Rédigez et publiez la motivation.",
                "no_quorum": "Quorum non atteint : le point est reporté, la proposition retourne en instruction.",
                "withdrawn": "La proposition a été retirée par son auteur pendant le vote : le point est clos sans décision."}
    return _item_action(item_id, lambda item: voting.close_vote(current_user, item),
                        lambda result: messages[result])


@bp.post("/points/<int:item_id>/reporter")
@login_required
def postpone(item_id: int):
    return _item_action(item_id, lambda item: voting.postpone_item(current_user, item),
                        "Point retiré de l'ordre du jour : la proposition retourne en instruction.")


@bp.post("/points/<int:item_id>/voter")
@login_required
def vote(item_id: int):
    item = _item_or_404(item_id)
    form = forms.VoteForm()
    # The answer is built before the commit (see web.write): a vote is the hottest write.
    return write(form, lambda: voting.cast_vote(current_user, item, choice=form.choice.data or "",
                                                  reason=form.reason.data or ""),
                 respond_before_commit=True,
                 success=lambda _: _render_item(item) if is_htmx() else done(
                     "Vote enregistré. Vous pouvez le changer tant que le vote est ouvert.",
                     url_for("review.session", session_id=item.session_id) + f"#point-{item.id}"),
                 invalid=lambda _: _render_item(item, vote_form=form) if is_htmx() else
                 _render_session(item.session, forms_by_item={item.id: form}))


def _render_item(item: AgendaItem, *, vote_form=None):
    """One agenda item's live block (tally and my vote), for htmx."""
    views, _members, present = queries.session_page(item.session, current_user, item_id=item.id, with_members=False)
    view = views[0]
    settings = review_settings.settings_for(item.session.institution_id)
    return render_page("review/_item_live.html", view=view, present=present, settings=settings,
                       tally=voting.tally(item, view.votes), choices=CHOICES[settings.decision_rule],
                       vote_form=vote_form, vote_refusal=policy.can_vote(current_user, item),
                       csrf_form=ConfirmForm(), **_common())


@bp.get("/points/<int:item_id>/decompte")
@login_required
def live(item_id: int):
    return _render_item(_item_or_404(item_id))


@bp.post("/points/<int:item_id>/publier")
@login_required
def publish(item_id: int):
    item = _item_or_404(item_id)
    coordination.require_coordinator_on(current_user, item.proposal)
    form = forms.PublishForm()
    anchor = url_for("review.session", session_id=item.session_id) + f"#point-{item.id}"
    return write(form, lambda: decisions.publish_decision(current_user, item, outcome=form.outcome.data or "",
                                                         rationale=form.rationale.data or ""),
                 success=lambda _: done("Décision publiée au journal des arbitrages ; les auteurs en sont informés.",
                                        anchor),
                 invalid=lambda _: _render_session(item.session, forms_by_item={item.id: form}))


@bp.route("/decisions/<int:decision_id>/corriger", methods=["GET", "POST"])
@login_required
def correct(decision_id: int):
    decision = get_in_institution_or_404(Decision, decision_id)
    coordination.require_coordinator_on(current_user, decision.proposal)
    if request.method == "GET" and (refusal := policy.correction_refusal(decision)):
        raise InvalidTransition(refusal)
    form = forms.CorrectionForm()

    def page(_=None):
        return render_page("review/correct.html", decision=decision, form=form, **_common())

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
    proposal = _proposal_or_404(proposal_id)
    refusal = policy.can_designate_substitute(current_user, proposal)
    if refusal:
        raise NotAllowed(refusal)
    form = forms.SubstituteForm()

    def page(_=None):
        return render_page("review/substitute.html", proposal=proposal, form=form,
                           coordination=policy.coordination_of(proposal),
                           substitute=policy.substitute_for(proposal), **_common())

    if request.method == "GET":
        return page()
    return write(form, lambda: coordination.designate_substitute(current_user, proposal, email=form.email.data or ""),
                 success=lambda _: done("Suppléant·e désigné·e : la désignation figure dans l'historique public "
                                        "de la proposition.", url_for("proposals.show", proposal_id=proposal_id)),
                 invalid=page)

