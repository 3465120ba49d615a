"""Import of directions and services from a CSV file: all lines valid, or nothing written.

Columns (header required, `;` or `,` separated, UTF-8 or Windows-1252: spreadsheets.read_csv):
  code    required, the key: a unit of the institution with this code is updated
  nom     required, 2 to 200 characters
  type    optional, direction or service; empty: service for a new unit, unchanged for an
          existing one
  parent  optional, code of the parent unit (earlier or later in the file, or already in the
          institution); empty: top level. Without the column, existing units keep their parent.

The import neither closes nor reopens a unit; a parent must be open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from .. import spreadsheets
from ..audit.services import record
from ..extensions import db
from ..people.models import User
from ..people.policy import require_admin
from ..spreadsheets import MAX_LINES, read_csv
from .models import OrgUnit

REQUIRED_COLUMNS = ("code", "nom")
OPTIONAL_COLUMNS = ("type", "parent")
KINDS = ("direction", "service")
CODE_RE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,39}")  # as organisation.services.create_org_unit
TEMPLATE_HEADER = ("code", "nom", "type", "parent")
TEMPLATE_ROWS = (("DST", "Direction des services techniques", "direction", ""),
                 ("DST-BAT", "Service des bâtiments", "service", "DST"))


@dataclass
class UnitImportReport:
    created: int = 0
    updated: int = 0


class ImportFailed(spreadsheets.ImportFailed):
    """The file is refused, nothing is written; `lines` lists (line number, message)."""

    NOTHING = "aucune direction ni aucun service n'a été importé"


def import_units(actor: User | None, *, institution_id: int, raw: bytes) -> UnitImportReport:
    """Validate every line, then upsert by code. `actor` is None for the command line."""
    if actor is not None:
        require_admin(actor, institution_id)
    header, rows = read_csv(raw, refused=ImportFailed, max_lines=MAX_LINES)
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        problems = []
        if missing:
            problems.append("colonnes manquantes : " + ", ".join(missing))
        if unknown:
            problems.append("colonnes inconnues : " + ", ".join(unknown))
        if len(set(header)) != len(header):
            problems.append("colonne en double")
        raise ImportFailed([(1, "En-tête : " + " ; ".join(problems))])
    if not rows:
        raise ImportFailed([(2, "Aucune ligne de direction ou de service sous l'en-tête.")])
    with_parent = "parent" in header

    existing = {
        u.code: u for u in db.session.scalars(
            select(OrgUnit).where(OrgUnit.institution_id == institution_id)
        )
    }
    errors: list[tuple[int, str]] = []
    parsed: list[tuple[int, dict]] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        if "__width__" in row:
            errors.append((line, f"{row['__width__']} colonnes au lieu de {len(header)}."))
            continue
        problems = []
        code = row["code"].upper()
        if not CODE_RE.fullmatch(code):
            problems.append(f"code « {row['code'][:50]} » : 1 à 40 lettres, chiffres, tirets (ex. DRH-PAIE)")
        elif code in seen:
            problems.append(f"code déjà présent ligne {seen[code]}")
        else:
            seen[code] = line
        if not 2 <= len(row["nom"]) <= 200:
            problems.append("le nom doit compter entre 2 et 200 caractères")
        kind = row.get("type", "").lower()
        if kind and kind not in KINDS:
            problems.append(f"type « {row['type'][:20]} » : direction ou service attendu")
        unit = existing.get(code)
        if not kind:
            kind = unit.kind if unit is not None else "service"
        parent_code = row.get("parent", "").upper() if with_parent else (
            unit.parent.code if unit is not None and unit.parent is not None else "")
        if parent_code and parent_code == code:
            problems.append("une unité ne peut être rattachée à elle-même")
        if problems:
            sentence = " ; ".join(problems)
            errors.append((line, sentence[0].upper() + sentence[1:] + "."))
        else:
            parsed.append((line, {"code": code, "name": row["nom"], "kind": kind, "parent": parent_code}))

    in_file = {data["code"] for _line, data in parsed} | set(seen)
    for line, data in parsed:
        parent_code = data["parent"]
        if not parent_code:
            continue
        parent = existing.get(parent_code)
        if parent is not None and not parent.is_open:
            errors.append((line, f"L'unité parente « {parent_code} » est fermée."))
        elif parent is None and parent_code not in in_file:
            errors.append((line, f"Unité parente « {parent_code[:50]} » inconnue dans la collectivité "
                                 "et absente du fichier."))

    errors.extend(_cycles(existing, parsed))
    if errors:
        raise ImportFailed(sorted(errors))

    report = UnitImportReport()
    units = dict(existing)
    for _line, data in parsed:
        unit = units.get(data["code"])
        if unit is None:
            unit = OrgUnit(institution_id=institution_id, code=data["code"], name=data["name"],
                           kind=data["kind"])
            db.session.add(unit)
            units[data["code"]] = unit
            report.created += 1
        else:
            unit.name, unit.kind = data["name"], data["kind"]
            report.updated += 1
    db.session.flush()
    for _line, data in parsed:
        units[data["code"]].parent = units[data["parent"]] if data["parent"] else None
    db.session.flush()
    record("org_units.imported", actor=actor, institution_id=institution_id,
           data={"created": report.created, "updated": report.updated, "lines": len(parsed)})
    return report


def _cycles(existing: dict[str, OrgUnit], parsed: list[tuple[int, dict]]) -> list[tuple[int, str]]:
    """Parent chains after the import must not loop (a unit its own ancestor)."""
    parents: dict[str, str | None] = {
        code: unit.parent.code if unit.parent is not None else None for code, unit in existing.items()
    }
    for _line, data in parsed:
        parents[data["code"]] = data["parent"] or None
    errors = []
    for line, data in parsed:
        seen = set()
        current: str | None = data["code"]
        while current is not None:
            if current in seen:
                errors.append((line, "Une unité ne peut être rattachée à l'une de ses sous-unités "
                                     "(la chaîne des unités parentes formerait une boucle)."))
                break
            seen.add(current)
            current = parents.get(current)
    return errors
