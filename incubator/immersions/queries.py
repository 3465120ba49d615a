"""Read queries of the immersions page, in a fixed number of SQL queries."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..people.models import User
from ..proposals.models import Proposal
from .lifecycle import APPLICATIONS
from .models import Application
from .policy import full_clause


def published_offers(user: User) -> list[Proposal]:
    """Accepted mobility offers the user may see (own institution, or open to partners) that
    still have a place: a full offer leaves the list (its page still says « Complète »)."""
    return list(db.session.scalars(
        select(Proposal).where(Proposal.kind == "mobility", Proposal.state == "accepted",
                               or_(Proposal.institution_id == user.institution_id, Proposal.open_to == "partners"),
                               ~full_clause())
        .options(selectinload(Proposal.host_org_unit), selectinload(Proposal.institution),
                 selectinload(Proposal.contact))
        .order_by(Proposal.window_starts_on, Proposal.id)))


def hosted_offers(user: User):
    """SQL: the ids of the mobility offers `user` hosts (policy.host_ids: the author, the
    contact, the author's N+1)."""
    author_manager = select(User.manager_id).where(User.id == Proposal.author_id).scalar_subquery()
    return select(Proposal.id).where(Proposal.kind == "mobility", or_(
        Proposal.author_id == user.id, Proposal.contact_id == user.id, author_manager == user.id))


def awaiting_consent(user: User):
    """SQL on Application: those waiting for `user`'s consent as the applicant's N+1."""
    return and_(Application.manager_id == user.id, Application.status.in_(APPLICATIONS.sources("consent")))


def awaiting_selection(user: User):
    """SQL on Application: consented applications to `user`'s offers, waiting for the host."""
    return and_(Application.offer_id.in_(hosted_offers(user)), Application.status.in_(APPLICATIONS.sources("select")))


def applications_overview(user: User):
    """My applications; those awaiting my consent as N+1; those to select as host."""
    options = (selectinload(Application.offer).selectinload(Proposal.author),
               selectinload(Application.applicant).selectinload(User.institution),
               selectinload(Application.manager))
    mine = db.session.scalars(select(Application).where(Application.applicant_id == user.id)
                              .options(*options).order_by(Application.created_at.desc())).all()
    to_consent = db.session.scalars(select(Application).where(awaiting_consent(user))
                                    .options(*options).order_by(Application.created_at)).all()
    to_select = db.session.scalars(select(Application).where(
        Application.offer_id.in_(hosted_offers(user)), Application.status.in_(("consented", "selected", "not_selected")))
        .options(*options).order_by(Application.created_at)).all()
    return list(mine), list(to_consent), list(to_select)
