"""Import of agents from a CSV file: all lines valid, or nothing written.

Columns (header required, `;` or `,` separated, UTF-8 or Windows-1252: spreadsheets.read_csv):
  email       required, the key: an existing agent with this address is updated, if the
              importing administrator may change that account in the form
              (people.policy.can_edit_user); an address of another institution is refused
              without saying so (people.services.email_problem)
  prenom      required
  nom         required
  categorie   required, A, B or C
  service     required, code of an open direction or service of the institution
  quotite     optional, QUOTITE_MIN to QUOTITE_MAX (default: full time)
  n_plus_1    optional, email of the N+1 (an agent of the institution or of the file)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from .. import spreadsheets
from ..audit.services import record
from ..extensions import db
from ..spreadsheets import MAX_LINES, read_csv
from .models import CATEGORIES, EMAIL_MAX, QUOTITE_MAX, QUOTITE_MIN, OrgUnit, User
from .policy import user_edit_refusal
from .services import EMAIL_RE, email_problem, normalise_email, require_admin

REQUIRED_COLUMNS = ("email", "prenom", "nom", "categorie", "service")
OPTIONAL_COLUMNS = ("quotite", "n_plus_1")


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


class ImportFailed(spreadsheets.ImportFailed):
    """The file is refused, nothing is written; `lines` lists (line number, message)."""

    NOTHING = "aucun agent n'a été importé"


def import_agents(actor: User | None, *, institution_id: int, raw: bytes) -> ImportReport:
    """Validate every line, then upsert by email. `actor` is None for the command line."""
    if actor is not None:
        require_admin(actor, institution_id)
    header, rows = read_csv(raw, refused=ImportFailed, max_lines=MAX_LINES)
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if missing or unknown:
        problems = []
        if missing:
            problems.append("colonnes manquantes : " + ", ".join(missing))
        if unknown:
            problems.append("colonnes inconnues : " + ", ".join(unknown))
        raise ImportFailed([(1, "En-tête : " + " ; ".join(problems))])
    if not rows:
        raise ImportFailed([(2, "Aucune ligne d'agent sous l'en-tête.")])

    emails = {normalise_email(r.get("email", "")) for _, r in rows}
    emails |= {normalise_email(r.get("n_plus_1", "")) for _, r in rows if r.get("n_plus_1")}
    existing = {
        u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))
    }
    units = {
        u.code: u for u in db.session.scalars(
            select(OrgUnit).where(OrgUnit.institution_id == institution_id)
        )
    }

    errors: list[tuple[int, str]] = []
    parsed: list[tuple[int, dict]] = []
    seen: dict[str, int] = {}
    file_emails = set()
    for line, row in rows:
        if "__width__" in row:
            errors.append((line, f"{row['__width__']} colonnes au lieu de {len(header)}."))
            continue
        problems = []
        email = normalise_email(row["email"])
        if not EMAIL_RE.match(email) or len(email) > EMAIL_MAX:
            problems.append(f"adresse électronique invalide « {row['email'][:80]} »")
        elif email in seen:
            problems.append(f"adresse déjà présente ligne {seen[email]}")
        elif ((holder := existing.get(email)) is not None and holder.institution_id == institution_id
              and not email.endswith(".invalid")):
            # An update: the guard of the agent's form (an instance administrator's account
            # is changed by an instance administrator only).
            if actor is not None and (refusal := user_edit_refusal(actor, holder)) is not None:
                problems.append(refusal.rstrip("."))
        elif (problem := email_problem(institution_id, email, holder)) is not None:
            # A new agent: the address must be free, and not reserved, on the instance.
            problems.append(problem.rstrip("."))
        seen.setdefault(email, line)
        file_emails.add(email)
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
        manager_email = normalise_email(row.get("n_plus_1", ""))
        if manager_email and manager_email == email:
            problems.append("un agent ne peut être son propre N+1")
        if problems:
            sentence = " ; ".join(problems)
            errors.append((line, sentence[0].upper() + sentence[1:] + "."))
        else:
            parsed.append((line, {
                "email": email, "first_name": row["prenom"], "last_name": row["nom"],
                "category": category, "quotite": quotite, "org_unit_id": unit.id,
                "manager_email": manager_email,
            }))

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
    by_email: dict[str, User] = {}
    for _line, data in parsed:
        user = existing.get(data["email"])
        fields = {k: v for k, v in data.items() if k != "manager_email"}
        if user is None:
            user = User(institution_id=institution_id, password_hash=None, **fields)
            db.session.add(user)
            report.created += 1
        else:
            for key, value in fields.items():
                setattr(user, key, value)
            report.updated += 1
        by_email[data["email"]] = user
    db.session.flush()
    for _line, data in parsed:
        manager_email = data["manager_email"]
        manager = by_email.get(manager_email) or existing.get(manager_email)
        by_email[data["email"]].manager_id = manager.id if manager_email else None
    db.session.flush()
    record("agents.imported", actor=actor, institution_id=institution_id,
           data={"created": report.created, "updated": report.updated, "lines": len(parsed)})
    return report


def _manager_cycles(institution_id: int, parsed: list[tuple[int, dict]]) -> list[tuple[int, str]]:
    """N+1 chains after the import must not loop."""
    managers: dict[str, str | None] = {}
    rows = db.session.execute(
        select(User.email, User.manager_id, User.id).where(User.institution_id == institution_id)
    ).all()
    email_of = {uid: email for email, _m, uid in rows}
    for email, manager_id, _uid in rows:
        managers[email] = email_of.get(manager_id)
    for _line, data in parsed:
        managers[data["email"]] = data["manager_email"] or None
    errors = []
    for line, data in parsed:
        seen = set()
        current: str | None = data["email"]
        while current is not None:
            if current in seen:
                errors.append((line, "La chaîne des N+1 formerait une boucle."))
                break
            seen.add(current)
            current = managers.get(current)
    return errors
