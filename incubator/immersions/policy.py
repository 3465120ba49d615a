"""Who does what in an immersion: the hosts of an offer, what an actor is to an application,
and who reads the immersion's agreement (the two institutions' people of the immersion)."""

from __future__ import annotations

from sqlalchemy import func, select

from ..errors import not_now
from ..extensions import db
from ..people.models import User
from ..projects.models import Project
from ..proposals.models import Proposal
from . import lifecycle
from .models import Application


def host_ids(offer: Proposal) -> set[int]:
    """Who hosts: the offer's author, its contact, and the author's N+1."""
    return {i for i in (offer.author_id, offer.contact_id, offer.author.manager_id) if i}


def is_open_to(actor: User, offer: Proposal) -> bool:
    """A published mobility offer, of the actor's institution or open to partners."""
    return (offer.kind == "mobility" and offer.state == "accepted"
            and (offer.institution_id == actor.institution_id or offer.open_to == "partners"))


FULL = ("Toutes les places de cette offre sont pourvues : elle n'accepte plus de candidatures. "
        "D'autres offres sont ouvertes sur la page Immersions.")


def taken_places(offer_ids) -> dict[int, int]:
    """Selected applications per offer (the places taken), in one query."""
    ids = list(offer_ids)
    if not ids:
        return {}
    return dict(db.session.execute(
        select(Application.offer_id, func.count()).where(
            Application.offer_id.in_(ids), Application.status == lifecycle.APPLICATIONS.target("select"))
        .group_by(Application.offer_id)).all())


def is_full(offer: Proposal, taken: int | None = None) -> bool:
    """Every place of the offer is taken (an offer without a number of places has one).
    `taken`: the count when the caller read it for many offers (taken_places)."""
    if taken is None:
        taken = taken_places([offer.id]).get(offer.id, 0)
    return taken >= (offer.places or 1)


def full_clause():
    """SQL on Proposal: `is_full`, for lists of offers."""
    taken = (select(func.count()).select_from(Application)
             .where(Application.offer_id == Proposal.id,
                    Application.status == lifecycle.APPLICATIONS.target("select"))
             .scalar_subquery())
    return taken >= func.coalesce(Proposal.places, 1)


def can_apply(actor: User, offer: Proposal, *, taken: int | None = None) -> str | None:
    """An agent applies to an offer open to them, never to their own, while a place is
    left (409 otherwise: the offer's state, not who asks)."""
    if not is_open_to(actor, offer):
        return "Cette offre n'est pas ouverte à votre candidature."
    if actor.id in (offer.author_id, offer.contact_id):
        return "On ne candidate pas à sa propre offre."
    if is_full(offer, taken):
        return not_now(FULL)
    return None


def application_capacities(actor: User, application: Application) -> set[str]:
    """What `actor` is to an application, in the applications table's terms."""
    found = set()
    if actor.id == application.applicant_id:
        found.add(lifecycle.APPLICANT)
    if actor.id == application.manager_id:
        found.add(lifecycle.MANAGER)
    if actor.id in host_ids(application.offer):
        found.add(lifecycle.HOST)
    return found


# The roles that read an immersion's agreement in either of the two institutions.
CONVENTION_ROLES = frozenset({"coordinator", "hr", "admin"})

CONVENTION_REFUSED = ("Ce document d'immersion ne peut être lu que par l'agent en immersion, son N+1, "
                      "le service d'accueil, et l'animation du collectif, les RH ou l'administration "
                      "des collectivités concernées.")


def convention_application(project: Project) -> Application | None:
    """The selected application an immersion project comes from (None for other projects)."""
    if project.kind != "immersion":
        return None
    return db.session.scalar(select(Application).where(Application.project_id == project.id))


def can_read_convention(actor: User, project: Project, application: Application | None = None) -> bool:
    """The immersion's agreement (or internal immersion sheet) names an agent, their
    manager and their dates: it is read by the immersed agent, their N+1 (the one who
    consented and the current one), the host (the offer's people, the project's tutor and
    sponsor), and the coordinators, HR officers and administrators of the two
    institutions, the agent's and the host's."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    application = application or convention_application(project)
    if application is None:
        return False
    visitor = application.applicant
    people = {visitor.id, visitor.manager_id, application.manager_id, project.lead_id,
              project.sponsor_id, *host_ids(application.offer)}
    if actor.id in people:
        return True
    return (actor.institution_id in (project.institution_id, visitor.institution_id)
            and bool(actor.role_names & CONVENTION_ROLES))
