"""Applying what the directory says to the institution's agents and units, in the caller's
transaction (the command commits, or rolls back for a dry run or a refusal).

- An agent is found by the entry's stable key (`users.directory_key`), else, the first
  time, by employee number, else by address (case ignored), within the institution.
- Units are found by code, created when unknown (named after their directory entry when one
  carries a name), renamed when that name changes, never moved, closed or deleted; a closed
  unit is never reopened (the agent keeps their unit, and it is reported).
- The N+1 is the agent synced from the `manager` entry; unknown entries, oneself and loops
  are reported, the agent keeping their N+1.
- Agents synced earlier (with a key) that the directory no longer returns are deactivated
  through people.services.deactivate_user: their history stays. Agents created by hand or
  by CSV (no key) are never touched, nor agents of other institutions.
- Safety brake: nobody returned, or more deactivations than DIRECTORY_MAX_DEACTIVATION_PERCENT
  of the synced agents (one departure always passes), raises SyncRefused unless `force`.

Audit: one event per change of an agent or a unit (user.created, user.updated,
user.deactivated, org_unit.created, org_unit.renamed, marked "source": "directory"), so that
an agent's history reads the same whoever changed it, plus one `directory.synced` event
with the counts, so that each run that changed something is found in the log.

The database is read in a fixed number of queries whatever the number of entries: the
institution's agents and units once, other institutions' addresses by batches.
"""

from __future__ import annotations

import math
import re

from sqlalchemy import insert, select

from ..audit.services import record, record_many
from ..errors import ValidationFailed
from ..extensions import db
from ..organisation.models import Institution, OrgUnit
from ..organisation.services import create_org_unit, rename_org_unit
from ..people.models import (
    CATEGORIES,
    DIRECTORY_KEY_MAX,
    EMAIL_MAX,
    EMPLOYEE_NUMBER_MAX,
    QUOTITE_MAX,
    User,
)
from ..people.services import EMAIL_RE, EMAIL_UNAVAILABLE, deactivate_user, normalise_email
from .reader import AgentEntry, UnitEntry, normalise_dn
from .report import FIELD_LABELS, SyncReport
from .settings import DirectorySettings

CODE_RE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,39}")  # as organisation.services.create_org_unit
BATCH = 500
SOURCE = "directory"


class SyncRefused(Exception):
    """The safety brake: nothing may be written; `report` says what would have changed."""

    def __init__(self, report: SyncReport):
        super().__init__(report.refusal)
        self.report = report


def synchronise(institution: Institution, agents: list[AgentEntry], units: list[UnitEntry], *,
                settings: DirectorySettings, force: bool = False) -> SyncReport:
    report = SyncReport(entries=len(agents))
    users = list(db.session.scalars(select(User).where(User.institution_id == institution.id)))
    by_code = {u.code: u for u in db.session.scalars(
        select(OrgUnit).where(OrgUnit.institution_id == institution.id))}
    synced_before = sum(1 for u in users if u.directory_key and u.is_active)

    unit_of = _sync_units(institution, agents, units, by_code, report)
    # Addresses in use: the institution's (agent or, for a new agent, its entry) and others'.
    taken: dict[str, object] = {u.email: u for u in users}
    elsewhere = _addresses_elsewhere(institution, {normalise_email(e.email) for e in agents if e.email}
                                     - set(taken))
    plan = _match(agents, users, taken, elsewhere, report)
    _apply(institution, plan, unit_of, settings, taken, elsewhere, report)
    _deactivate(agents, users, report)

    limit = max(1, math.floor(synced_before * settings.max_deactivation_percent / 100))
    if not agents:
        report.refusal = ("L'annuaire n'a renvoyé aucun agent : filtre (DIRECTORY_USER_FILTER) ou "
                          "branche (DIRECTORY_BASE_DN) erronés ? Rien n'a été écrit. Relancez avec "
                          "--force si c'est bien voulu.")
    elif len(report.deactivated) > limit:
        report.refusal = (
            f"La synchronisation désactiverait {len(report.deactivated)} agent(s) sur "
            f"{synced_before} venus de l'annuaire, plus que la limite de "
            f"{settings.max_deactivation_percent:g} % ({limit}) : filtre ou branche de l'annuaire "
            "erronés ? Rien n'a été écrit. Vérifiez avec --dry-run, puis relancez avec --force si "
            "ces départs sont réels.")
    report.created.sort()
    report.updated.sort()
    report.deactivated.sort()
    if report.refusal and not force:
        raise SyncRefused(report)
    if report.changed:
        record("directory.synced", actor=None, institution_id=institution.id, data=report.counts())
    return report


def _sync_units(institution, agents, units, by_code, report) -> dict[str, OrgUnit | None]:
    """The unit of each code the agents name (None: closed or invalid, reported)."""
    names: dict[str, str] = {}
    parent_code: dict[str, str] = {}
    code_of_dn = {}
    for entry in units:
        code = (entry.code or "").upper()
        if CODE_RE.fullmatch(code):
            code_of_dn[normalise_dn(entry.dn)] = code
            if entry.name and 2 <= len(entry.name) <= 200:
                names[code] = entry.name
    # A unit's parent is the unit entry above it, if that one is a unit (it has a name, or is
    # known), not a mere container (ou=unites).
    for entry in units:
        code = code_of_dn.get(normalise_dn(entry.dn))
        parent = code_of_dn.get(normalise_dn(entry.dn).partition(",")[2])
        if code and parent and (parent in names or parent in by_code):
            parent_code[code] = parent
    wanted = {(e.unit or "").upper() for e in agents if e.unit}
    result: dict[str, OrgUnit | None] = {}

    def ensure(code: str, depth: int = 0) -> OrgUnit | None:
        if code in result:
            return result[code]
        unit = by_code.get(code)
        if unit is None:
            parent = ensure(parent_code[code], depth + 1) if code in parent_code and depth < 20 else None
            name = names.get(code) or (code if len(code) >= 2 else f"Service {code}")
            unit = create_org_unit(None, institution_id=institution.id, code=code, name=name,
                                   kind="service", parent_id=parent.id if parent and parent.is_open else None,
                                   source=SOURCE)
            by_code[code] = unit
            report.units_created.append(f"{code} — {name}")
        elif code in names and names[code] != unit.name:
            report.units_renamed.append((code, unit.name, names[code]))
            rename_org_unit(None, unit, name=names[code], source=SOURCE)
        result[code] = unit if unit.is_open else None
        return result[code]

    for code in sorted(wanted):
        if CODE_RE.fullmatch(code):
            ensure(code)
    for code, name in names.items():  # units the directory renamed, even without agents today
        unit = by_code.get(code)
        if code not in result and unit is not None and unit.name != name:
            report.units_renamed.append((code, unit.name, name))
            rename_org_unit(None, unit, name=name, source=SOURCE)
    return result


def _match(agents, users, taken, elsewhere, report) -> list[tuple[AgentEntry, User | None]]:
    """Each usable entry with its agent (None: a new one); problems reported."""
    by_key = {u.directory_key: u for u in users if u.directory_key}
    by_number = {u.employee_number: u for u in users if u.employee_number}
    by_email = {u.email: u for u in users}
    keys = {e.key for e in agents if e.key}
    plan: list[tuple[AgentEntry, User | None]] = []
    claimed: dict[int, str] = {}
    seen_keys: set[str] = set()
    for entry in agents:
        if not entry.key or len(entry.key) > DIRECTORY_KEY_MAX:
            report.problems.append((entry.dn, "pas d'identifiant stable utilisable : entrée ignorée"))
            continue
        if entry.key in seen_keys:
            report.problems.append((entry.dn, "identifiant déjà lu sur une autre entrée : entrée ignorée"))
            continue
        seen_keys.add(entry.key)
        email = normalise_email(entry.email or "")
        user = by_key.get(entry.key)
        if user is None:
            found = (by_number.get(entry.employee_number) if entry.employee_number else None) \
                or by_email.get(email)
            if found is not None and found.directory_key and found.directory_key in keys:
                report.problems.append((entry.dn, f"l'agent {found.email} est déjà lié à une autre "
                                                  "entrée de l'annuaire : entrée ignorée"))
                continue
            user = found
        if user is not None and user.id in claimed:
            report.problems.append((entry.dn, f"même agent que l'entrée {claimed[user.id]} : entrée ignorée"))
            continue
        if user is not None and not user.is_active:
            report.problems.append((entry.dn, f"le compte de {user.email} est désactivé dans "
                                              "l'Incubateur : ni réactivé ni modifié (réactivez-le "
                                              "depuis l'administration si l'agent est revenu)"))
            continue
        if user is None:
            if message := _new_agent_problem(entry, email, elsewhere, taken):
                report.problems.append((entry.dn, message))
                continue
            taken[email] = entry
        if user is not None:
            claimed[user.id] = entry.dn
        plan.append((entry, user))
    return plan


def _addresses_elsewhere(institution, emails: set[str]) -> set[str]:
    """Addresses held on the instance outside the institution (batches of BATCH)."""
    found: set[str] = set()
    emails = sorted(emails)
    for start in range(0, len(emails), BATCH):
        found.update(db.session.scalars(select(User.email).where(
            User.email.in_(emails[start:start + BATCH]), User.institution_id != institution.id)))
    return found


def _email_problem(email: str, elsewhere: set[str], taken: dict[str, object], user: User | None) -> str | None:
    if not EMAIL_RE.match(email) or len(email) > EMAIL_MAX:
        return f"adresse « {email[:80]} » invalide"
    if email.endswith(".invalid") or email in elsewhere:
        return "adresse « " + email + " » : " + EMAIL_UNAVAILABLE[0].lower() + EMAIL_UNAVAILABLE[1:].rstrip(".")
    holder = taken.get(email)
    if holder is not None and holder is not user:
        return f"adresse « {email} » déjà utilisée par un autre agent de la collectivité"
    return None


def _category(entry: AgentEntry) -> str | None:
    value = (entry.category or "").strip().upper()
    if value in CATEGORIES:
        return value
    last = value.replace(".", " ").split()[-1:] or [""]
    return last[0] if last[0] in CATEGORIES else None


def _new_agent_problem(entry, email, elsewhere, taken) -> str | None:
    problems = []
    if problem := _email_problem(email, elsewhere, taken, None):
        problems.append(problem)
    for value, label in ((entry.first_name, "prénom"), (entry.last_name, "nom")):
        if not value or len(value) > 100:
            problems.append(f"{label} manquant ou trop long")
    return "agent non créé : " + " ; ".join(problems) if problems else None


def _apply(institution, plan, unit_of, settings, taken, elsewhere, report) -> None:
    """Create and update the agents, then set their N+1; one audit event per agent."""
    attrs = settings.attributes
    changes: dict[int, dict[str, list]] = {}  # id(user) -> field -> [old, new]
    new_rows: list[tuple[str, dict]] = []  # (entry's DN, columns of the new agent)
    by_dn: dict[str, User] = {}
    for entry, user in plan:
        email = normalise_email(entry.email or "")
        fields: dict[str, object] = {"directory_key": entry.key}
        if entry.first_name and len(entry.first_name) <= 100:
            fields["first_name"] = entry.first_name
        if entry.last_name and len(entry.last_name) <= 100:
            fields["last_name"] = entry.last_name
        if user is not None and email != user.email:
            if problem := _email_problem(email, elsewhere, taken, user):
                report.problems.append((entry.dn, problem + " : adresse inchangée"))
            else:
                fields["email"] = email
                taken.pop(user.email, None)
                taken[email] = user
        if attrs.get("employee_number"):
            number = entry.employee_number
            if number and len(number) > EMPLOYEE_NUMBER_MAX:
                report.problems.append((entry.dn, "matricule trop long : inchangé"))
            else:
                fields["employee_number"] = number
        if attrs.get("category"):
            category = _category(entry)
            if category:
                fields["category"] = category
            elif entry.category:
                report.problems.append((entry.dn, f"catégorie « {entry.category[:30]} » non reconnue "
                                                  "(A, B ou C) : inchangée"))
        if attrs.get("unit") and entry.unit:
            code = entry.unit.upper()
            if not CODE_RE.fullmatch(code):
                report.problems.append((entry.dn, f"code de service « {entry.unit[:50]} » invalide "
                                                  "(1 à 40 lettres, chiffres, tirets) : service inchangé"))
            elif unit_of.get(code) is None:
                report.problems.append((entry.dn, f"le service « {code} » est fermé dans l'Incubateur : "
                                                  "service inchangé"))
            else:
                fields["org_unit_id"] = unit_of[code].id
        elif attrs.get("unit"):
            report.problems.append((entry.dn, "aucun service dans l'annuaire : service inchangé"))
        if user is None:
            category = fields.get("category") or settings.default_category
            if category is None:
                report.problems.append((entry.dn, "agent non créé : catégorie absente (renseignez "
                                                  f"l'attribut {attrs.get('category') or 'de catégorie'} "
                                                  "ou DIRECTORY_DEFAULT_CATEGORY)"))
                continue
            new_rows.append((entry.dn_key, {
                "institution_id": institution.id, "quotite": QUOTITE_MAX, "password_hash": None,
                "is_active": True, "is_instance_admin": False, "org_unit_id": None,
                "employee_number": None, **fields, "email": email, "category": category}))
            continue
        else:
            diff = {f: [getattr(user, f), v] for f, v in fields.items() if getattr(user, f) != v}
            for f, (_old, new) in diff.items():
                setattr(user, f, new)
            if diff:
                changes[id(user)] = diff
        by_dn[entry.dn_key] = user
    db.session.flush()
    created = _insert_agents([row for _dn, row in new_rows])
    by_dn.update((dn, user) for (dn, _row), user in zip(new_rows, created, strict=True))
    if attrs.get("manager"):
        _set_managers(institution, plan, by_dn, changes, report)
    names = {u.id: u.code for u in db.session.scalars(
        select(OrgUnit).where(OrgUnit.institution_id == institution.id))}
    people = {u.id: u.email for u in by_dn.values()}
    events = []
    for user in created:
        report.created.append(_describe(user, names, people))
        events.append(dict(action="user.created", institution_id=institution.id, target=user,
                           data={"email": user.email, "roles": [], "source": SOURCE}))
    new_ids = {user.id for user in created}
    for user in by_dn.values():
        diff = changes.get(id(user))
        if diff and user.id not in new_ids:
            report.updated.append((_who(user), [
                (FIELD_LABELS[f], _shown(f, old, names, people), _shown(f, new, names, people))
                for f, (old, new) in diff.items()]))
            events.append(dict(action="user.updated", institution_id=institution.id, target=user,
                               data={"changes": diff, "source": SOURCE}))
    record_many(events)


def _insert_agents(rows: list[dict]) -> list[User]:
    """The new agents, in `rows`' order: inserted by batches (one statement each), then read
    back by their directory key (unique in the institution), a query per batch."""
    created: list[User] = []
    for start in range(0, len(rows), BATCH):
        batch = rows[start:start + BATCH]
        db.session.execute(insert(User), batch)
        found = {u.directory_key: u for u in db.session.scalars(select(User).where(
            User.institution_id == batch[0]["institution_id"],
            User.directory_key.in_([row["directory_key"] for row in batch])))}
        created += [found[row["directory_key"]] for row in batch]
    return created


def _set_managers(institution, plan, by_dn, changes, report) -> None:
    manager_of = {u.id: u.manager_id for u in db.session.scalars(
        select(User).where(User.institution_id == institution.id))}
    wanted: dict[int, tuple[User, int | None, str]] = {}
    for entry, _user in plan:
        user = by_dn.get(entry.dn_key)
        if user is None:
            continue
        target = None
        if entry.manager_dn:
            target = by_dn.get(normalise_dn(entry.manager_dn))
            if target is None:
                report.problems.append((entry.dn, f"N+1 « {entry.manager_dn[:200]} » absent des agents "
                                                  "lus dans l'annuaire : N+1 inchangé"))
                continue
            if target is user:
                report.problems.append((entry.dn, "un agent ne peut être son propre N+1 : N+1 inchangé"))
                continue
        new = target.id if target is not None else None
        if new != user.manager_id:
            wanted[user.id] = (user, new, entry.dn)
            manager_of[user.id] = new
    # Loops: an agent whose chain comes back to them keeps their N+1 (until none is left).
    while True:
        looping = [uid for uid in wanted if _loops(uid, manager_of)]
        if not looping:
            break
        for uid in looping:
            user, _new, dn = wanted.pop(uid)
            manager_of[uid] = user.manager_id
            report.problems.append((dn, "la chaîne des N+1 formerait une boucle : N+1 inchangé"))
    for user, new, _dn in wanted.values():
        changes.setdefault(id(user), {})["manager_id"] = [user.manager_id, new]
        user.manager_id = new


def _loops(start: int, manager_of: dict[int, int | None]) -> bool:
    seen = {start}
    current = manager_of.get(start)
    while current is not None:
        if current in seen:
            return current == start
        seen.add(current)
        current = manager_of.get(current)
    return False


def _deactivate(agents, users, report) -> None:
    present = {e.key for e in agents if e.key}
    for user in sorted(users, key=lambda u: u.email):
        if user.directory_key and user.is_active and user.directory_key not in present:
            try:
                deactivate_user(None, user, source=SOURCE)
            except ValidationFailed as exc:
                message = next(iter(exc.errors.values()))[0]
                report.problems.append((_who(user), f"parti de l'annuaire, mais non désactivé : {message}"))
            else:
                report.deactivated.append(_who(user))


def _who(user: User) -> str:
    return f"{user.first_name} {user.last_name} <{user.email}>"


def _shown(field: str, value, units: dict[int, str], people: dict[int, str]) -> str:
    if value is None or value == "":
        return "(aucun)"
    if field == "org_unit_id":
        return units.get(value, str(value))
    if field == "manager_id":
        return people.get(value, f"agent n° {value}")
    return str(value)


def _describe(user: User, units, people) -> str:
    parts = [f"catégorie {user.category}"]
    if user.org_unit_id:
        parts.append(f"service {units.get(user.org_unit_id)}")
    if user.manager_id:
        parts.append(f"N+1 {people.get(user.manager_id, user.manager_id)}")
    if user.employee_number:
        parts.append(f"matricule {user.employee_number}")
    return f"{_who(user)} — " + ", ".join(parts)
