"""The line of management: who decides on whose time. An agent's N+1 decides, or whoever
holds the N+1's delegation for the day; never the agent themself."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, and_, bindparam, exists, select
from sqlalchemy.orm import aliased

from ..accounts.sessions import register_session_fact
from ..audit.services import record
from ..dbutil import prebuilt, request_cached
from ..errors import NotAllowed, ValidationFailed
from ..extensions import db
from ..timeutil import today_paris
from .models import ApprovalDelegation, User
from .services import agent_by_email


@prebuilt
def _delegators_query():
    on = bindparam("on")
    return select(ApprovalDelegation.manager_id).where(
        ApprovalDelegation.delegate_id == bindparam("actor_id"), ApprovalDelegation.starts_on <= on,
        ApprovalDelegation.ends_on >= on)


def delegators(actor: User, on: date | None = None) -> list[int]:
    """Managers whose approvals `actor` holds today."""
    return list(db.session.scalars(_delegators_query(), {"actor_id": actor.id, "on": on or today_paris()}))


def approver_clause(user_id):
    """SQL: the user decides on someone's time today, as their N+1 or holding their N+1's
    delegation: `can_decide_for` true for at least one agent (never counting the user).
    The day is read when the statement runs, not when it is built: the session's query,
    which holds this clause, is built once per process (and a process lives for days)."""
    today = bindparam("approver_today", callable_=today_paris, type_=Date)
    report = aliased(User)
    return (manages_clause(user_id)
            | exists().where(ApprovalDelegation.delegate_id == user_id, ApprovalDelegation.starts_on <= today,
                             ApprovalDelegation.ends_on >= today, report.manager_id == ApprovalDelegation.manager_id,
                             report.id != user_id))


def manages_clause(user_id):
    """SQL: the user is the N+1 of at least one agent (never counting themself): who
    approves their reports' time, and may delegate it."""
    report = aliased(User)
    return exists().where(report.manager_id == user_id, report.id != user_id)


register_session_fact("is_approver", approver_clause)


def is_approver(user: User) -> bool:
    """N+1 of someone, or holding a delegation today (answered with the session, else one query)."""
    known = user.session_facts.get("is_approver")
    if known is not None:
        return bool(known)
    return bool(db.session.scalar(select(approver_clause(user.id))))


@request_cached("approval_delegations")
def approver_scope(actor: User) -> list[int]:
    """Managers for whom `actor` approves: themself and those who delegated to them (read
    once a request: the approval queue filters its agents and their lines with it)."""
    return [actor.id] + delegators(actor)


def can_decide_for(actor: User, agent: User) -> str | None:
    """None if `actor` may decide on `agent`'s hours and cap overrides, else why not (French):
    the agent's N+1 or the holder of the N+1's delegation today, never the agent themself
    (a report holding it decides for the others; their own lines stay with the N+1)."""
    if agent.id == actor.id:
        return ("Personne ne valide ses propres heures ni ne s'accorde de dérogation : "
                "votre N+1 en décide, même si vous détenez sa délégation.")
    if agent.institution_id != actor.institution_id or agent.manager_id not in approver_scope(actor):
        return "Seul le N+1 de l'agent (ou la personne à qui il a délégué) valide ces heures."
    return None


@prebuilt
def decidable_agents_clause():
    """SQL filter on User: the agents for whom `can_decide_for(actor, agent)` holds today,
    the actor given by `decidable_agents_params(actor)` (built once, for the approval queue)."""
    return and_(User.institution_id == bindparam("decider_institution_id"),
                User.manager_id.in_(bindparam("decider_scope", expanding=True)), User.id != bindparam("decider_id"))


def decidable_agents_params(actor: User) -> dict:
    return {"decider_institution_id": actor.institution_id, "decider_scope": approver_scope(actor),
            "decider_id": actor.id}


@prebuilt
def _has_reports_query():
    # Built once: building the aliased EXISTS cost more than running it.
    return select(manages_clause(bindparam("user_id")))


register_session_fact("has_reports", manages_clause)


def has_reports(user: User, *, read_again: bool = False) -> bool:
    """N+1 of at least one agent: who may delegate their approvals. Answered with the
    session (what the approvals page shows), else, or with `read_again` (a write deciding
    on it, in its own transaction), one query."""
    known = None if read_again else user.session_facts.get("has_reports")
    if known is not None:
        return bool(known)
    return bool(db.session.scalar(_has_reports_query(), {"user_id": user.id}))


def delegate(actor: User, *, delegate_email: str, starts_on: date | None, ends_on: date | None) -> ApprovalDelegation:
    errors: dict[str, str] = {}
    if not has_reports(actor, read_again=True):
        raise NotAllowed("Seul un encadrant (N+1 d'au moins un agent) délègue ses validations.")
    target = agent_by_email(actor.institution_id, delegate_email)
    if target is None:
        errors["delegate_email"] = "Aucun agent actif de la collectivité n'a cette adresse."
    elif target.id == actor.id:
        errors["delegate_email"] = "Choisissez une autre personne que vous."
    if starts_on is None:
        errors["starts_on"] = "Indiquez le début."
    if ends_on is None:
        errors["ends_on"] = "Indiquez la fin."
    elif starts_on and ends_on < starts_on:
        errors["ends_on"] = "La fin doit suivre le début."
    elif starts_on and (ends_on - starts_on).days > 366:
        errors["ends_on"] = "Une délégation dure un an au plus."
    if errors:
        raise ValidationFailed(errors)
    delegation = ApprovalDelegation(institution_id=actor.institution_id, manager_id=actor.id,
                                    delegate_id=target.id, starts_on=starts_on, ends_on=ends_on)
    db.session.add(delegation)
    db.session.flush()
    record("time.delegated", actor=actor, institution_id=actor.institution_id, target=delegation,
           data={"delegate_id": target.id, "from": starts_on.isoformat(), "to": ends_on.isoformat()})
    return delegation
