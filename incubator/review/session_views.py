"""Pages of the arbitration sessions: the calendar, one session with its agenda and
attendance, the votes (with their live tally) and the publication of decisions."""

from __future__ import annotations

from flask import abort, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload

from ..admin.forms import ConfirmForm
from ..errors import NotAllowed, ValidationFailed
from ..extensions import db
from ..proposals.lifecycle import COORDINATOR
from ..security import background, login_required
from ..text import int_in_range
from ..web import (
    MAX_ID,
    done,
    get_in_institution_or_404,
    is_htmx,
    page_number,
    render_page,
    write,
)
from . import coordination, decisions, forms, policy, queries, voting
from . import settings as review_settings
from .blueprint import (
    bp,
    common_context,
    proposal_or_404,
    require_coordinator_page,
)
from .lifecycle import ITEMS
from .models import (
    CHOICES,
    ITEM_STATUSES,
    OUTCOME_LABELS,
    AgendaItem,
    ReviewSession,
)


@bp.route("/seances", methods=["GET", "POST"])
@login_required
def sessions():
    form = forms.SessionForm()

    def page(_=None):
        upcoming = queries.upcoming_sessions(current_user.institution_id)
        past = db.paginate(queries.past_sessions_query(current_user.institution_id), page=page_number(),
                           per_page=20, error_out=False)
        return render_page("review/sessions.html", upcoming=upcoming, past=past, form=form,
                           item_counts=queries.item_counts(upcoming + list(past.items)), **common_context())

    if request.method == "GET":
        return page()
    require_coordinator_page()
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
    # A required list starts with an empty choice (HTML): nothing is chosen by default.
    schedule_form.proposal_id.choices = [("", "— Choisir une proposition —")] + [
        (str(p.id), f"n° {p.id} — {p.title}") for p in schedulable if may_schedule[p.id] is None]
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
        **common_context())


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
        proposal = proposal_or_404(number)
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
    # The answer is built from the objects as committed (see web.write): a vote is the hottest write.
    return write(form, lambda: voting.cast_vote(current_user, item, choice=form.choice.data or "",
                                                  reason=form.reason.data or ""),
                 keep_loaded=True,
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
                       csrf_form=ConfirmForm(), **common_context())


@bp.get("/points/<int:item_id>/decompte")
@background
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
