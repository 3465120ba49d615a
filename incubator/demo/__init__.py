"""Demo data: the fictional Ville de Belleville-sur-Loire and its CCAS.

Each domain adds its part in its own module; `seed()` runs them in order.
"""

from __future__ import annotations

from . import accounts, notifications, projects, proposals, release_time, review

DEMO_PASSWORD = "incubateur-demo"

DEMO_ACCOUNTS = [
    ("agent@demo.incubateur.fr", "agent (N+1 : encadrant@demo.incubateur.fr)"),
    ("encadrant@demo.incubateur.fr", "encadrant, N+1 de plusieurs agents"),
    ("collectif@demo.incubateur.fr", "membre du collectif pilote"),
    ("animation@demo.incubateur.fr", "animatrice du collectif (et membre)"),
    ("rh@demo.incubateur.fr", "gestionnaire RH"),
    ("admin@demo.incubateur.fr", "administratrice (collectivité et instance)"),
    ("admin@ccas.demo.incubateur.fr", "administrateur du CCAS (seconde collectivité)"),
]


def seed() -> None:
    named = accounts.seed(DEMO_PASSWORD)
    proposals.seed(named)
    review.seed(named)
    projects.seed(named)
    release_time.seed(named)
    notifications.seed(named)
    accounts.seed_access(named)
