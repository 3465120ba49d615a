"""State changes on proposals. Each takes the acting user, checks the lifecycle table and
the rules, changes the models, records the audit event; the caller commits."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import Integer, bindparam, delete, select, update
from sqlalchemy.orm.attributes import set_committed_value

from ..audit.services import record
from ..dbutil import MAX_ID, insert_ignoring_duplicates, lock_row, prebuilt
from ..errors import InvalidTransition, NotAllowed, ValidationFailed, refuse
from ..extensions import db
from ..notifications.links import Link, link
from ..notifications.services import notify
from ..organisation.models import OrgUnit
from ..people.models import User
from ..people.policy import require_admin
from ..people.services import EMAIL_RE, agent_by_email, normalise_email
from ..text import clean, int_in_range, normalise
from ..timeutil import today_paris, utcnow
from . import lifecycle, policy
from .models import (
    CONTENT_FIELDS,
    INITIATIVE_FIELDS,
    KINDS,
    OPEN_TO_LABELS,
    CoAuthor,
    Comment,
    Proposal,
    ProposalVersion,
    Support,
    Theme,
)

# Input limits: the services check them, the forms (proposals/forms.py) and so the pages
# read them from here.
TEXT_MAX = 5000
TITLE_MIN, TITLE_MAX = 5, 200
MAX_COAUTHORS = 10
COMMENT_MAX = 3000
HIDDEN_REASON_MIN, HIDDEN_REASON_MAX = 5, 500  # why a comment is hidden (shown in its place)
THEME_NAME_MIN, THEME_NAME_MAX = 2, 120

REQUIRED = {
    "initiative": {
        "problem": "Décrivez le problème auquel la proposition répond.",
        "change": "Décrivez le service ou le changement proposé.",
        "beneficiaries": "Dites pour qui, et quelle valeur cela apporte.",
        "gain": "Dites ce que l'on gagne par rapport à aujourd'hui.",
        "needs": "Indiquez ce qu'il faut : temps, compétences, budget (même approximatifs).",
    },
    "mobility": {
        "mission": "Décrivez la mission confiée pendant l'immersion.",
        "learning": "Dites ce que la personne accueillie découvrira ou apprendra.",
        "contribution": "Dites ce qu'elle pourra apporter au service.",
        "duration_days": "Indiquez la durée en jours ouvrés.",
        "window_starts_on": "Indiquez à partir de quand l'immersion est possible.",
        "window_ends_on": "Indiquez jusqu'à quand l'immersion est possible.",
        "places": "Indiquez le nombre de places.",
        "host_org_unit_id": "Choisissez le service d'accueil.",
        "contact_id": "Indiquez la personne à contacter.",
    },
}


# --------------------------------------------------------------------------- guards


def require_transition(proposal: Proposal, action: str, actor: User, *,
                       capacities: set[str] | None = None) -> lifecycle.Transition:
    """The lifecycle table's verdict for `actor` doing `action` on `proposal` now.

    `capacities` defaults to what the actor is to the proposal (author, co-author); the
    coordinator's capacity is passed by review.policy, which alone grants it."""
    if actor.institution_id != proposal.institution_id:
        raise NotAllowed("Cette proposition appartient à une autre collectivité.")
    if capacities is None:
        capacities = proposal.capacities(actor)
    return lifecycle.MACHINE.require(proposal.state, action, capacities)


def move(proposal: Proposal, transition: lifecycle.Transition, actor: User, *,
         audit_action: str, data: dict[str, Any] | None = None, public: bool = True) -> None:
    """Apply a transition: new state, step clock, one audit event."""
    before = lifecycle.MACHINE.enter(proposal, transition)
    if transition.target != before:
        proposal.state_changed_at = utcnow()
    record(audit_action, actor=actor, institution_id=proposal.institution_id, target=proposal,
           data={"from": before, "to": transition.target, **(data or {})}, public=public)


# --------------------------------------------------------------------------- content


def _int_or_error(value: Any, field: str, low: int, high: int, message: str,
                  errors: dict[str, str]) -> int | None:
    if value in (None, ""):
        return None
    number = int_in_range(value, low, high)
    if number is None:
        errors[field] = message
    return number


def clean_content(institution_id: int, kind: str, data: dict[str, Any], *,
                  for_submission: bool) -> dict[str, Any]:
    """Check and normalise a proposal's fields. A draft needs only a title; submission
    needs every field of its kind. Raises ValidationFailed with all the messages."""
    if kind not in KINDS:
        raise ValidationFailed({"kind": "Nature de proposition inconnue."})
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    title = " ".join(clean(data.get("title")).split())
    if not TITLE_MIN <= len(title) <= TITLE_MAX:
        errors["title"] = f"Le titre doit compter entre {TITLE_MIN} et {TITLE_MAX} caractères."
    out["title"] = title
    for field in INITIATIVE_FIELDS + ("mission", "learning", "contribution"):
        value = clean(data.get(field))
        if len(value) > TEXT_MAX:
            errors[field] = f"{TEXT_MAX} caractères au plus ({len(value)} saisis)."
        out[field] = value
    theme_id = data.get("theme_id")
    out["theme_id"] = None
    if theme_id not in (None, ""):
        theme = db.session.get(Theme, _int_or_error(theme_id, "theme_id", 1, MAX_ID, "Thème inconnu.", errors) or 0)
        if theme is None or theme.institution_id != institution_id or not theme.is_active:
            errors["theme_id"] = "Thème inconnu."
        else:
            out["theme_id"] = theme.id

    mobility: dict[str, Any] = {f: None for f in ("duration_days", "window_starts_on", "window_ends_on",
                                                 "places", "open_to", "host_org_unit_id", "contact_id")}
    if kind == "mobility":
        mobility["duration_days"] = _int_or_error(
            data.get("duration_days"), "duration_days", 1, 60,
            "Durée en jours ouvrés, entre 1 et 60.", errors)
        mobility["places"] = _int_or_error(
            data.get("places"), "places", 1, 50, "Nombre de places entre 1 et 50.", errors)
        for field in ("window_starts_on", "window_ends_on"):
            value = data.get(field)
            if value is not None and not isinstance(value, date):
                errors[field] = "Date invalide."
            else:
                mobility[field] = value
        starts, ends = mobility["window_starts_on"], mobility["window_ends_on"]
        if starts and ends and ends < starts:
            errors["window_ends_on"] = "La fin de la période doit suivre son début."
        elif for_submission and ends and ends < today_paris():
            errors["window_ends_on"] = "La période proposée est déjà passée."
        if starts and ends and mobility["duration_days"] and (ends - starts).days + 1 < mobility["duration_days"]:
            errors["duration_days"] = "La durée dépasse la période proposée."
        open_to = data.get("open_to") or "institution"
        if open_to not in OPEN_TO_LABELS:
            errors["open_to"] = "Choix inconnu."
        mobility["open_to"] = open_to
        host_id = data.get("host_org_unit_id")
        if host_id not in (None, ""):
            unit = db.session.get(OrgUnit, _int_or_error(host_id, "host_org_unit_id", 1, MAX_ID, "Service inconnu.", errors) or 0)
            if unit is None or unit.institution_id != institution_id:
                errors["host_org_unit_id"] = "Service inconnu."
            elif not unit.is_open:
                errors["host_org_unit_id"] = "Ce service est fermé."
            else:
                mobility["host_org_unit_id"] = unit.id
        contact_email = normalise_email(data.get("contact_email") or "")
        if contact_email:
            contact = agent_by_email(institution_id, contact_email)
            if contact is None:
                errors["contact_email"] = "Aucun agent actif de la collectivité n'a cette adresse."
            else:
                mobility["contact_id"] = contact.id
    out.update(mobility)

    if for_submission:
        for field, message in REQUIRED[kind].items():
            key = "contact_email" if field == "contact_id" else field
            if out.get(field) in (None, "") and key not in errors:
                errors[key] = message
    if errors:
        raise ValidationFailed(errors)
    return out


def _parse_coauthor_emails(raw: str | None, proposal_author: User) -> tuple[list[User], dict[str, str]]:
    emails = [normalise_email(e) for e in re.split(r"[,;\s]+", raw or "") if e.strip()]
    if len(emails) > MAX_COAUTHORS:
        return [], {"coauthor_emails": f"{MAX_COAUTHORS} co-auteurs au plus."}
    users: list[User] = []
    problems: list[str] = []
    for email in dict.fromkeys(emails):
        # An address, or the identifier of an agent without one (never an "@" in it).
        if "@" in email and not EMAIL_RE.match(email):
            problems.append(f"« {email[:80]} » n'est pas une adresse valide")
            continue
        user = agent_by_email(proposal_author.institution_id, email)
        if user is None:
            what = "l'adresse" if "@" in email else "l'adresse ou l'identifiant"
            problems.append(f"aucun agent actif n'a {what} « {email[:80]} »")
        elif user.id == proposal_author.id:
            problems.append("l'auteur ou l'autrice ne peut être son propre co-auteur")
        else:
            users.append(user)
    if problems:
        message = " ; ".join(problems)
        return [], {"coauthor_emails": message[0].upper() + message[1:] + "."}
    return users, {}


def _sync_coauthors(proposal: Proposal, users: list[User], actor: User) -> None:
    wanted = {u.id: u for u in users}
    for coauthor in list(proposal.coauthors):
        if coauthor.user_id not in wanted:
            proposal.coauthors.remove(coauthor)
    present = {coauthor.user_id: coauthor for coauthor in proposal.coauthors}
    for user_id, user in wanted.items():
        if user_id in present and present[user_id].status == "declined":
            present[user_id].status, present[user_id].responded_at = "invited", None
            record("proposal.coauthor_invited", actor=actor, institution_id=proposal.institution_id,
                   target=proposal, data={"user_id": user_id})
        elif user_id not in present:
            proposal.coauthors.append(CoAuthor(user=user, status="invited"))
            record("proposal.coauthor_invited", actor=actor, institution_id=proposal.institution_id,
                   target=proposal, data={"user_id": user_id})
        else:
            continue
        notify([user], "proposals", "Invitation à co-signer une proposition",
               f"{actor.full_name} vous invite à co-signer « {proposal.title} ». Acceptez ou déclinez "
               "depuis la page de la proposition.", proposal_link(proposal))


def _refresh_search_text(proposal: Proposal) -> None:
    names = [proposal.author.full_name] + [u.full_name for u in proposal.accepted_coauthors]
    parts = [proposal.title, proposal.problem, proposal.change, proposal.beneficiaries,
             proposal.mission, proposal.learning, " ".join(names)]
    proposal.search_text = normalise(" ".join(p for p in parts if p))


def _checked(institution_id: int, kind: str, data: dict[str, Any], *, for_submission: bool,
             coauthor_author: User | None) -> tuple[dict[str, Any], list[User]]:
    """The content and the co-authors, or one ValidationFailed with every message of both:
    a form reports all its problems at once, never one after the other (RGAA 11.10)."""
    errors: dict[str, list[str]] = {}
    content: dict[str, Any] = {}
    try:
        content = clean_content(institution_id, kind, data, for_submission=for_submission)
    except ValidationFailed as refusal:
        errors.update(refusal.errors)
    coauthors: list[User] = []
    if coauthor_author is not None:
        coauthors, problems = _parse_coauthor_emails(data.get("coauthor_emails"), coauthor_author)
        errors.update({name: [message] for name, message in problems.items()})
    if errors:
        raise ValidationFailed(errors)
    return content, coauthors


def create_proposal(actor: User, *, kind: str, data: dict[str, Any], submitting: bool = False) -> Proposal:
    """A new draft (everything but the title may still be empty). `submitting`: it is about
    to be submitted, so what submission requires is checked now, with the rest."""
    content, coauthors = _checked(actor.institution_id, kind, data, for_submission=submitting,
                                  coauthor_author=actor)
    proposal = Proposal(institution_id=actor.institution_id, kind=kind, state="draft",
                        author=actor, org_unit_id=actor.org_unit_id, **content)
    if kind == "mobility" and content.get("host_org_unit_id"):
        proposal.org_unit_id = content["host_org_unit_id"]
    db.session.add(proposal)
    db.session.flush()
    _sync_coauthors(proposal, coauthors, actor)
    _refresh_search_text(proposal)
    record("proposal.created", actor=actor, institution_id=proposal.institution_id,
           target=proposal, data={"kind": kind})
    return proposal


def update_proposal(actor: User, proposal: Proposal, *, data: dict[str, Any], submitting: bool = False) -> None:
    """Edit a draft, or revise a proposal whose changes were requested. `submitting`: it is
    about to be (re)submitted, so what submission requires is checked now, with the rest."""
    require_transition(proposal, "edit", actor)
    manages_coauthors = "coauthor_emails" in data and policy.can_manage_coauthors(actor, proposal)
    content, coauthors = _checked(proposal.institution_id, proposal.kind, data, for_submission=submitting,
                                  coauthor_author=proposal.author if manages_coauthors else None)
    for field, value in content.items():
        setattr(proposal, field, value)
    if proposal.kind == "mobility" and content.get("host_org_unit_id"):
        proposal.org_unit_id = content["host_org_unit_id"]
    if manages_coauthors:
        _sync_coauthors(proposal, coauthors, actor)
    proposal.updated_at = utcnow()
    if proposal.submitted_at is None:
        _refresh_search_text(proposal)  # a revision becomes searchable when resubmitted
    record("proposal.edited", actor=actor, institution_id=proposal.institution_id, target=proposal)


def proposal_link(proposal: Proposal) -> Link:
    return link("proposals.show", proposal_id=proposal.id)


def authors_of(proposal: Proposal) -> list[User]:
    return [proposal.author] + [c.user for c in proposal.coauthors if c.status == "accepted"]


def _snapshot(proposal: Proposal, actor: User) -> ProposalVersion:
    proposal.version_number += 1
    version = ProposalVersion(proposal_id=proposal.id, number=proposal.version_number,
                              submitted_by=actor,
                              **{f: getattr(proposal, f) for f in CONTENT_FIELDS})
    db.session.add(version)
    return version


def _check_complete(proposal: Proposal) -> None:
    data = {f: getattr(proposal, f) for f in CONTENT_FIELDS}
    data["contact_email"] = proposal.contact.login if proposal.contact else ""
    clean_content(proposal.institution_id, proposal.kind, data, for_submission=True)


# Who else a submission gives something to do: the arbitration registers the coordination
# (review.eligibility), which this package, below it, does not import.
_SUBMISSION_HOOKS: list[Callable[[Proposal], None]] = []


def register_submission_hook(hook: Callable[[Proposal], None]) -> None:
    if hook not in _SUBMISSION_HOOKS:
        _SUBMISSION_HOOKS.append(hook)


def _submitted(proposal: Proposal) -> None:
    for hook in _SUBMISSION_HOOKS:
        hook(proposal)


def submit_proposal(actor: User, proposal: Proposal) -> None:
    transition = require_transition(proposal, "submit", actor)
    _check_complete(proposal)
    proposal.submitted_at = utcnow()
    _snapshot(proposal, actor)
    move(proposal, transition, actor, audit_action="proposal.submitted",
         data={"version": proposal.version_number})
    notify(authors_of(proposal), "proposals", "Votre proposition est bien déposée",
           f"« {proposal.title} » est déposée. L'animation du collectif va examiner sa recevabilité ; "
           "vous serez prévenu·e de chaque étape.", proposal_link(proposal))
    _submitted(proposal)


def resubmit_proposal(actor: User, proposal: Proposal) -> None:
    transition = require_transition(proposal, "resubmit", actor)
    _check_complete(proposal)
    _snapshot(proposal, actor)
    _refresh_search_text(proposal)
    move(proposal, transition, actor, audit_action="proposal.resubmitted",
         data={"version": proposal.version_number})
    notify(authors_of(proposal), "proposals", "Votre version révisée est bien déposée",
           f"La version {proposal.version_number} de « {proposal.title} » est déposée et repart pour un examen.",
           proposal_link(proposal))
    _submitted(proposal)


def withdraw_proposal(actor: User, proposal: Proposal) -> None:
    transition = require_transition(proposal, "withdraw", actor)
    move(proposal, transition, actor, audit_action="proposal.withdrawn",
         public=proposal.submitted_at is not None)


def respond_to_invitation(actor: User, proposal: Proposal, *, accept: bool) -> None:
    # Answers to one proposal's invitations are taken one at a time, on fresh rows: a
    # double click or a second tab finds the invitation answered, and each acceptance
    # rewrites the search text with the co-authors who accepted meanwhile.
    lock_row(proposal)
    db.session.expire(proposal, ["coauthors"])
    db.session.scalars(select(CoAuthor).where(CoAuthor.proposal_id == proposal.id)
                       .execution_options(populate_existing=True)).all()
    refuse(policy.can_answer_invitation(actor, proposal))
    link = next(c for c in proposal.coauthors if c.user_id == actor.id)
    link.status = "accepted" if accept else "declined"
    link.responded_at = utcnow()
    if accept:
        _refresh_search_text(proposal)
    record("proposal.coauthor_accepted" if accept else "proposal.coauthor_declined",
           actor=actor, institution_id=proposal.institution_id, target=proposal,
           data={"user_id": actor.id}, public=accept and proposal.submitted_at is not None)


# --------------------------------------------------------------------------- supports


def can_support(actor: User, proposal: Proposal) -> str | None:
    """None if `actor` may back `proposal`, else why not (in French)."""
    if actor.institution_id != proposal.institution_id:
        return "Cette proposition appartient à une autre collectivité."
    if proposal.state not in lifecycle.OPEN_STATES:
        return "On ne peut plus soutenir une proposition qui a reçu sa réponse ou a été retirée."
    if proposal.is_author_side(actor):
        return "On ne soutient pas sa propre proposition."
    return None


def toggle_support(actor: User, proposal: Proposal) -> bool:
    """Back the proposal, or withdraw one's support. Returns whether it is now backed.

    The unique constraint makes a double click or two tabs harmless; the counter is
    changed by the database itself so that concurrent supports are all counted."""
    reason = can_support(actor, proposal)
    if reason:
        raise NotAllowed(reason)
    withdraw, count = _support_statements()
    deleted = db.session.execute(withdraw, {"proposal_id": proposal.id, "user_id": actor.id}).rowcount
    if deleted:
        db.session.execute(count, {"proposal": proposal.id, "by": -deleted})
        db.session.refresh(proposal, ["support_count"])
        return False
    if not insert_ignoring_duplicates(Support, proposal_id=proposal.id, user_id=actor.id,
                                      created_at=utcnow()):
        return True  # backed by a concurrent request of the same person
    db.session.execute(count, {"proposal": proposal.id, "by": 1})
    db.session.refresh(proposal, ["support_count"])
    return True


@prebuilt
def _support_statements():
    """Withdrawing a support; changing the counter `by` some. The session's objects are left
    alone (no Support is loaded here, and the counter is read again right after)."""
    return (delete(Support).where(Support.proposal_id == bindparam("proposal_id"),
                                  Support.user_id == bindparam("user_id"))
            .execution_options(synchronize_session=False),
            # An UPDATE's parameters may not be named after a column (SQLAlchemy keeps those).
            update(Proposal).where(Proposal.id == bindparam("proposal"))
            .values(support_count=Proposal.support_count + bindparam("by", type_=Integer))
            .execution_options(synchronize_session=False))


# --------------------------------------------------------------------------- comments


def add_comment(actor: User, proposal: Proposal, *, body: str) -> Comment:
    if actor.institution_id != proposal.institution_id or proposal.submitted_at is None:
        raise NotAllowed("On ne peut pas commenter cette proposition.")
    body = clean(body)
    if not body:
        raise ValidationFailed({"body": "Écrivez votre commentaire."})
    if len(body) > COMMENT_MAX:
        raise ValidationFailed({"body": f"{COMMENT_MAX} caractères au plus ({len(body)} saisis)."})
    comment = Comment(proposal_id=proposal.id, author_id=actor.id, body=body)
    db.session.add(comment)
    counted = db.session.execute(_comment_counted(), {"proposal": proposal.id}).scalar_one()
    # The count as the database has it now, without making the proposal to write.
    set_committed_value(proposal, "comment_count", counted)
    db.session.flush()
    return comment


@prebuilt
def _comment_counted():
    # Run inside the comment's write transaction: built once, not at each comment.
    return (update(Proposal.__table__).where(Proposal.id == bindparam("proposal"))
            .values(comment_count=Proposal.comment_count + 1).returning(Proposal.comment_count))


def hide_comment(actor: User, comment: Comment, proposal: Proposal, *, reason: str) -> None:
    refuse(policy.can_hide_comment(actor, proposal))
    if comment.hidden_at is not None:
        raise InvalidTransition("Ce commentaire est déjà masqué.")
    reason = clean(reason)
    if not HIDDEN_REASON_MIN <= len(reason) <= HIDDEN_REASON_MAX:
        raise ValidationFailed({"reason": f"Donnez la raison en {HIDDEN_REASON_MIN} à {HIDDEN_REASON_MAX} "
                                          "caractères : elle sera affichée."})
    comment.hidden_at = utcnow()
    comment.hidden_by_id = actor.id
    comment.hidden_reason = reason
    record("comment.hidden", actor=actor, institution_id=proposal.institution_id, target=proposal,
           data={"comment_id": comment.id, "reason": reason}, public=True)


# --------------------------------------------------------------------------- themes


def create_theme(actor: User, *, name: str) -> Theme:
    require_admin(actor, actor.institution_id)
    name = " ".join(clean(name).split())
    if not THEME_NAME_MIN <= len(name) <= THEME_NAME_MAX:
        raise ValidationFailed({"name": f"Le nom du thème doit compter entre {THEME_NAME_MIN} et "
                                        f"{THEME_NAME_MAX} caractères."})
    if db.session.scalar(select(Theme.id).where(Theme.institution_id == actor.institution_id,
                                                Theme.name == name)):
        raise ValidationFailed({"name": "Ce thème existe déjà."})
    theme = Theme(institution_id=actor.institution_id, name=name)
    db.session.add(theme)
    db.session.flush()
    record("theme.created", actor=actor, institution_id=actor.institution_id, target=theme,
           data={"name": name})
    return theme


def toggle_theme(actor: User, theme: Theme) -> None:
    require_admin(actor, theme.institution_id)
    theme.is_active = not theme.is_active
    record("theme.activated" if theme.is_active else "theme.deactivated", actor=actor,
           institution_id=theme.institution_id, target=theme)
