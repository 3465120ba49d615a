"""A notification leads to an endpoint and its values, made into an address when it is
shown (in the app, an email, a digest), never a path written by hand in a service."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from incubator.extensions import db
from incubator.notifications import services
from incubator.notifications.links import link
from incubator.notifications.models import Notification, OutboxMessage
from incubator.proposals import services as proposal_services
from tests.factories import make_notification, make_proposal, make_user
from tests.helpers import text


def test_a_notification_stores_its_endpoint_and_shows_its_address(client, login):
    author = make_user()
    proposal = make_proposal(author=author, state="draft")
    proposal_services.submit_proposal(author, proposal)
    db.session.commit()
    notification = db.session.scalar(select(Notification).where(Notification.user_id == author.id))
    assert (notification.link_endpoint, notification.link_values) == ("proposals.show",
                                                                      {"proposal_id": proposal.id})
    login(client, author)
    assert f'href="/propositions/{proposal.id}"' in text(client.get("/notifications"))
    email = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == author.email))
    assert email.text == ""  # rendered by the worker, when it sends it
    assert services.deliver_batch() == (1, 0)
    assert f"/propositions/{proposal.id}" in email.text


def test_query_values_and_anchors_and_addresses_outside_a_request(app):
    agent = make_user()
    services.notify([agent], "my_time", "Des heures de décharge sont refusées", "Une ligne refusée.",
                    link("release_time.week", semaine=date(2026, 11, 16)))
    services.notify([agent], "projects", "Un jalon est en retard", "Le jalon est en retard.",
                    link("projects.show", "jalons", project_id=7))
    db.session.flush()
    week, milestone = db.session.scalars(select(Notification).order_by(Notification.id)).all()
    assert week.url == "/mon-temps?semaine=2026-11-16"  # the week that holds the refusal
    assert milestone.url == "/projets/7#jalons"


def test_an_address_that_no_longer_exists_falls_back_to_the_recorded_path(client, login):
    agent = make_user()
    make_notification(agent, subject="Ancienne", body="x", link="/propositions/1",
                      link_endpoint="proposals.ancienne_page", link_values={"proposal_id": 1})
    make_notification(agent, subject="D'avant", body="x", link="/arbitrage/journal")
    login(client, agent)
    page = text(client.get("/notifications"))
    assert 'href="/propositions/1"' in page and 'href="/arbitrage/journal"' in page
