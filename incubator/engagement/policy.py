"""Who reads whose engagement record: the agent themself (/mon-engagement), HR (every agent
of the institution, each read logged), and, when the institution turns the option on
(/admin/parametres), the agent's N+1 (their direct reports only, each read logged)."""

from __future__ import annotations

from ..people.models import User

OPTION_OFF = ("Votre collectivité n'a pas ouvert aux encadrants la lecture du relevé d'engagement de leurs "
              "agents : seuls l'agent lui-même et les RH le consultent.")
NOT_THE_MANAGER = "Seul le ou la N+1 de l'agent (son encadrant direct) peut lire son relevé d'engagement."


def managers_option_refusal(actor: User) -> str | None:
    """Why no manager of `actor`'s institution reads their reports' records, or None."""
    return None if actor.institution.managers_see_engagement else OPTION_OFF


NO_REPORTS = "Vous n'êtes le ou la N+1 d'aucun agent : cette page liste les relevés de vos agents directs."


def reports_page_refusal(actor: User, reports_count: int) -> str | None:
    """Why `actor` has no page of their reports' records, or None: the option, then at
    least one direct report."""
    return managers_option_refusal(actor) or (None if reports_count else NO_REPORTS)


def report_record_refusal(actor: User, agent: User) -> str | None:
    """Why `actor` may not read `agent`'s engagement record as their N+1, or None: the
    option is on in their institution and `actor` is the agent's direct N+1 (not a
    delegate, not a manager higher up, never for oneself)."""
    if refusal := managers_option_refusal(actor):
        return refusal
    if agent.institution_id != actor.institution_id or agent.manager_id != actor.id or agent.id == actor.id:
        return NOT_THE_MANAGER
    return None
