"""Factories: plain functions that add rows in the test's session (committed before
each request by the test client)."""

from __future__ import annotations

import itertools
from datetime import date

from incubator.accounts.passwords import hash_password
from incubator.collective.models import CollectiveMembership
from incubator.extensions import db
from incubator.organisation.models import Institution, OrgUnit
from incubator.people.models import User, UserRole

DEFAULT_PASSWORD = "mot-de-passe-de-test"
_HASH: list[str] = []
_sequence = itertools.count(1)


def _default_hash() -> str:
    if not _HASH:  # hashing is slow on purpose: do it once for the whole run
        _HASH.append(hash_password(DEFAULT_PASSWORD))
    return _HASH[0]


def make_institution(name: str | None = None, **fields) -> Institution:
    n = next(_sequence)
    institution = Institution(name=name or f"Commune n° {n}", slug=fields.pop("slug", f"commune-{n}"), **fields)
    db.session.add(institution)
    db.session.flush()
    return institution


def make_org_unit(institution: Institution | None = None, *, code: str | None = None,
                  name: str | None = None, kind: str = "service", parent: OrgUnit | None = None,
                  **fields) -> OrgUnit:
    institution = institution or (parent.institution if parent else make_institution())
    n = next(_sequence)
    unit = OrgUnit(institution=institution, code=code or f"SRV-{n}", name=name or f"Service {n}",
                   kind=kind, parent=parent, **fields)
    db.session.add(unit)
    db.session.flush()
    return unit


def make_user(*, institution: Institution | None = None, org_unit: OrgUnit | None = None,
              roles: tuple[str, ...] | list[str] = (), role: str | None = None,
              manager: User | None = None, password: str | None = None,
              email: str | None = None, first_name: str = "Alex", last_name: str | None = None,
              category: str = "B", quotite: int = 100, is_active: bool = True,
              collective: bool = False, **fields) -> User:
    if org_unit is None:
        institution = institution or (manager.institution if manager else None)
        if institution is None:
            institution = db.session.query(Institution).order_by(Institution.id).first() or make_institution()
        org_unit = make_org_unit(institution)
    institution = org_unit.institution
    n = next(_sequence)
    user = User(
        institution=institution, org_unit=org_unit, manager=manager,
        first_name=first_name, last_name=last_name or f"Agent{n}",
        email=(email or f"agent{n}@example.fr").lower(),
        password_hash=hash_password(password) if password else _default_hash(),
        category=category, quotite=quotite, is_active=is_active, **fields,
    )
    for r in list(roles) + ([role] if role else []):
        user.roles.append(UserRole(institution=institution, role=r))
    db.session.add(user)
    db.session.flush()
    if collective:
        db.session.add(CollectiveMembership(institution=institution, user=user,
                                            starts_on=date(2020, 1, 1)))
        db.session.flush()
    return user


def make_theme(institution: Institution, name: str | None = None, **fields):
    from incubator.proposals.models import Theme

    theme = Theme(institution=institution, name=name or f"Thème {next(_sequence)}", **fields)
    db.session.add(theme)
    db.session.flush()
    return theme


INITIATIVE_TEXT = {
    "problem": "Les interventions sont notées sur papier.",
    "change": "Un carnet numérique partagé par bâtiment.",
    "beneficiaries": "Les agents techniques et les usagers.",
    "gain": "Moins de diagnostics en double.",
    "needs": "Deux agents à 10 % pendant six mois.",
}


def make_proposal(*, author: User | None = None, state: str = "submitted", kind: str = "initiative",
                  title: str | None = None, coauthors: tuple[User, ...] = (),
                  invited: tuple[User, ...] = (), **fields):
    """A complete proposal in `state` (drafts have no submission date)."""
    from datetime import timedelta

    from incubator.proposals.models import CoAuthor, Proposal, ProposalVersion
    from incubator.proposals.services import _refresh_search_text
    from incubator.timeutil import today_paris, utcnow

    author = author or make_user()
    content = dict(INITIATIVE_TEXT) if kind == "initiative" else {
        "mission": "Accueillir les habitants.", "learning": "Les questions des habitants.",
        "contribution": "Un regard neuf.", "duration_days": 3, "places": 1, "open_to": "institution",
        "window_starts_on": today_paris() + timedelta(days=100),
        "window_ends_on": today_paris() + timedelta(days=160),
        "host_org_unit_id": author.org_unit_id, "contact_id": author.id,
    }
    content.update(fields)
    proposal = Proposal(institution_id=author.institution_id, kind=kind, state=state,
                        author=author, org_unit_id=author.org_unit_id,
                        title=title or f"Proposition n° {next(_sequence)}", **content)
    if state != "draft":
        proposal.submitted_at = utcnow()
        proposal.version_number = 1
    db.session.add(proposal)
    db.session.flush()
    if state != "draft":
        db.session.add(ProposalVersion(proposal_id=proposal.id, number=1, submitted_by=author,
                                       title=proposal.title, **{k: v for k, v in content.items()}))
    for user in coauthors:
        proposal.coauthors.append(CoAuthor(user=user, status="accepted"))
    for user in invited:
        proposal.coauthors.append(CoAuthor(user=user, status="invited"))
    db.session.flush()
    _refresh_search_text(proposal)
    return proposal


def make_criterion(institution: Institution, name: str | None = None, weight: int = 1, **fields):
    from incubator.review.models import Criterion

    criterion = Criterion(institution_id=institution.id, name=name or f"Critère {next(_sequence)}",
                          description="Ce que l'on évalue.", weight=weight, **fields)
    db.session.add(criterion)
    db.session.flush()
    return criterion


def make_session(institution: Institution, *, days_ahead: int = 7, created_by: User | None = None):
    from datetime import timedelta

    from incubator.review.models import ReviewSession
    from incubator.timeutil import utcnow

    session = ReviewSession(institution_id=institution.id, starts_at=utcnow() + timedelta(days=days_ahead),
                            place="Salle du conseil",
                            created_by_id=(created_by or make_user(institution=institution)).id)
    db.session.add(session)
    db.session.flush()
    return session


def make_settings(institution: Institution, **fields):
    from incubator.review.models import DEFAULT_INELIGIBILITY_REASONS, ReviewSettings

    settings = ReviewSettings(institution_id=institution.id, decision_rule=fields.pop("decision_rule", "majority"),
                              quorum_percent=fields.pop("quorum_percent", 50), votes_public=False,
                              target_days=60, ineligibility_reasons=list(DEFAULT_INELIGIBILITY_REASONS), **fields)
    db.session.add(settings)
    db.session.flush()
    return settings
