"""Factories: plain functions that add rows in the test's session and flush (the test
client commits before each request). Tests build their data here and nowhere else
(tests/core/test_test_hygiene.py checks it).

Every factory makes what it needs from the others when it is not given (`make_time_entry()`
alone makes an agent, a project they are a member of and a working day), and takes any
column as a keyword. Dates never fall on a weekend or a holiday when a working day matters
(tests/dates.py)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from sqlalchemy import func, insert, select
from werkzeug.security import generate_password_hash

from incubator.accounts.models import (
    AccountRequest,
    AccountToken,
    ExternalIdentity,
    LoginAttempt,
    SignInSettings,
)
from incubator.accounts.passwords import hash_password
from incubator.accounts.tokens import token_hash
from incubator.collective.models import CollectiveMembership
from incubator.extensions import db
from incubator.immersions.models import Application, ImmersionSettings
from incubator.notifications.models import Notification
from incubator.organisation.models import Institution, OrgUnit
from incubator.people.models import ApprovalDelegation, User, UserRole
from incubator.projects.models import (
    Milestone,
    ProgressUpdate,
    Project,
    ProjectMember,
    Retrospective,
)
from incubator.proposals.models import (
    CONTENT_FIELDS,
    CoAuthor,
    Comment,
    Proposal,
    ProposalVersion,
    Support,
    Theme,
)
from incubator.proposals.services import _refresh_search_text
from incubator.release_time import totals
from incubator.release_time.models import CapOverride, ReleaseSettings, TimeEntry
from incubator.review.decisions import record
from incubator.review.models import (
    DEFAULT_INELIGIBILITY_REASONS,
    AgendaItem,
    Assessment,
    AssessmentScore,
    Attendance,
    Conflict,
    Criterion,
    Decision,
    ReviewSession,
    ReviewSettings,
    Vote,
)
from incubator.text import normalise
from incubator.timeutil import today_paris, utcnow
from incubator.workdays import working_days

from .dates import working_span

DEFAULT_PASSWORD = "mot-de-passe-de-test"
_HASH: list[str] = []
_sequence = itertools.count(1)
_UNSET = object()  # "not given", where None is a value a test may want


def _default_hash() -> str:
    """The test agents' password hash. The application's (hash_password: scrypt) is slow on
    purpose, to hash and to check: 160 ms a sign-in on a slow 2-core machine, paid by each
    of the suite's sign-ins, minutes of `make test`. A check reads the method from the hash
    itself, so the agents the factories make carry a cheap one; the passwords the
    application hashes (sign-up, reset, `password=`) still go through hash_password."""
    if not _HASH:
        _HASH.append(generate_password_hash(DEFAULT_PASSWORD, method="pbkdf2:sha256:1000"))
    return _HASH[0]


def _saved(row):
    db.session.add(row)
    db.session.flush()
    return row


def _default_institution() -> Institution:
    """The test's institution (the first one made), or a new one."""
    return db.session.query(Institution).order_by(Institution.id).first() or make_institution()


def _institution_of(row) -> Institution:
    return db.session.get(Institution, row.institution_id)


# --------------------------------------------------------------------------- people


def make_institution(name: str | None = None, **fields) -> Institution:
    n = next(_sequence)
    return _saved(Institution(name=name or f"Commune n° {n}", slug=fields.pop("slug", f"commune-{n}"), **fields))


def make_org_unit(institution: Institution | None = None, *, code: str | None = None,
                  name: str | None = None, kind: str = "service", parent: OrgUnit | None = None,
                  **fields) -> OrgUnit:
    institution = institution or (parent.institution if parent else make_institution())
    n = next(_sequence)
    return _saved(OrgUnit(institution=institution, code=code or f"SRV-{n}", name=name or f"Service {n}",
                          kind=kind, parent=parent, **fields))


def make_user(*, institution: Institution | None = None, org_unit: OrgUnit | None = None,
              roles: tuple[str, ...] | list[str] = (), role: str | None = None,
              manager: User | None = None, password: str | None = None,
              email: str | None = _UNSET, first_name: str = "Alex", last_name: str | None = None,
              category: str = "B", quotite: int = 100, is_active: bool = True,
              collective: bool = False, activated: bool = True, **fields) -> User:
    """An agent with a password (`activated=False`: none yet); `email=None` for an agent
    without an address (give a `login_id`)."""
    if org_unit is None:
        institution = institution or (manager.institution if manager else None) or _default_institution()
        org_unit = make_org_unit(institution)
    institution = org_unit.institution
    n = next(_sequence)
    user = User(
        institution=institution, org_unit=org_unit, manager=manager,
        first_name=first_name, last_name=last_name or f"Agent{n}",
        email=None if email is None else (email if email is not _UNSET and email else f"agent{n}@example.fr").lower(),
        password_hash=None if not activated else hash_password(password) if password else _default_hash(),
        category=category, quotite=quotite, is_active=is_active, **fields,
    )
    for r in list(roles) + ([role] if role else []):
        user.roles.append(UserRole(institution=institution, role=r))
    _saved(user)
    if collective:
        make_collective_membership(user)
    return user


def make_role(user: User, role: str, **fields) -> UserRole:
    """One more role for an existing user, in their institution."""
    granted = UserRole(institution_id=fields.pop("institution_id", user.institution_id), role=role, **fields)
    user.roles.append(granted)
    db.session.flush()
    return granted


def make_collective_membership(user: User | None = None, *, starts_on: date = date(2020, 1, 1),
                               ends_on: date | None = None, **fields) -> CollectiveMembership:
    user = user or make_user()
    fields.setdefault("institution_id", user.institution_id)
    return _saved(CollectiveMembership(user=user, starts_on=starts_on, ends_on=ends_on, **fields))


def make_login_attempt(email: str | None = None, *, ip_address: str = "127.0.0.1", succeeded: bool = False,
                       **fields) -> LoginAttempt:
    return _saved(LoginAttempt(email=email or f"agent{next(_sequence)}@example.fr", ip_address=ip_address,
                               succeeded=succeeded, **fields))


def make_sign_in_settings(institution: Institution | None = None, *, siret: str | None = None,
                          email_domains: str = "", provisions_agents: bool = False,
                          agents_use_passwords: bool = True) -> SignInSettings:
    """An institution's single sign-on settings (accounts.sso)."""
    institution = institution or _default_institution()
    return _saved(SignInSettings(institution_id=institution.id, siret=siret, email_domains=email_domains,
                                 provisions_agents=provisions_agents,
                                 agents_use_passwords=agents_use_passwords))


def make_external_identity(user: User | None = None, *, issuer: str = "https://idp.example.fr",
                           subject: str | None = None) -> ExternalIdentity:
    """An agent's identity at an OpenID Connect provider, as a first sign-in links it."""
    user = user or make_user()
    return _saved(ExternalIdentity(user_id=user.id, issuer=issuer, subject=subject or f"sub-{next(_sequence)}"))


# --------------------------------------------------------------------------- proposals


def make_theme(institution: Institution | None = None, name: str | None = None, **fields) -> Theme:
    return _saved(Theme(institution=institution or _default_institution(), name=name or f"Thème {next(_sequence)}", **fields))


INITIATIVE_TEXT = {
    "problem": "Les interventions sont notées sur papier.",
    "change": "Un carnet numérique partagé par bâtiment.",
    "beneficiaries": "Les agents techniques et les usagers.",
    "gain": "Moins de diagnostics en double.",
    "needs": "Deux agents à 10 % pendant six mois.",
}


def make_proposal(*, author: User | None = None, state: str = "submitted", kind: str = "initiative",
                  title: str | None = None, coauthors: tuple[User, ...] = (),
                  invited: tuple[User, ...] = (), **fields) -> Proposal:
    """A complete proposal in `state` (drafts have no submission date). Text fields are
    copied into its first version; other columns (`submitted_at`...) are the proposal's."""
    author = author or make_user()
    content = dict(INITIATIVE_TEXT) if kind == "initiative" else {
        "mission": "Accueillir les habitants.", "learning": "Les questions des habitants.",
        "contribution": "Un regard neuf.", "duration_days": 3, "places": 1, "open_to": "institution",
        "window_starts_on": today_paris() + timedelta(days=100),
        "window_ends_on": today_paris() + timedelta(days=160),
        "host_org_unit_id": author.org_unit_id, "contact_id": author.id,
    }
    content.update({k: v for k, v in fields.items() if k in CONTENT_FIELDS})
    content["title"] = title or f"Proposition n° {next(_sequence)}"
    own = {k: v for k, v in fields.items() if k not in CONTENT_FIELDS}
    if state != "draft":
        own.setdefault("submitted_at", utcnow())
        own.setdefault("version_number", 1)
    proposal = _saved(Proposal(institution_id=author.institution_id, kind=kind, state=state, author=author,
                               org_unit_id=author.org_unit_id, **content, **own))
    if state != "draft":
        db.session.add(ProposalVersion(proposal_id=proposal.id, number=1, submitted_by=author, **content))
    for user in coauthors:
        make_coauthor(proposal, user, status="accepted")
    for user in invited:
        make_coauthor(proposal, user, status="invited")
    db.session.flush()
    _refresh_search_text(proposal)
    return proposal


def make_many_proposals(author: User, count: int, *, title: str = "Proposition générée {n}",
                        every: timedelta = timedelta(minutes=1), ago: timedelta = timedelta(0)) -> None:
    """`count` submitted proposals in one statement (no version, no co-author), newest
    first, for the tests of volume: mixed kinds, states and support counts. The n-th is
    titled `title` with its number and submitted `ago` + n × `every` before now."""
    now = utcnow()
    db.session.execute(insert(Proposal), [
        {"institution_id": author.institution_id, "kind": "initiative" if n % 3 else "mobility",
         "state": ("submitted", "in_review", "accepted", "rejected")[n % 4], "author_id": author.id,
         "org_unit_id": author.org_unit_id, "title": title.format(n=n),
         "search_text": normalise(title.format(n=n)), "submitted_at": now - ago - every * n,
         "state_changed_at": now - ago - every * n, "created_at": now, "updated_at": now,
         "support_count": n % 17, "comment_count": 0, "version_number": 1}
        for n in range(count)
    ])


def make_coauthor(proposal: Proposal | None = None, user: User | None = None, *, status: str = "invited",
                  **fields) -> CoAuthor:
    proposal = proposal or make_proposal()
    coauthor = CoAuthor(user=user or make_user(institution=proposal.institution), status=status, **fields)
    proposal.coauthors.append(coauthor)
    db.session.flush()
    return coauthor


def make_support(proposal: Proposal | None = None, user: User | None = None, **fields) -> Support:
    """A backer, counted on the proposal as the service counts it."""
    proposal = proposal or make_proposal()
    user = user or make_user(institution=proposal.institution)
    proposal.support_count = (proposal.support_count or 0) + 1
    return _saved(Support(proposal_id=proposal.id, user_id=user.id, **fields))


def make_comment(proposal: Proposal | None = None, author: User | None = None, *, body: str = "Un avis.",
                 **fields) -> Comment:
    """A comment, counted on the proposal as the service counts it."""
    proposal = proposal or make_proposal()
    author = author or make_user(institution=proposal.institution)
    proposal.comment_count = (proposal.comment_count or 0) + 1
    return _saved(Comment(proposal_id=proposal.id, author_id=author.id, body=body, **fields))


# --------------------------------------------------------------------------- review


def make_criterion(institution: Institution | None = None, name: str | None = None, weight: int = 1,
                   **fields) -> Criterion:
    fields.setdefault("description", "Ce que l'on évalue.")
    return _saved(Criterion(institution_id=(institution or _default_institution()).id, name=name or f"Critère {next(_sequence)}",
                            weight=weight, **fields))


def make_settings(institution: Institution | None = None, **fields) -> ReviewSettings:
    institution = institution or _default_institution()
    values = {"decision_rule": "majority", "quorum_percent": 50, "votes_public": False, "target_days": 60,
              "ineligibility_reasons": list(DEFAULT_INELIGIBILITY_REASONS), **fields}
    return _saved(ReviewSettings(institution_id=institution.id, **values))


def make_session(institution: Institution | None = None, *, days_ahead: int = 7, created_by: User | None = None,
                 **fields) -> ReviewSession:
    """A session of the collective `days_ahead` days from now (or at `starts_at`)."""
    institution = institution or (created_by.institution if created_by else _default_institution())
    fields.setdefault("starts_at", utcnow() + timedelta(days=days_ahead))
    fields.setdefault("place", "Salle du conseil")
    return _saved(ReviewSession(institution_id=institution.id,
                                created_by_id=(created_by or make_user(institution=institution)).id, **fields))


def make_agenda_item(session: ReviewSession | None = None, proposal: Proposal | None = None, *,
                     status: str = "pending", **fields) -> AgendaItem:
    """`proposal` on the agenda of `session`, after the items already there."""
    if session is None:
        session = make_session(proposal.institution if proposal else None)
    proposal = proposal or make_proposal(author=make_user(institution=_institution_of(session)), state="scheduled")
    if "position" not in fields:
        fields["position"] = 1 + db.session.scalar(
            select(func.count()).select_from(AgendaItem).where(AgendaItem.session_id == session.id))
    fields.setdefault("tally", {})
    return _saved(AgendaItem(session_id=session.id, proposal_id=proposal.id, status=status, **fields))


def make_attendance(session: ReviewSession | None = None, user: User | None = None) -> Attendance:
    session = session or make_session()
    user = user or make_user(institution=_institution_of(session), collective=True)
    return _saved(Attendance(session_id=session.id, user_id=user.id))


def make_vote(item: AgendaItem | None = None, user: User | None = None, *, choice: str = "for",
              **fields) -> Vote:
    item = item or make_agenda_item(status="voting")
    user = user or make_user(institution=_institution_of(item.session), collective=True)
    return _saved(Vote(item_id=item.id, user_id=user.id, choice=choice, **fields))


DECISION_KINDS = {"eligible": "eligibility", "not_eligible": "eligibility", "reopened": "correction"}


def make_decision(proposal: Proposal | None = None, *, outcome: str = "accepted", kind: str | None = None,
                  rationale: str = "Motivation de la décision.", item: AgendaItem | None = None,
                  decided_by: User | None = None, **fields) -> Decision:
    """A published decision on `proposal` (on `item`'s proposal, with its tally, when an
    agenda item is given). The kind follows the outcome unless given: eligibility for
    (not) eligible, correction for reopened, session otherwise."""
    proposal = proposal or (item.proposal if item else make_proposal(
        state=outcome if outcome in ("accepted", "rejected", "not_eligible", "changes_requested") else "in_review"))
    if item is not None:
        fields.setdefault("session_id", item.session_id)
        fields.setdefault("tally", item.tally)
    decided_by = decided_by or make_user(institution=proposal.institution, roles=["coordinator"])
    return record(Decision(institution_id=proposal.institution_id, proposal_id=proposal.id,
                           item_id=item.id if item else None, kind=kind or DECISION_KINDS.get(outcome, "session"),
                           outcome=outcome, rationale=rationale, decided_by_id=decided_by.id, **fields),
                  proposal)


def make_assessment(proposal: Proposal | None = None, user: User | None = None, *,
                    scores: dict[Criterion, int] | None = None, **fields) -> Assessment:
    """A member's assessment of `proposal`, with a score per criterion given."""
    proposal = proposal or make_proposal(state="in_review")
    user = user or make_user(institution=proposal.institution, collective=True)
    assessment = Assessment(proposal_id=proposal.id, user_id=user.id, **fields)
    for criterion, score in (scores or {}).items():
        assessment.scores.append(AssessmentScore(criterion_id=criterion.id, score=score))
    return _saved(assessment)


def make_conflict(proposal: Proposal | None = None, user: User | None = None, *,
                  reason: str = "Je travaille avec l'auteur.", **fields) -> Conflict:
    proposal = proposal or make_proposal()
    user = user or make_user(institution=proposal.institution, collective=True)
    return _saved(Conflict(proposal_id=proposal.id, user_id=user.id, reason=reason, **fields))


# --------------------------------------------------------------------------- projects


def make_project(institution: Institution | None = None, *, title: str | None = None,
                 kind: str = "initiative", state: str = "active", lead: User | None = None,
                 sponsor: User | None = None, proposal: Proposal | None = None, members: tuple[User, ...] = (),
                 member_role: str | None = None, hours_budget: int = 0, **fields) -> Project:
    """A project in `state`; `members` join it with `member_role` and `hours_budget` (the
    lead is a member only when listed). Charter fields (objectives, dates...) as keywords."""
    people = [p for p in (lead, sponsor, *members) if p is not None]
    institution = institution or (proposal.institution if proposal else None) \
        or (people[0].institution if people else None) or _default_institution()
    related = {k: v for k, v in (("lead", lead), ("sponsor", sponsor), ("proposal", proposal)) if v is not None}
    project = Project(institution_id=institution.id, kind=kind, state=state,
                      title=title or f"Projet n° {next(_sequence)}", **related, **fields)
    for user in members:
        project.members.append(ProjectMember(user=user, hours_budget=hours_budget,
                                             **({"role": member_role} if member_role else {})))
    return _saved(project)


def make_project_member(project: Project | None = None, user: User | None = None, **fields) -> ProjectMember:
    project = project or make_project()
    member = ProjectMember(user=user or make_user(institution=_institution_of(project)), **fields)
    project.members.append(member)
    db.session.flush()
    return member


def make_milestone(project: Project | None = None, *, title: str | None = None, due_on: date | None = None,
                   **fields) -> Milestone:
    """A milestone, due in a month unless `due_on` says otherwise."""
    project = project or make_project()
    milestone = Milestone(title=title or f"Jalon n° {next(_sequence)}",
                          due_on=due_on or today_paris() + timedelta(days=30), **fields)
    project.milestones.append(milestone)
    db.session.flush()
    return milestone


def _someone_of(project: Project) -> User:
    return project.lead or (project.members[0].user if project.members else
                            make_user(institution=_institution_of(project)))


def make_progress_update(project: Project | None = None, author: User | None = None, *, progress: int = 50,
                         text: str = "Le carnet est testé dans deux bâtiments.", **fields) -> ProgressUpdate:
    project = project or make_project(lead=make_user())
    return _saved(ProgressUpdate(project_id=project.id, author_id=(author or _someone_of(project)).id,
                                 progress=progress, text=text, **fields))


def make_retrospective(project: Project | None = None, author: User | None = None, **fields) -> Retrospective:
    project = project or make_project(lead=make_user(), state="completed")
    values = {"worked": "Le carnet partagé.", "did_not_work": "La saisie sur le terrain.",
              "reusable": "Le modèle de fiche.", "indicators_reached": "Deux diagnostics évités.", **fields}
    return _saved(Retrospective(project_id=project.id, author_id=(author or _someone_of(project)).id, **values))


# --------------------------------------------------------------------------- immersions


def make_immersion_settings(institution: Institution | None = None, **fields) -> ImmersionSettings:
    return _saved(ImmersionSettings(institution_id=(institution or _default_institution()).id, **fields))


def make_release_settings(institution: Institution | None = None, **fields) -> ReleaseSettings:
    values = {"monthly_cap_percent": 20, "daily_minutes_full_time": 420, **fields}
    return _saved(ReleaseSettings(institution_id=(institution or _default_institution()).id, **values))


def make_application(offer: Proposal | None = None, applicant: User | None = None, *, status: str = "submitted",
                     starts_on: date | None = None, ends_on: date | None = None, manager=_UNSET,
                     motivation: str = "Découvrir le métier et les outils du service.", **fields) -> Application:
    """An application to a mobility offer: by default an agent with an N+1, for two
    working days in the offer's window (or three months and more from today)."""
    offer = offer or make_proposal(kind="mobility", state="accepted")
    applicant = applicant or make_user(institution=offer.institution,
                                       manager=make_user(institution=offer.institution))
    if starts_on is None:
        starts_on, ends_on = working_span(0, 2, today=offer.window_starts_on or today_paris() + timedelta(days=100))
    ends_on = ends_on or starts_on
    fields.setdefault("working_days", working_days(starts_on, ends_on))
    return _saved(Application(offer_id=offer.id, applicant_id=applicant.id,
                              manager_id=(applicant.manager_id if manager is _UNSET else manager and manager.id),
                              motivation=motivation, starts_on=starts_on, ends_on=ends_on, status=status, **fields))


# --------------------------------------------------------------------------- release time


def make_time_entry(user: User | None = None, project: Project | None = None, *, day: date | None = None,
                    minutes: int | None = None, hours: float | None = None, status: str = "draft",
                    **fields) -> TimeEntry:
    """Released time on one day. Without a user: a new agent, made a member of `project`
    (of a new active project when none is given). The day is a past working day unless
    given; lines past the draft have their submission time."""
    if user is None:
        user = make_user(institution=_institution_of(project) if project else None)
        if project is not None:
            make_project_member(project, user)
    project = project or make_project(members=(user,), hours_budget=100)
    if minutes is None:
        minutes = round((hours if hours is not None else 1) * 60)
    if status not in ("planned", "draft"):
        fields.setdefault("submitted_at", utcnow())
    entry = _saved(TimeEntry(institution_id=user.institution_id, user_id=user.id, project_id=project.id,
                             day=day or working_span(-14, 1)[0], minutes=minutes, status=status, **fields))
    if entry.status == "approved":
        # Approved as the approval service would: with the dashboard's totals in step.
        totals.recount([(entry.user_id, entry.day)])
    return entry


def make_cap_override(user: User | None = None, *, month: date | None = None, granted_by: User | None = None,
                      reason: str = "Une semaine de lancement chargée.", **fields) -> CapOverride:
    """The N+1 lets `user` exceed the monthly cap (this month unless `month` is given)."""
    user = user or make_user(manager=make_user())
    granted_by = granted_by or user.manager or make_user(institution=user.institution)
    return _saved(CapOverride(user_id=user.id, month=(month or today_paris()).replace(day=1),
                              granted_by_id=granted_by.id, reason=reason, **fields))


def make_approval_delegation(manager: User | None = None, delegate: User | None = None, *,
                             starts_on: date | None = None, ends_on: date | None = None,
                             **fields) -> ApprovalDelegation:
    """`manager` hands their approvals to `delegate`, for two weeks from today by default."""
    manager = manager or make_user()
    delegate = delegate or make_user(org_unit=manager.org_unit)
    starts_on = starts_on or today_paris()
    return _saved(ApprovalDelegation(institution_id=manager.institution_id, manager_id=manager.id,
                                     delegate_id=delegate.id, starts_on=starts_on,
                                     ends_on=ends_on or starts_on + timedelta(days=14), **fields))


# --------------------------------------------------------------------------- notifications


def make_notification(user: User | None = None, *, category: str = "proposals", subject: str | None = None,
                      body: str = "Le détail.", link: str = "/", **fields) -> Notification:
    return _saved(Notification(user_id=(user or make_user()).id, category=category,
                               subject=subject or f"Notification n° {next(_sequence)}", body=body, link=link,
                               **fields))


def make_account_token(user: User | None = None, *, purpose: str = "invitation", secret: str | None = None,
                       **fields) -> AccountToken:
    """A stored token (its hash) for `user`; `secret` is what the link or the sheet carries."""
    user = user or make_user(activated=False)
    now = utcnow()
    return _saved(AccountToken(user_id=user.id, purpose=purpose, token_hash=token_hash(secret or f"secret-{next(_sequence)}"),
                               created_at=fields.pop("created_at", now),
                               expires_at=fields.pop("expires_at", now + timedelta(days=7)), **fields))


def make_account_request(key: str | None = None, *, kind: str = "reset", ip_address: str = "127.0.0.1",
                         **fields) -> AccountRequest:
    """A counted request: a reset asked for `key` (an address), or a wrong code ("code")."""
    return _saved(AccountRequest(kind=kind, key=key or f"adresse{next(_sequence)}@example.fr",
                                 ip_address=ip_address, **fields))
