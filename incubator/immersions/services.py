"""Immersions (période d'immersion professionnelle, décret n° 2022-1043): applying to a
published offer within the legal limits, the N+1's consent, the host's selection, which
turns the immersion into a project with its planned release time."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from ..audit.services import record
from ..errors import InvalidTransition, NotAllowed, ValidationFailed, refuse
from ..extensions import db
from ..notifications.links import link
from ..notifications.services import notify
from ..people.models import User
from ..projects.models import Project, ProjectMember
from ..proposals.models import Proposal
from ..release_time.services import plan_immersion
from ..text import clean
from ..timeutil import today_paris, utcnow
from ..workdays import working_days
from . import lifecycle, policy
from .lifecycle import APPLICATIONS
from .models import Application, ImmersionSettings

# Input limits: the services check them, the forms (immersions/forms.py) read them here.
MOTIVATION_MIN, MOTIVATION_MAX = 20, 3000
REFUSAL_REASON_MIN, REFUSAL_REASON_MAX = 5, 1000  # the N+1's refusal, read by the agent


def immersion_settings(institution_id: int) -> ImmersionSettings:
    found = db.session.scalar(select(ImmersionSettings).where(ImmersionSettings.institution_id == institution_id))
    return found or ImmersionSettings(institution_id=institution_id, limits_mode="refuse",
                                      internal_min_days=1, internal_max_days=10, daily_hours=7)


def can_apply_to(actor: User, offer: Proposal) -> bool:
    """The offer's form exists for `actor` (else 404); who may apply: policy.can_apply."""
    return policy.is_open_to(actor, offer)


def immersion_checks(applicant: User, offer: Proposal, starts_on: date, ends_on: date,
                     *, today: date | None = None, exclude_id: int | None = None) -> tuple[int, list[str]]:
    """Working days, and what breaks the période d'immersion professionnelle rules
    (décret n° 2022-1043) or the institution's rule for internal immersions."""
    today = today or today_paris()
    days = working_days(starts_on, ends_on)
    problems = []
    between_employers = applicant.institution_id != offer.institution_id
    if between_employers:
        if not 2 <= days <= 10:
            problems.append(f"une immersion entre employeurs dure de 2 à 10 jours ouvrés ({days} demandés)")
        three_years_ago = starts_on - timedelta(days=3 * 365)
        already = db.session.scalar(
            select(func.coalesce(func.sum(Application.working_days), 0))
            .join(Proposal, Proposal.id == Application.offer_id)
            .where(Application.applicant_id == applicant.id, Application.status == APPLICATIONS.target("select"),
                   Application.starts_on >= three_years_ago,
                   Proposal.institution_id != applicant.institution_id,
                   *([Application.id != exclude_id] if exclude_id else []))
        )
        if already + days > 20:
            problems.append(f"au plus 20 jours d'immersion sur 3 ans ({already} déjà effectués ou programmés)")
        if starts_on < today + timedelta(days=91):
            problems.append("la demande doit être faite au moins 3 mois avant le début")
    else:
        settings = immersion_settings(offer.institution_id)
        if not settings.internal_min_days <= days <= settings.internal_max_days:
            problems.append(f"une immersion interne dure de {settings.internal_min_days} à "
                            f"{settings.internal_max_days} jours ouvrés ({days} demandés)")
    return days, problems


def apply(actor: User, offer: Proposal, *, motivation: str, starts_on: date | None,
          ends_on: date | None) -> Application:
    refuse(policy.can_apply(actor, offer))
    errors: dict[str, str] = {}
    motivation = clean(motivation)
    if not MOTIVATION_MIN <= len(motivation) <= MOTIVATION_MAX:
        errors["motivation"] = f"Expliquez votre motivation en {MOTIVATION_MIN} à {MOTIVATION_MAX} caractères."
    if starts_on is None:
        errors["starts_on"] = "Indiquez la date de début souhaitée."
    if ends_on is None:
        errors["ends_on"] = "Indiquez la date de fin souhaitée."
    if starts_on and starts_on < today_paris():
        errors["starts_on"] = "La date de début est passée."
    elif starts_on and ends_on:
        if ends_on < starts_on:
            errors["ends_on"] = "La fin doit suivre le début."
        elif (offer.window_starts_on and starts_on < offer.window_starts_on) or (
                offer.window_ends_on and ends_on > offer.window_ends_on):
            errors["starts_on"] = (f"Choisissez des dates dans la période proposée, du "
                                   f"{offer.window_starts_on:%d/%m/%Y} au {offer.window_ends_on:%d/%m/%Y}.")
    if actor.manager_id is None:
        errors["motivation"] = "Votre fiche n'indique pas de N+1 pour donner son accord : contactez l'administration."
    if errors:
        raise ValidationFailed(errors)
    days, problems = immersion_checks(actor, offer, starts_on, ends_on)
    if problems and immersion_settings(offer.institution_id).limits_mode == "refuse":
        raise ValidationFailed({"starts_on": "Règles de l'immersion : " + " ; ".join(problems) + "."})
    if db.session.scalar(select(Application.id).where(Application.offer_id == offer.id,
                                                      Application.applicant_id == actor.id)):
        raise InvalidTransition("Vous avez déjà candidaté à cette offre.")
    application = Application(offer_id=offer.id, applicant_id=actor.id, manager_id=actor.manager_id,
                              motivation=motivation, starts_on=starts_on, ends_on=ends_on,
                              working_days=days, warnings=" ; ".join(problems))
    db.session.add(application)
    db.session.flush()
    record("immersion.applied", actor=actor, institution_id=actor.institution_id, target=application,
           data={"offer_id": offer.id, "days": days})
    notify([actor.manager], "approvals", "Une demande d'immersion attend votre accord",
           f"{actor.full_name} souhaite partir en immersion « {offer.title} » ({days} jour(s)).", link("immersions.index"))
    return application


def manager_decide(actor: User, application: Application, *, consent: bool, reason: str) -> None:
    capacities = policy.application_capacities(actor, application)
    if lifecycle.MANAGER not in capacities:
        raise NotAllowed("Seul le N+1 de l'agent donne son accord au départ en immersion.")
    transition = APPLICATIONS.require(application.status, "consent" if consent else "refuse", capacities,
                                      impossible="Cet avis a déjà été donné.")
    reason = clean(reason)
    if not consent and not REFUSAL_REASON_MIN <= len(reason) <= REFUSAL_REASON_MAX:
        raise ValidationFailed({"reason": f"Un refus doit être motivé ({REFUSAL_REASON_MIN} à {REFUSAL_REASON_MAX} "
                                          "caractères) ; l'agent le lira."})
    APPLICATIONS.enter(application, transition)
    application.manager_reason = reason
    application.decided_at = utcnow()
    record("immersion.consented" if consent else "immersion.refused", actor=actor,
           institution_id=actor.institution_id, target=application, data={"reason": reason})
    if consent:
        notify([application.applicant], "my_time", "Votre N+1 a donné son accord",
               f"Votre N+1 accepte votre immersion « {application.offer.title} » : le service d'accueil va choisir.",
               link("immersions.index"))
        hosts = db.session.scalars(select(User).where(User.id.in_(policy.host_ids(application.offer)))).all()
        notify(hosts, "approvals", "Une candidature attend votre choix",
               f"{application.applicant.full_name} candidate à « {application.offer.title} » avec l'accord de son N+1 : "
               "retenez sa candidature ou non.", link("immersions.index", "accueil"), exclude=application.applicant)
    else:
        notify([application.applicant], "my_time", "Votre demande d'immersion est refusée",
               f"Votre N+1 refuse votre immersion « {application.offer.title} » : {reason}", link("immersions.index"))


def select_applicant(actor: User, application: Application, *, selected: bool) -> Project | None:
    offer = application.offer
    capacities = policy.application_capacities(actor, application)
    if lifecycle.HOST not in capacities:
        raise NotAllowed("Seul le service d'accueil choisit parmi les candidatures.")
    if offer.kind != "mobility" or offer.state != "accepted":
        raise InvalidTransition("Cette offre n'est plus ouverte.")
    transition = APPLICATIONS.require(
        application.status, "select" if selected else "decline", capacities,
        impossible="Seules les candidatures ayant l'accord du N+1 peuvent être retenues.")
    if not selected:
        APPLICATIONS.enter(application, transition)
        application.decided_at = utcnow()
        record("immersion.not_selected", actor=actor, institution_id=offer.institution_id, target=application)
        notify([application.applicant], "my_time", "Votre candidature n'est pas retenue",
               f"Le service d'accueil n'a pas retenu votre candidature à « {offer.title} ».", link("immersions.index"))
        return None
    # Lock the offer (PostgreSQL; SQLite serialises writers) so that two hosts selecting at
    # once cannot exceed the places.
    db.session.execute(select(Proposal.id).where(Proposal.id == offer.id).with_for_update())
    taken = db.session.scalar(select(func.count()).select_from(Application).where(
        Application.offer_id == offer.id, Application.status == APPLICATIONS.target("select")))
    if taken >= (offer.places or 1):
        raise InvalidTransition(f"Les {offer.places} place(s) de cette offre sont déjà pourvues.")
    visitor = application.applicant
    _days, problems = immersion_checks(visitor, offer, application.starts_on, application.ends_on,
                                       exclude_id=application.id)
    if problems and immersion_settings(offer.institution_id).limits_mode == "refuse":
        raise InvalidTransition("Règles de l'immersion : " + " ; ".join(problems) + ".")
    hours = application.working_days * immersion_settings(offer.institution_id).daily_hours
    project = Project(institution_id=offer.institution_id, kind="immersion", state="active",
                      title=f"Immersion de {visitor.full_name} : {offer.title}", proposal_id=offer.id,
                      lead_id=offer.contact_id or offer.author_id, sponsor_id=offer.author.manager_id,
                      host_org_unit_id=offer.host_org_unit_id, objectives=offer.mission,
                      indicators=offer.learning, starts_on=application.starts_on, ends_on=application.ends_on,
                      charter_validated_at=utcnow(), charter_validated_by_id=actor.id)
    project.members.append(ProjectMember(user=visitor, role="Agent en immersion", hours_budget=hours))
    db.session.add(project)
    db.session.flush()
    done = db.session.execute(APPLICATIONS.update(Application, "select", Application.id == application.id)).rowcount
    if done != 1:
        raise InvalidTransition("Cette candidature vient d'être traitée par ailleurs.")
    db.session.refresh(application)
    application.project_id = project.id
    application.decided_at = utcnow()
    plan_immersion(project, visitor)
    record("immersion.selected", actor=actor, institution_id=offer.institution_id, target=application,
           data={"project_id": project.id})
    record("project.created", actor=actor, institution_id=offer.institution_id, target=project,
           data={"application_id": application.id}, public=True)
    notify([visitor], "my_time", "Votre candidature est retenue",
           f"Votre immersion « {offer.title} » est programmée du {project.starts_on:%d/%m/%Y} au {project.ends_on:%d/%m/%Y}.",
           link("projects.show", project_id=project.id))
    return project
