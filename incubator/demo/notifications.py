"""A few notifications in each demo account's list, so that the page shows what it is for."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ..extensions import db
from ..notifications.models import Notification
from ..people.models import User
from ..proposals.models import Proposal
from ..timeutil import utcnow


def seed(named: dict[str, User]) -> None:
    now = utcnow()
    accepted = db.session.scalar(select(Proposal).where(Proposal.author_id == named["agent"].id,
                                                        Proposal.state == "accepted").limit(1))
    to_assess = db.session.scalar(select(Proposal).where(Proposal.institution_id == named["agent"].institution_id,
                                                         Proposal.state == "in_review").limit(1))
    rows = [
        (named["agent"], "my_time", "Des heures de décharge sont refusées",
         "Karim Benali a refusé des heures : Ce jour-là vous étiez d'astreinte. Corrigez-les et transmettez à nouveau.",
         "/mon-temps", 2, False),
        (named["agent"], "proposals", "Décision sur votre proposition",
         f"Le collectif pilote a retenu « {accepted.title} ». Un projet est ouvert." if accepted else "Décision publiée.",
         f"/propositions/{accepted.id}" if accepted else "/propositions", 40, True),
        (named["encadrant"], "approvals", "Des heures attendent votre validation",
         "Camille Martin a transmis ses heures de la semaine dernière.", "/validations", 1, False),
        (named["collectif"], "collective", "Une nouvelle proposition à évaluer",
         f"« {to_assess.title} » est en instruction : vous pouvez l'évaluer." if to_assess else "À évaluer.",
         f"/arbitrage/evaluer/{to_assess.id}" if to_assess else "/arbitrage/a-evaluer", 3, False),
    ]
    for user, category, subject, body, link, days, read in rows:
        created = now - timedelta(days=days)
        db.session.add(Notification(user_id=user.id, category=category, subject=subject, body=body, link=link,
                                    created_at=created, read_at=created + timedelta(hours=2) if read else None))
    db.session.flush()
