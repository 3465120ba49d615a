"""Import of agents from a CSV file: all lines valid, or nothing written.

Columns (header required, `;` or `,` separated, UTF-8 or Windows-1252: spreadsheets.read_csv):
  email       the key: an existing agent with this address is updated, if the importing
              administrator may change that account in the form
              (people.policy.can_edit_user); an address of another institution is refused
              without saying so (people.services.email_problem)
  identifiant the sign-in identifier (matricule...) of an agent without an address: the key
              of a line without an address; on a line with one, given to the agent
              At least one of the two columns, and on each line an address or an identifier.
              An empty cell never removes an agent's address or identifier.
  prenom      required
  nom         required
  categorie   required, A, B or C
  service     required, code of an open direction or service of the institution
  quotite     optional, QUOTITE_MIN to QUOTITE_MAX (default: full time)
  n_plus_1    optional, email of the N+1 (an agent of the institution or of the file)
  matricule   optional, the agent number HR knows them by (users.employee_number, also set
              by the directory sync): unique in the institution; an empty cell keeps it
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select

from .. import spreadsheets
from ..audit.services import record
from ..extensions import db
from ..spreadsheets import MAX_LINES, read_csv
from .models import (
    CATEGORIES,
    EMAIL_MAX,
    EMPLOYEE_NUMBER_MAX,
    QUOTITE_MAX,
    QUOTITE_MIN,
    OrgUnit,
    User,
)
from .policy import user_edit_refusal
from .services import (
    EMAIL_RE,
    EMPLOYEE_NUMBER_FORM,
    EMPLOYEE_NUMBER_TAKEN,
    email_problem,
    login_id_problem,
    normalise_email,
    normalise_login_id,
    require_admin,
)

REQUIRED_COLUMNS = ("prenom", "nom", "categorie", "service")
KEY_COLUMNS = ("email", "identifiant")  # at least one
OPTIONAL_COLUMNS = ("quotite", "n_plus_1", "matricule")


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    # The agents of the file who have no password yet: the administration may invite them.
    without_password: list[int] = field(default_factory=list)


class ImportFailed(spreadsheets.ImportFailed):
    """The file is refused, nothing is written; `lines` lists (line number, message)."""

    NOTHING = "aucun agent n'a été importé"


def import_agents(actor: User | None, *, institution_id: int, raw: bytes) -> ImportReport:
    """Validate every line, then upsert by email. `actor` is None for the command line."""
    if actor is not None:
        require_admin(actor, institution_id)
    header, rows = read_csv(raw, refused=ImportFailed, max_lines=MAX_LINES)
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if not any(c in header for c in KEY_COLUMNS):
        missing.insert(0, " ou ".join(KEY_COLUMNS))
    unknown = [c for c in header if c not in REQUIRED_COLUMNS + KEY_COLUMNS + OPTIONAL_COLUMNS]
    if missing or unknown:
        problems = []
        if missing:
            problems.append("colonnes manquantes : " + ", ".join(missing))
        if unknown:
            problems.append("colonnes inconnues : " + ", ".join(unknown))
        raise ImportFailed([(1, "En-tête : " + " ; ".join(problems))])
    if not rows:
        raise ImportFailed([(2, "Aucune ligne d'agent sous l'en-tête.")])

    # Every agent is known by a key: its address, else its identifier (no "@" in one).
    keys = {normalise_email(r.get("email", "")) for _, r in rows}
    keys |= {normalise_login_id(r.get("identifiant", "")) for _, r in rows}
    keys |= {normalise_email(r.get("n_plus_1", "")) for _, r in rows if r.get("n_plus_1")}
    keys.discard("")
    existing: dict[str, User] = {}
    for user in db.session.scalars(select(User).where(or_(User.email.in_(keys), User.login_id.in_(keys)))):
        existing.update({k: user for k in (user.email, user.login_id) if k})
    units = {
        u.code: u for u in db.session.scalars(
            select(OrgUnit).where(OrgUnit.institution_id == institution_id)
        )
    }

    # Matricules already held in the institution: an agent number names one agent.
    numbers = {r.get("matricule", "").strip() for _, r in rows} - {""}
    number_holders = dict(db.session.execute(select(User.employee_number, User.id).where(
        User.institution_id == institution_id, User.employee_number.in_(numbers))).all()) if numbers else {}
    seen_numbers: dict[str, int] = {}

    errors: list[tuple[int, str]] = []
    parsed: list[tuple[int, dict]] = []
    seen: dict[str, int] = {}
    file_emails = set()  # the keys of the file's agents
    aliases: dict[str, str] = {}  # identifier -> address, for agents of the file with both
    for line, row in rows:
        if "__width__" in row:
            errors.append((line, f"{row['__width__']} colonnes au lieu de {len(header)}."))
            continue
        problems = []
        email = normalise_email(row.get("email", ""))
        login_id = normalise_login_id(row.get("identifiant", ""))
        key = email or login_id  # an agent without an address is known by their identifier
        holder = existing.get(key)
        if not key:
            problems.append("ni adresse électronique ni identifiant")
        elif email and (not EMAIL_RE.match(email) or len(email) > EMAIL_MAX):
            problems.append(f"adresse électronique invalide « {row['email'][:80]} »")
        elif key in seen:
            problems.append(f"{'adresse' if email else 'identifiant'} déjà présent{'e' if email else ''} "
                            f"ligne {seen[key]}")
        elif (key and holder is not None and holder.institution_id == institution_id
              and not key.endswith(".invalid")):
            # An update: the guard of the agent's form (an instance administrator's account
            # is changed by an instance administrator only).
            if actor is not None and (refusal := user_edit_refusal(actor, holder)) is not None:
                problems.append(refusal.rstrip("."))
        elif email and (problem := email_problem(institution_id, email, holder)) is not None:
            # A new agent: the address must be free, and not reserved, on the instance.
            problems.append(problem.rstrip("."))
        own = holder if holder is not None and holder.institution_id == institution_id else None
        if login_id and key != login_id and login_id in seen:
            problems.append(f"identifiant déjà présent ligne {seen[login_id]}")
        elif login_id and (problem := login_id_problem(institution_id, login_id, own)) is not None:
            problems.append(problem.rstrip("."))
        if key:
            seen.setdefault(key, line)
            file_emails.add(key)
            if email and login_id:
                aliases[login_id] = key
                seen.setdefault(login_id, line)
        for column, label in (("prenom", "prénom"), ("nom", "nom")):
            if not 1 <= len(row[column]) <= 100:
                problems.append(f"{label} manquant ou trop long")
        category = row["categorie"].upper()
        if category not in CATEGORIES:
            problems.append(f"catégorie « {row['categorie'][:10]} » : A, B ou C attendu")
        quotite = QUOTITE_MAX
        if row.get("quotite"):
            try:
                quotite = int(row["quotite"].rstrip("%").strip())
                if not QUOTITE_MIN <= quotite <= QUOTITE_MAX:
                    raise ValueError
            except ValueError:
                problems.append(f"quotité « {row['quotite'][:10]} » : entier de {QUOTITE_MIN} à {QUOTITE_MAX} attendu")
        unit = units.get(row["service"].upper())
        if unit is None:
            problems.append(f"service de code « {row['service'][:40]} » inconnu")
        elif not unit.is_open:
            problems.append(f"le service « {unit.code} » est fermé")
        number = row.get("matricule", "").strip()
        if number:
            if len(number) > EMPLOYEE_NUMBER_MAX or not number.isprintable():
                problems.append(f"matricule « {number[:20]} » refusé : {EMPLOYEE_NUMBER_FORM[0].lower()}{EMPLOYEE_NUMBER_FORM[1:-1]}")
            elif number in seen_numbers:
                problems.append(f"matricule déjà présent ligne {seen_numbers[number]}")
            elif number in number_holders and (own is None or number_holders[number] != own.id):
                problems.append(f"matricule « {number} » : {EMPLOYEE_NUMBER_TAKEN[0].lower()}{EMPLOYEE_NUMBER_TAKEN[1:-1]}")
            seen_numbers.setdefault(number, line)
        manager_email = normalise_email(row.get("n_plus_1", ""))
        if manager_email and manager_email in (key, login_id):
            problems.append("un agent ne peut être son propre N+1")
        if problems:
            sentence = " ; ".join(problems)
            errors.append((line, sentence[0].upper() + sentence[1:] + "."))
        else:
            parsed.append((line, {
                "key": key, "email": email or None, "login_id": login_id or None,
                "first_name": row["prenom"], "last_name": row["nom"],
                "category": category, "quotite": quotite, "org_unit_id": unit.id,
                "manager_email": manager_email, "employee_number": number or None,
            }))

    for _line, data in parsed:
        # A N+1 named by the identifier of a file's agent who also has an address.
        data["manager_email"] = aliases.get(data["manager_email"], data["manager_email"])
    for line, data in parsed:
        manager_email = data["manager_email"]
        if not manager_email:
            continue
        manager = existing.get(manager_email)
        if manager_email in file_emails:
            # The import updates but never reactivates: an inactive N+1 stays inactive.
            if manager is not None and not manager.is_active:
                errors.append((line, f"Le N+1 « {manager_email} » a un compte désactivé."))
            continue
        if manager is None or manager.institution_id != institution_id:
            errors.append((line, f"N+1 « {manager_email} » inconnu dans la collectivité et absent du fichier."))
        elif not manager.is_active:
            errors.append((line, f"Le N+1 « {manager_email} » a un compte désactivé."))

    if not errors:
        errors.extend(_manager_cycles(institution_id, parsed))
    if errors:
        raise ImportFailed(sorted(errors))

    report = ImportReport()
    by_email: dict[str, User] = {}  # by key
    for _line, data in parsed:
        user = existing.get(data["key"])
        # An empty address, identifier or matricule never removes the agent's own.
        fields = {k: v for k, v in data.items() if k not in ("key", "manager_email")
                  and not (k in ("email", "login_id", "employee_number") and v is None)}
        if user is None:
            user = User(institution_id=institution_id, password_hash=None, **fields)
            db.session.add(user)
            report.created += 1
        else:
            for key, value in fields.items():
                setattr(user, key, value)
            report.updated += 1
        by_email[data["key"]] = user
    db.session.flush()
    for _line, data in parsed:
        manager_email = data["manager_email"]
        manager = by_email.get(manager_email) or existing.get(manager_email)
        by_email[data["key"]].manager_id = manager.id if manager_email else None
    db.session.flush()
    report.without_password = [u.id for u in by_email.values() if not u.password_hash]
    record("agents.imported", actor=actor, institution_id=institution_id,
           data={"created": report.created, "updated": report.updated, "lines": len(parsed)})
    return report


def _manager_cycles(institution_id: int, parsed: list[tuple[int, dict]]) -> list[tuple[int, str]]:
    """N+1 chains after the import must not loop."""
    managers: dict[str, str | None] = {}
    rows = db.session.execute(
        select(User.email, User.login_id, User.manager_id, User.id).where(User.institution_id == institution_id)
    ).all()
    key_of = {uid: email or login_id for email, login_id, _m, uid in rows}
    alias = {login_id: email for email, login_id, _m, _uid in rows if email and login_id}
    for email, login_id, manager_id, _uid in rows:
        managers[email or login_id] = key_of.get(manager_id)
    for _line, data in parsed:
        manager = data["manager_email"] or None
        managers[data["key"]] = alias.get(manager, manager)
    errors = []
    for line, data in parsed:
        seen = set()
        current: str | None = data["key"]
        while current is not None:
            if current in seen:
                errors.append((line, "La chaîne des N+1 formerait une boucle."))
                break
            seen.add(current)
            current = managers.get(current)
    return errors
