"""The benchmark dataset: a network of institutions at the size of a large one.

At `full` scale: 20,000 agents in a realistic org tree (pôles, directions, services), of
whom 19,200 in the main institution (the one the load run logs into), 100,000 proposals
over five years in every state with their versions, supports, comments, assessments,
sessions, votes and decisions, 10,000 projects with their teams and milestones,
1,000,000 release-time entries and 200,000 notifications. `small` is 1/100 of that,
`medium` 1/10. Everything is written with explicit ids through bulk inserts.

The bench personas of the main institution (all with the password BENCH_PASSWORD):
  rh@bench.incubateur.fr          HR
  animation@bench.incubateur.fr   coordinator of the collective
  encadrant@bench.incubateur.fr   N+1 of 40 agents, each with a submitted week
  valideur@bench.incubateur.fr    N+1 of 40 other agents with 150 weeks waiting (the approval write)
  agent01..agent16@...            project members with a week of time to fill
  membre01..membre16@...          collective members present at today's open vote
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime

from incubator.demo.accounts import FIRST_NAMES, LAST_NAMES, _ascii
from incubator.demo.proposals import COMMENTS, INITIATIVES, OFFERS, THEMES
from incubator.demo.review import CRITERIA, RATIONALES
from incubator.proposals.models import INITIATIVE_FIELDS
from incubator.release_time import totals
from incubator.review.decisions import first_answers_statement
from incubator.review.models import DEFAULT_INELIGIBILITY_REASONS
from incubator.text import normalise
from incubator.timeutil import today_paris, utcnow

from .loader import Loader

SCALES = {"small": 0.01, "medium": 0.1, "full": 1.0}
FULL = {"agents": 20_000, "proposals": 100_000, "projects": 10_000, "time_entries": 1_000_000,
        "notifications": 200_000}
BENCH_PASSWORD = "bench-incubateur"
DOMAIN = "bench.incubateur.fr"
PERSONAS = 16
# Waiting weeks of the validator's team: 40 agents x 150 weeks, 6,000 approvals to make (at 4 then
# 16 clients for 6 s each, some 2,800 on the reference machine: a week approved twice is a 409).
APPROVAL_WEEKS = 150
MAIN_SHARE = 0.96  # of agents, proposals and projects; four partner communes share the rest
PARTNERS = ["Commune de Saint-Aubin-sur-Loire", "Commune de Montreuil-Bellay",
            "Commune des Ponts-de-Cé", "CCAS de Bellerive"]
POLES = ["Pôle ressources", "Pôle aménagement et environnement", "Pôle solidarités et citoyenneté",
         "Pôle éducation, culture et sports"]
DIRECTION_NAMES = [
    "Ressources humaines", "Finances", "Commande publique", "Systèmes d'information",
    "Voirie et réseaux", "Espaces verts", "Bâtiments", "Urbanisme", "Eau et assainissement",
    "Action sociale", "Relation aux usagers", "Petite enfance", "Éducation", "Culture",
    "Sports", "Mobilités",
]
SERVICE_WORDS = ["Accueil", "Gestion", "Études", "Exploitation", "Maintenance", "Projets",
                 "Secteur nord", "Secteur sud", "Secteur est", "Secteur ouest", "Qualité", "Ateliers"]
# Answered proposals end in these states, with these shares (the rest is in progress).
TERMINAL = [("accepted", 0.30), ("rejected", 0.30), ("not_eligible", 0.18),
            ("changes_requested", 0.07), ("withdrawn", 0.05)]
TERMINAL_STATES = {"accepted", "rejected", "not_eligible", "withdrawn"}
IN_PROGRESS = [("submitted", 0.35), ("in_review", 0.40), ("scheduled", 0.25)]
PROJECT_STATES = [("framing", 0.10), ("active", 0.35), ("on_hold", 0.05), ("completed", 0.40),
                  ("abandoned", 0.10)]


def _pick(rng: random.Random, weighted):
    roll, total = rng.random(), 0.0
    for value, share in weighted:
        total += share
        if roll < total:
            return value
    return weighted[-1][0]


def _noon(day: date) -> datetime:
    return datetime.combine(day, dtime(10, 0))


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass
class Agent:
    id: int
    institution_id: int
    org_unit_id: int
    manager_id: int | None
    name: str


@dataclass
class Dataset:
    """What the generator made, for the load run (ids of the bench personas and objects)."""

    scale: str
    main_institution_id: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    personas: dict[str, str] = field(default_factory=dict)  # role -> email
    agents: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    open_proposal_ids: list[int] = field(default_factory=list)  # supportable
    proposal_id: int = 0  # a rich proposal page
    project_id: int = 0
    vote_item_id: int = 0
    vote_session_id: int = 0
    # Weeks waiting for the `validator` persona (pairs of entry ids), one approved per
    # request of the approval write: its own team, so that the manager's page stays the same.
    approval_entry_ids: list[list[int]] = field(default_factory=list)
    # The nightly maintenance run after the generation, as in production (SQLite: the search
    # index merged into one piece, `flask search compact`), in seconds.
    maintenance_seconds: float = 0.0


class Generator:
    def __init__(self, loader: Loader, scale: str, password_hash: str, seed: int = 20261122):
        self.loader = loader
        self.scale_name = scale
        factor = SCALES[scale]
        self.size = {k: max(1, int(v * factor)) for k, v in FULL.items()}
        self.rng = random.Random(seed)
        self.password_hash = password_hash
        self.now = utcnow().replace(microsecond=0)
        self.today = today_paris()
        self.start = self.today - timedelta(days=5 * 365)
        self.next_id: dict[str, int] = {}
        self.result = Dataset(scale=scale)

    def ids(self, table: str, count: int) -> range:
        first = self.next_id.get(table, 1)
        self.next_id[table] = first + count
        return range(first, first + count)

    def new_id(self, table: str) -> int:
        return self.ids(table, 1)[0]

    # ------------------------------------------------------------------ orchestration

    def run(self) -> Dataset:
        started = time.perf_counter()
        self.institutions()
        self.people()
        self.review_rules()
        self.proposals()
        self.sessions_and_decisions()
        self.projects()
        self.time_entries()
        self.notifications()
        self.loader.finish()
        self.result.seconds = round(time.perf_counter() - started, 1)
        self.result.counts = dict(self.loader.counts)
        return self.result

    # ------------------------------------------------------------------ institutions

    def institutions(self) -> None:
        names = ["Métropole de Bellerive"] + PARTNERS
        rows = []
        for number, name in zip(self.ids("institutions", len(names)), names, strict=True):
            rows.append({"id": number, "name": name, "slug": normalise(name).replace(" ", "-")[:80],
                         "kind": "métropole" if number == 1 else "commune", "created_at": self.now})
        self.loader.insert("institutions", rows)
        self.institution_ids = [r["id"] for r in rows]
        self.main = self.institution_ids[0]
        self.result.main_institution_id = self.main

    def _org_tree(self, institution_id: int, agents: int) -> list[int]:
        """Pôles > directions > services of about 25 agents; returns the service ids."""
        rows, services = [], []
        big = institution_id == self.main
        poles = POLES if big else [None]
        directions_per_pole = max(1, min(4, agents // 400)) if big else max(1, min(4, agents // 60))
        services_per_direction = max(1, agents // (25 * len(poles) * directions_per_pole))
        d = 0
        for pole_name in poles:
            pole_id = None
            if pole_name:
                pole_id = self.new_id("org_units")
                rows.append({"id": pole_id, "institution_id": institution_id, "parent_id": None,
                             "code": f"P{pole_id}", "name": pole_name, "kind": "direction",
                             "created_at": self.now})
            for _ in range(directions_per_pole):
                direction_id = self.new_id("org_units")
                name = DIRECTION_NAMES[d % len(DIRECTION_NAMES)]
                suffix = f" {d // len(DIRECTION_NAMES) + 1}" if d >= len(DIRECTION_NAMES) else ""
                d += 1
                rows.append({"id": direction_id, "institution_id": institution_id, "parent_id": pole_id,
                             "code": f"D{direction_id}", "name": f"Direction {name}{suffix}",
                             "kind": "direction", "created_at": self.now})
                for s in range(services_per_direction):
                    service_id = self.new_id("org_units")
                    rows.append({"id": service_id, "institution_id": institution_id,
                                 "parent_id": direction_id, "code": f"S{service_id}",
                                 "name": f"{name} – {SERVICE_WORDS[s % len(SERVICE_WORDS)]}"
                                         + (f" {s // len(SERVICE_WORDS) + 1}" if s >= len(SERVICE_WORDS) else ""),
                                 "kind": "service", "created_at": self.now})
                    services.append(service_id)
        self.loader.insert("org_units", rows)
        return services

    # ------------------------------------------------------------------ people

    def people(self) -> None:
        total = self.size["agents"]
        main_count = max(PERSONAS * 2 + 60, int(total * MAIN_SHARE))
        partner_count = max(10, (total - int(total * MAIN_SHARE)) // len(PARTNERS))
        self.agents_by_institution: dict[int, list[Agent]] = {}
        users, roles = [], []
        self.emails: dict[int, str] = {}
        for institution_id in self.institution_ids:
            count = main_count if institution_id == self.main else partner_count
            services = self._org_tree(institution_id, count)
            agents = []
            per_service = max(1, count // len(services))
            ids = iter(self.ids("users", count))
            domain = DOMAIN if institution_id == self.main else f"c{institution_id}.{DOMAIN}"
            created = 0
            for service_id in services:
                if created >= count:
                    break
                chef = None
                size = per_service if service_id != services[-1] else count - created
                for position in range(size):
                    user_id = next(ids)
                    first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
                    category = "A" if position == 0 else _pick(self.rng, [("A", 0.12), ("B", 0.25), ("C", 0.63)])
                    email = f"{_ascii(first).lower()}.{_ascii(last).lower()}.{user_id}@{domain}".replace(" ", "-")
                    self.emails[user_id] = email
                    users.append({
                        "id": user_id, "institution_id": institution_id, "first_name": first,
                        "last_name": last, "email": email, "password_hash": self.password_hash,
                        "category": category,
                        "quotite": _pick(self.rng, [(100, 0.85), (80, 0.10), (50, 0.05)]),
                        "org_unit_id": service_id, "manager_id": chef, "is_active": True,
                        "is_instance_admin": False, "created_at": self.now - timedelta(days=6 * 365)})
                    agents.append(Agent(user_id, institution_id, service_id, chef, f"{first} {last}"))
                    if position == 0:
                        chef = user_id
                    created += 1
            self.agents_by_institution[institution_id] = agents
        self._personas(users, roles)
        self.loader.insert("users", users)
        self.loader.insert("user_roles", roles)
        self.main_agents = self.agents_by_institution[self.main]

    def _personas(self, users: list[dict], roles: list[dict]) -> None:
        """Rename some agents of the main institution into the bench's known accounts."""
        by_id = {u["id"]: u for u in users}
        agents = self.agents_by_institution[self.main]
        chefs = [a for a in agents if a.manager_id is None]
        regular = [a for a in agents if a.manager_id is not None]

        def rename(agent: Agent, local: str, first: str, last: str) -> str:
            email = f"{local}@{DOMAIN}"
            by_id[agent.id].update(email=email, first_name=first, last_name=last)
            self.emails[agent.id] = email
            agent.name = f"{first} {last}"
            return email

        hr, coordinator, manager = chefs[0], chefs[1], chefs[2]
        self.result.personas = {
            "hr": rename(hr, "rh", "Rachida", "Hamel"),
            "coordinator": rename(coordinator, "animation", "Anne", "Martin"),
            "manager": rename(manager, "encadrant", "Eric", "Nadeau"),
            "admin": rename(chefs[3], "admin", "Adèle", "Dumas"),
        }
        for agent, role in ((hr, "hr"), (coordinator, "coordinator"), (chefs[3], "admin")):
            roles.append({"id": self.new_id("user_roles"), "user_id": agent.id,
                          "institution_id": self.main, "role": role})
        self.coordinator_id = coordinator.id
        # The manager's team: 40 agents moved under the bench manager.
        self.manager_reports = regular[:40]
        for agent in self.manager_reports:
            agent.manager_id = manager.id
            agent.org_unit_id = manager.org_unit_id
            by_id[agent.id].update(manager_id=manager.id, org_unit_id=manager.org_unit_id)
        self.bench_agents = regular[40:40 + PERSONAS]
        self.bench_members = regular[40 + PERSONAS:40 + 2 * PERSONAS]
        self.result.agents = [rename(a, f"agent{n:02d}", a.name.split()[0], a.name.split()[-1])
                              for n, a in enumerate(self.bench_agents, 1)]
        self.result.members = [rename(a, f"membre{n:02d}", a.name.split()[0], a.name.split()[-1])
                               for n, a in enumerate(self.bench_members, 1)]
        # The collectif pilote: the bench members plus volunteers, current term.
        self.collective = [coordinator] + self.bench_members + regular[40 + 2 * PERSONAS:40 + 2 * PERSONAS + 8]
        self.collective_ids = [a.id for a in self.collective]
        # The validator's team: 40 other agents, whose weeks the approval write approves.
        start = 40 + 2 * PERSONAS + 8
        validator, self.validator_reports = regular[start + 40], regular[start:start + 40]
        self.result.personas["validator"] = rename(validator, "valideur", "Victor", "Lenoir")
        for agent in self.validator_reports:
            agent.manager_id = validator.id
            by_id[agent.id].update(manager_id=validator.id)

    # ------------------------------------------------------------------ rules

    def review_rules(self) -> None:
        settings, criteria, themes, memberships = [], [], [], []
        self.themes_by_institution: dict[int, list[int]] = {}
        self.criteria_by_institution: dict[int, list[int]] = {}
        for institution_id in self.institution_ids:
            settings.append({"id": self.new_id("review_settings"), "institution_id": institution_id,
                             "decision_rule": "majority", "quorum_percent": 50, "votes_public": False,
                             "target_days": 60, "ineligibility_reasons": list(DEFAULT_INELIGIBILITY_REASONS)})
            self.themes_by_institution[institution_id] = []
            for name in THEMES:
                theme_id = self.new_id("themes")
                themes.append({"id": theme_id, "institution_id": institution_id, "name": name, "is_active": True})
                self.themes_by_institution[institution_id].append(theme_id)
            self.criteria_by_institution[institution_id] = []
            for position, (name, description, weight) in enumerate(CRITERIA[:4]):
                criterion_id = self.new_id("criteria")
                criteria.append({"id": criterion_id, "institution_id": institution_id, "name": name,
                                 "description": description, "weight": weight, "is_active": True,
                                 "position": position})
                self.criteria_by_institution[institution_id].append(criterion_id)
        for agent in self.collective:
            memberships.append({"id": self.new_id("collective_memberships"), "institution_id": self.main,
                                "user_id": agent.id, "starts_on": self.start, "ends_on": None,
                                "created_at": self.now})
        self.loader.insert("review_settings", settings)
        self.loader.insert("themes", themes)
        self.loader.insert("criteria", criteria)
        self.loader.insert("collective_memberships", memberships)

    # ------------------------------------------------------------------ proposals

    def proposals(self) -> None:
        total = self.size["proposals"]
        rng = self.rng
        proposals, versions, audit = [], [], []
        self.proposal_rows: list[dict] = []
        bench_agent_ids = {a.id for a in self.bench_agents} | set(self.collective_ids)
        scheduled: dict[int, int] = {}
        for institution_id in self.institution_ids:
            count = int(total * MAIN_SHARE) if institution_id == self.main else max(
                5, (total - int(total * MAIN_SHARE)) // len(PARTNERS))
            agents = [a for a in self.agents_by_institution[institution_id] if a.id not in bench_agent_ids]
            themes = self.themes_by_institution[institution_id]
            span = (self.today - self.start).days
            for proposal_id in self.ids("proposals", count):
                author = rng.choice(agents)
                age = int(span * rng.random() ** 1.3)  # more recent proposals than old ones
                submitted_day = self.today - timedelta(days=age)
                mobility = rng.random() < 0.12
                if rng.random() < 0.03:
                    state = "draft"
                elif age > 120 or rng.random() < 0.35:
                    state = _pick(rng, TERMINAL)
                else:
                    state = _pick(rng, IN_PROGRESS)
                if state == "changes_requested" and mobility:
                    state = "rejected"
                if state == "scheduled":
                    # A handful per upcoming session; the rest is still being examined.
                    scheduled[institution_id] = scheduled.get(institution_id, 0) + 1
                    if scheduled[institution_id] > 40 or age > 60:
                        state = "in_review"
                submitted_at = None if state == "draft" else _noon(submitted_day) + timedelta(minutes=rng.randrange(480))
                if state in TERMINAL_STATES:
                    changed = submitted_at + timedelta(days=min(age, rng.randrange(10, 120)), hours=2)
                elif state in ("in_review", "scheduled", "changes_requested"):
                    changed = submitted_at + timedelta(days=rng.randrange(0, age + 1), hours=1)
                else:
                    changed = submitted_at or _noon(submitted_day)
                changed = min(changed, self.now)
                content = self._content(rng, mobility, proposal_id)
                row = {
                    "id": proposal_id, "institution_id": institution_id,
                    "kind": "mobility" if mobility else "initiative", "state": state,
                    "author_id": author.id, "org_unit_id": author.org_unit_id,
                    "theme_id": rng.choice(themes), "host_org_unit_id": author.org_unit_id if mobility else None,
                    "contact_id": author.id if mobility else None,
                    "version_number": 0 if state == "draft" else 1,
                    "support_count": 0, "comment_count": 0,
                    "search_text": normalise(" ".join([content["title"], content["problem"], content["change"],
                                                       content["mission"], author.name])),
                    "created_at": _noon(submitted_day) - timedelta(days=2), "updated_at": changed,
                    "submitted_at": submitted_at, "state_changed_at": changed, **content,
                }
                proposals.append(row)
                self.proposal_rows.append(row)
                if state != "draft":
                    versions.append({"id": self.new_id("proposal_versions"), "proposal_id": proposal_id,
                                     "number": 1, "submitted_by_id": author.id, "created_at": submitted_at,
                                     "theme_id": row["theme_id"], "host_org_unit_id": row["host_org_unit_id"],
                                     "contact_id": row["contact_id"], **content})
                    audit.append(self._event("proposal.submitted", author.id, institution_id, "Proposal",
                                             proposal_id, submitted_at, {"from": "draft", "to": "submitted",
                                                                          "version": 1}, True))
        self._supports_and_comments()
        self.loader.insert("proposals", proposals)
        self.loader.insert("proposal_versions", versions)
        self.loader.insert("supports", self.supports)
        self.loader.insert("comments", self.comments)
        self.loader.insert("audit_events", audit)
        main_open = [r["id"] for r in self.proposal_rows
                     if r["institution_id"] == self.main and r["state"] in ("submitted", "in_review")]
        self.result.open_proposal_ids = main_open[-200:]

    def _content(self, rng: random.Random, mobility: bool, number: int) -> dict:
        if mobility:
            title, _theme, _unit, mission, learning, contribution, days = rng.choice(OFFERS)
            start = self.today + timedelta(days=rng.randrange(-900, 120))
            return {"title": f"{title} (n° {number})", "problem": "", "change": "", "beneficiaries": "",
                    "gain": "", "needs": "", "mission": mission, "learning": learning,
                    "contribution": contribution, "duration_days": days, "window_starts_on": start,
                    "window_ends_on": start + timedelta(days=90), "places": rng.randrange(1, 4),
                    "open_to": "institution"}
        title, _theme, *texts = rng.choice(INITIATIVES)
        content = dict(zip(INITIATIVE_FIELDS, texts, strict=True))
        return {"title": f"{title} (n° {number})", "mission": "", "learning": "", "contribution": "",
                "duration_days": None, "window_starts_on": None, "window_ends_on": None, "places": None,
                "open_to": None, **content}

    def _supports_and_comments(self) -> None:
        rng = self.rng
        self.supports, self.comments = [], []
        pools = {i: [a.id for a in agents] for i, agents in self.agents_by_institution.items()}
        for row in self.proposal_rows:
            if row["state"] == "draft":
                continue
            pool = pools[row["institution_id"]]
            supporters = rng.sample(pool, min(len(pool) - 1, int(rng.expovariate(1 / 4))))
            supporters = [s for s in supporters if s != row["author_id"]]
            for user_id in supporters:
                self.supports.append({"id": self.new_id("supports"), "proposal_id": row["id"],
                                      "user_id": user_id, "created_at": row["submitted_at"] + timedelta(days=1)})
            row["support_count"] = len(supporters)
            comments = int(rng.expovariate(1 / 1.5))
            for n in range(comments):
                self.comments.append({"id": self.new_id("comments"), "proposal_id": row["id"],
                                      "author_id": rng.choice(pool), "body": rng.choice(COMMENTS),
                                      "created_at": row["submitted_at"] + timedelta(hours=5 + n)})
            row["comment_count"] = comments

    def _event(self, action, actor_id, institution_id, target_type, target_id, at, data, public) -> dict:
        return {"id": self.new_id("audit_events"), "institution_id": institution_id, "actor_id": actor_id,
                "action": action, "target_type": target_type, "target_id": target_id, "data": data,
                "is_public": public, "created_at": at}

    # ------------------------------------------------------------------ arbitration

    def sessions_and_decisions(self) -> None:
        """Weekly sessions over five years; every answered proposal has its decisions."""
        rng = self.rng
        sessions, items, attendances, votes, decisions, assessments, scores, audit = [], [], [], [], [], [], [], []
        coordinators = {self.main: self.coordinator_id}
        for institution_id in self.institution_ids[1:]:
            coordinators[institution_id] = self.agents_by_institution[institution_id][0].id
        sessions_by_institution: dict[int, list[tuple[int, date]]] = {}
        for institution_id in self.institution_ids:
            week = _monday(self.start) + timedelta(days=3)
            found = []
            step = 7 if institution_id == self.main else 28
            while week < self.today:
                session_id = self.new_id("review_sessions")
                sessions.append({"id": session_id, "institution_id": institution_id,
                                 "starts_at": datetime.combine(week, dtime(13, 0)), "place": "Salle du conseil",
                                 "video_link": "", "created_by_id": coordinators[institution_id],
                                 "created_at": datetime.combine(week - timedelta(days=10), dtime(9, 0))})
                found.append((session_id, week))
                if institution_id == self.main:
                    for user_id in self.collective_ids[:12]:
                        attendances.append({"id": self.new_id("attendances"), "session_id": session_id,
                                            "user_id": user_id})
                week += timedelta(days=step)
            sessions_by_institution[institution_id] = found
        # Today's session of the main institution, with an open vote for the bench members.
        today_session = self.new_id("review_sessions")
        sessions.append({"id": today_session, "institution_id": self.main,
                         "starts_at": datetime.combine(self.today, dtime(8, 0)), "place": "Salle du conseil",
                         "video_link": "", "created_by_id": self.coordinator_id,
                         "created_at": self.now - timedelta(days=10)})
        for user_id in self.collective_ids:
            attendances.append({"id": self.new_id("attendances"), "session_id": today_session, "user_id": user_id})
        self.result.vote_session_id = today_session
        upcoming: dict[int, list[int]] = {}
        for institution_id in self.institution_ids:
            upcoming[institution_id] = []
            for weeks in (1, 2, 3):
                session_id = self.new_id("review_sessions")
                sessions.append({"id": session_id, "institution_id": institution_id,
                                 "starts_at": datetime.combine(self.today + timedelta(days=7 * weeks), dtime(13, 0)),
                                 "place": "Salle du conseil", "video_link": "",
                                 "created_by_id": coordinators[institution_id], "created_at": self.now})
                upcoming[institution_id].append(session_id)
        scheduled_today = 0
        scheduled_later = 0
        criteria = self.criteria_by_institution
        for row in self.proposal_rows:
            state, institution_id = row["state"], row["institution_id"]
            if state in ("draft", "submitted", "withdrawn"):
                continue
            coordinator = coordinators[institution_id]
            submitted = row["submitted_at"]
            answered = min(row["state_changed_at"], self.now)
            opened_at = submitted + (answered - submitted) / 3
            outcome = "not_eligible" if state == "not_eligible" else "eligible"
            decisions.append({
                "id": self.new_id("decisions"), "institution_id": institution_id, "proposal_id": row["id"],
                "item_id": None, "session_id": None, "kind": "eligibility", "outcome": outcome,
                "reason": rng.choice(DEFAULT_INELIGIBILITY_REASONS[:3]) if outcome == "not_eligible" else "",
                "duplicate_of_id": None,
                "rationale": "Examen de recevabilité par l'animation du collectif.", "tally": {},
                "corrects_id": None, "decided_by_id": coordinator,
                "published_at": answered if outcome == "not_eligible" else opened_at})
            audit.append(self._event("review.not_eligible" if outcome == "not_eligible" else "review.opened",
                                     coordinator, institution_id, "Proposal", row["id"],
                                     answered if outcome == "not_eligible" else opened_at,
                                     {"reason": decisions[-1]["reason"]}, True))
            if state == "not_eligible":
                continue
            if institution_id == self.main and rng.random() < 0.5:
                for member_id in rng.sample(self.collective_ids[1:], 3):
                    assessment_id = self.new_id("assessments")
                    assessments.append({"id": assessment_id, "proposal_id": row["id"], "user_id": member_id,
                                        "comment": "", "created_at": opened_at, "updated_at": opened_at})
                    for criterion_id in criteria[institution_id]:
                        scores.append({"id": self.new_id("assessment_scores"), "assessment_id": assessment_id,
                                       "criterion_id": criterion_id, "score": rng.randint(1, 5)})
            if state == "in_review":
                continue
            if state == "scheduled":
                if institution_id == self.main and scheduled_today < 12:
                    session_id, status = today_session, "voting" if scheduled_today == 0 else "pending"
                    scheduled_today += 1
                else:
                    session_id, status = upcoming[institution_id][scheduled_later % 3], "pending"
                    scheduled_later += 1
                item_id = self.new_id("agenda_items")
                items.append({"id": item_id, "session_id": session_id, "proposal_id": row["id"],
                              "position": scheduled_today, "status": status, "result": None, "tally": {},
                              "vote_opened_at": self.now if status == "voting" else None, "vote_closed_at": None})
                if status == "voting":
                    self.result.vote_item_id = item_id
                    self.result.proposal_id = row["id"]
                continue
            # Answered in a session: the session of the answer's week.
            candidates = sessions_by_institution[institution_id]
            index = min(len(candidates) - 1, max(0, ((answered.date() - candidates[0][1]).days) // (7 if institution_id == self.main else 28)))
            session_id, session_day = candidates[index]
            item_id = self.new_id("agenda_items")
            outcome = {"accepted": "accepted", "rejected": "rejected", "changes_requested": "changes_requested"}[state]
            adopted = outcome != "rejected"
            tally = {"for": 7 if adopted else 3, "against": 3 if adopted else 7, "abstain": 2}
            closed_at = datetime.combine(session_day, dtime(15, 0))
            items.append({"id": item_id, "session_id": session_id, "proposal_id": row["id"], "position": 1,
                          "status": "decided", "result": "adopted" if adopted else "not_adopted", "tally": tally,
                          "vote_opened_at": closed_at - timedelta(minutes=20), "vote_closed_at": closed_at})
            if institution_id == self.main:
                voters = self.collective_ids[:12]
                for n, user_id in enumerate(voters):
                    choice = "for" if n < tally["for"] else "against" if n < tally["for"] + tally["against"] else "abstain"
                    votes.append({"id": self.new_id("votes"), "item_id": item_id, "user_id": user_id,
                                  "choice": choice, "reason": "", "created_at": closed_at, "updated_at": closed_at})
            decisions.append({
                "id": self.new_id("decisions"), "institution_id": institution_id, "proposal_id": row["id"],
                "item_id": item_id, "session_id": session_id, "kind": "session", "outcome": outcome,
                "reason": "", "duplicate_of_id": None,
                "rationale": RATIONALES.get(outcome, RATIONALES["accepted"]), "tally": tally, "corrects_id": None,
                "decided_by_id": coordinator, "published_at": max(closed_at, answered)})
            audit.append(self._event("review.decided", coordinator, institution_id, "Proposal", row["id"],
                                     max(closed_at, answered), {"outcome": outcome}, True))
        self.loader.insert("review_sessions", sessions)
        self.loader.insert("agenda_items", items)
        self.loader.insert("attendances", attendances)
        self.loader.insert("votes", votes)
        self.loader.insert("decisions", decisions)
        # Written without the decision service, which keeps each proposal's first answer.
        self.loader.execute([first_answers_statement()])
        self.loader.insert("assessments", assessments)
        self.loader.insert("assessment_scores", scores)
        self.loader.insert("audit_events", audit)

    # ------------------------------------------------------------------ projects

    def projects(self) -> None:
        rng = self.rng
        accepted = [r for r in self.proposal_rows if r["state"] == "accepted" and r["kind"] == "initiative"]
        offers = [r for r in self.proposal_rows if r["state"] == "accepted" and r["kind"] == "mobility"]
        rng.shuffle(accepted)
        wanted = self.size["projects"]
        immersions = min(len(offers) * 2, wanted // 10)
        initiatives = accepted[:wanted - immersions]
        projects, members, milestones, updates, retros, applications, audit = [], [], [], [], [], [], []
        self.memberships: list[tuple[int, int, date, date, int | None]] = []  # user, project, from, to, manager
        agents_by_id = {a.id: a for agents in self.agents_by_institution.values() for a in agents}
        pools = {i: agents for i, agents in self.agents_by_institution.items()}
        bench_project = None
        for row in initiatives:
            project_id = self.new_id("projects")
            institution_id = row["institution_id"]
            state = _pick(rng, PROJECT_STATES)
            starts = row["state_changed_at"].date() + timedelta(days=30)
            if starts > self.today - timedelta(days=60):
                state = "framing" if starts > self.today else "active"
            length = rng.randrange(120, 540)
            ends = starts + timedelta(days=length)
            if state in ("active", "on_hold", "framing") and ends < self.today:
                ends = self.today + timedelta(days=rng.randrange(30, 300))
            lead = agents_by_id[row["author_id"]]
            team = [lead] + rng.sample(pools[institution_id], min(len(pools[institution_id]), rng.randrange(1, 6)))
            if bench_project is None and institution_id == self.main and state == "active":
                bench_project = project_id
                team = [lead] + self.bench_agents + self.manager_reports + team[1:3]
                starts = min(starts, self.today - timedelta(days=120))
            projects.append({
                "id": project_id, "institution_id": institution_id, "kind": "initiative", "state": state,
                "title": row["title"], "search_text": normalise(row["title"]), "proposal_id": row["id"],
                "sponsor_id": lead.manager_id or lead.id,
                "lead_id": lead.id, "host_org_unit_id": lead.org_unit_id,
                "objectives": "Mettre en œuvre la proposition retenue par le collectif, service par service.",
                "indicators": "Délai de traitement, satisfaction des usagers, temps agent gagné.",
                "starts_on": starts, "ends_on": ends,
                "progress": 100 if state == "completed" else rng.randrange(0, 95, 5),
                "hold_reason": "Attente d'arbitrage budgétaire." if state == "on_hold" else "",
                "charter_validated_at": None if state == "framing" else _noon(starts),
                "charter_validated_by_id": None if state == "framing" else self.coordinator_id,
                "created_at": row["state_changed_at"], "state_changed_at": _noon(min(starts, self.today))})
            audit.append(self._event("project.created", self.coordinator_id, institution_id, "Proposal", row["id"],
                                     row["state_changed_at"], {"project_id": project_id}, True))
            seen = set()
            for agent in team:
                if agent.id in seen:
                    continue
                seen.add(agent.id)
                members.append({"id": self.new_id("project_members"), "project_id": project_id, "user_id": agent.id,
                                "role": "Cheffe ou chef de projet" if agent is lead else "Membre de l'équipe",
                                "hours_budget": rng.choice((20, 40, 60, 80))})
                if state != "framing":
                    self.memberships.append((agent.id, project_id, starts, min(ends, self.today),
                                             agent.manager_id, project_id == bench_project))
            for n in range(4):
                due = starts + timedelta(days=(n + 1) * length // 5)
                milestones.append({"id": self.new_id("milestones"), "project_id": project_id,
                                   "title": ["Cadrage validé", "Premier test sur un site", "Bilan intermédiaire",
                                             "Généralisation"][n], "due_on": due,
                                   "done_on": due if due < self.today - timedelta(days=20) else None,
                                   "overdue_notified_on": None})
            if state != "framing":
                for n in range(3):
                    at = _noon(min(self.today, starts + timedelta(days=30 * (n + 1))))
                    updates.append({"id": self.new_id("progress_updates"), "project_id": project_id,
                                    "author_id": lead.id, "text": "Point d'étape : l'équipe avance comme prévu.",
                                    "progress": min(100, 25 * (n + 1)), "indicator_values": "", "created_at": at})
            if state == "completed":
                retros.append({"id": self.new_id("retrospectives"), "project_id": project_id, "author_id": lead.id,
                               "worked": "Une équipe mixte et un test court avant de généraliser.",
                               "did_not_work": "Le calendrier des services supports, trop serré.",
                               "reusable": "La méthode de test sur un site pilote.",
                               "indicators_reached": "Délai divisé par deux.", "created_at": _noon(ends)})
        applied: set[tuple[int, int]] = set()
        for n in range(immersions):
            offer = offers[n % len(offers)]
            institution_id = offer["institution_id"]
            applicant = rng.choice(pools[institution_id])
            project_id = self.new_id("projects")
            starts = offer["window_starts_on"] or self.today
            ends = starts + timedelta(days=4)
            state = "completed" if ends < self.today else "active"
            if (offer["id"], applicant.id) in applied:
                continue
            applied.add((offer["id"], applicant.id))
            application_id = self.new_id("applications")
            applications.append({"id": application_id, "offer_id": offer["id"], "applicant_id": applicant.id,
                                 "manager_id": applicant.manager_id, "motivation": "Découvrir un autre métier.",
                                 "starts_on": starts, "ends_on": ends, "working_days": 5, "status": "selected",
                                 "manager_reason": "", "warnings": "", "project_id": project_id,
                                 "created_at": _noon(starts) - timedelta(days=40),
                                 "decided_at": _noon(starts) - timedelta(days=20)})
            projects.append({
                "id": project_id, "institution_id": institution_id, "kind": "immersion", "state": state,
                "title": f"Immersion : {offer['title']}", "search_text": normalise(f"Immersion : {offer['title']}"),
                "proposal_id": offer["id"], "sponsor_id": offer["author_id"],
                "lead_id": applicant.id, "host_org_unit_id": offer["host_org_unit_id"], "objectives": offer["mission"],
                "indicators": "", "starts_on": starts, "ends_on": ends, "progress": 100 if state == "completed" else 0,
                "hold_reason": "", "charter_validated_at": _noon(starts), "charter_validated_by_id": offer["author_id"],
                "created_at": _noon(starts) - timedelta(days=20), "state_changed_at": _noon(min(starts, self.today))})
            members.append({"id": self.new_id("project_members"), "project_id": project_id,
                            "user_id": applicant.id, "role": "Agent en immersion", "hours_budget": 35})
        self.result.project_id = bench_project or (projects[0]["id"] if projects else 0)
        self.loader.insert("projects", projects)
        self.loader.insert("project_members", members)
        self.loader.insert("milestones", milestones)
        self.loader.insert("progress_updates", updates)
        self.loader.insert("retrospectives", retros)
        self.loader.insert("applications", applications)
        self.loader.insert("audit_events", audit)
        if not self.result.proposal_id and self.proposal_rows:
            self.result.proposal_id = self.proposal_rows[-1]["id"]

    # ------------------------------------------------------------------ release time

    def time_entries(self) -> None:
        """Release-time lines spread over the members' project periods: approved when old,
        waiting for the N+1 in the last weeks; the bench personas get exactly what the load
        run needs (a submitted week for each of the manager's reports, a free current week
        for the bench agents)."""
        rng = self.rng
        wanted = self.size["time_entries"]
        regular = [m for m in self.memberships if not m[5]]
        this_monday = _monday(self.today)
        recent = this_monday - timedelta(days=21)
        # Members of long projects record more days; aim slightly above, stop at the count.
        spans = [max(0, (min(ends, this_monday - timedelta(days=1)) - starts).days) for _u, _p, starts, ends, _m, _b in regular]
        per_day = wanted * 1.1 / max(1, sum(spans) * 5 / 7)

        def rows():
            written = 0
            for (user_id, project_id, starts, _ends, manager_id, _bench), span in zip(regular, spans, strict=True):
                weekdays = [starts + timedelta(days=d) for d in range(span)
                            if (starts + timedelta(days=d)).weekday() < 5]
                count = min(len(weekdays), round(len(weekdays) * per_day))
                for day in sorted(rng.sample(weekdays, count)):
                    status = "submitted" if day >= recent else _pick(rng, [("approved", 0.93), ("refused", 0.03), ("submitted", 0.04)])
                    yield self._entry(user_id, project_id, day, rng.choice((60, 90, 120, 180, 240)), status, manager_id)
                    written += 1
                    if written >= wanted:
                        yield from self._bench_entries()
                        return
            yield from self._bench_entries()

        self.loader.insert("time_entries", rows())
        # Written without the approval service, which keeps the dashboard's totals: counted here.
        self.loader.execute(totals.rebuild_statements(self.loader.engine.dialect.name))

    def _entry(self, user_id, project_id, day, minutes, status, manager_id) -> dict:
        decided = status in ("approved", "refused")
        return {"id": self.new_id("time_entries"), "institution_id": self.main, "user_id": user_id,
                "project_id": project_id, "day": day, "minutes": minutes,
                "note": "Atelier avec l'équipe" if minutes >= 120 else "", "status": status,
                "corrects_id": None, "refusal_reason": "Ce jour-là, vous étiez en congé." if status == "refused" else "",
                "submitted_at": _noon(day) + timedelta(days=3) if status != "draft" else None,
                "decided_at": _noon(day) + timedelta(days=6) if decided else None,
                "decided_by_id": manager_id if decided else None, "created_at": _noon(day)}

    def _bench_entries(self):
        this_monday = _monday(self.today)
        project_id = self.result.project_id
        last_week = this_monday - timedelta(days=7)
        for agent in self.bench_agents:
            for weeks_back in range(2, 12):
                monday = this_monday - timedelta(days=7 * weeks_back)
                yield self._entry(agent.id, project_id, monday + timedelta(days=1), 60, "approved", agent.manager_id)
        # A submitted week to approve for each report of the bench manager.
        for agent in self.manager_reports:
            for offset in (0, 2):
                yield self._entry(agent.id, project_id, last_week + timedelta(days=offset), 90, "submitted",
                                  agent.manager_id)
        # Older weeks of the validator's team, waiting: a week (two lines) per approval.
        for weeks_back in range(3, 3 + APPROVAL_WEEKS):
            monday = this_monday - timedelta(days=7 * weeks_back)
            for agent in self.validator_reports:
                pair = [self._entry(agent.id, project_id, monday + timedelta(days=offset), 60, "submitted",
                                    agent.manager_id) for offset in (1, 3)]
                self.result.approval_entry_ids.append([row["id"] for row in pair])
                yield from pair

    # ------------------------------------------------------------------ notifications

    def notifications(self) -> None:
        rng = self.rng
        wanted = self.size["notifications"]
        agents = self.main_agents
        subjects = [("proposals", "Votre proposition a reçu une réponse", "/mes-propositions"),
                    ("collective", "Une proposition attend votre évaluation", "/arbitrage/a-evaluer"),
                    ("my_time", "Votre semaine a été validée", "/mon-temps"),
                    ("approvals", "Une semaine attend votre validation", "/validations"),
                    ("projects", "Un jalon de votre projet est en retard", "/realisations")]

        def rows():
            for n in range(wanted):
                agent = agents[n % len(agents)]
                category, subject, link = rng.choice(subjects)
                at = self.now - timedelta(hours=rng.randrange(24 * 365))
                yield {"id": self.new_id("notifications"), "user_id": agent.id, "category": category,
                       "subject": subject, "body": subject + ".", "link": link, "created_at": at,
                       "read_at": None if rng.random() < 0.2 else at + timedelta(hours=3),
                       "digest_pending": False}

        self.loader.insert("notifications", rows())


def generate(engine, metadata, scale: str, password_hash: str) -> Dataset:
    loader = Loader(engine, metadata)
    return Generator(loader, scale, password_hash).run()



