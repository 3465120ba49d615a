"""Institutions and their directions and services: creation, renaming, moves, closing."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import func, select

from ..audit.services import record
from ..errors import Checks, ValidationFailed
from ..extensions import db
from ..people.models import User
from ..people.policy import require_admin, require_instance_admin
from .models import Institution, OrgUnit

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def create_institution(
    actor: User | None, *, name: str, slug: str, kind: str = "commune"
) -> Institution:
    """`actor` is None only for the command line, run by the server's operator."""
    if actor is not None:
        require_instance_admin(actor)
    name, slug = (name or "").strip(), (slug or "").strip().lower()
    errors: dict[str, str] = {}
    if not 2 <= len(name) <= 200:
        errors["name"] = "Le nom doit compter entre 2 et 200 caractères."
    elif db.session.scalar(select(Institution.id).where(Institution.name == name)):
        errors["name"] = "Une collectivité porte déjà ce nom."
    if not SLUG_RE.match(slug) or len(slug) > 80:
        errors["slug"] = "Identifiant : lettres minuscules, chiffres et tirets (ex. ville-de-belleville)."
    elif db.session.scalar(select(Institution.id).where(Institution.slug == slug)):
        errors["slug"] = "Cet identifiant est déjà pris."
    if errors:
        raise ValidationFailed(errors)
    institution = Institution(name=name, slug=slug, kind=(kind or "commune").strip()[:80])
    db.session.add(institution)
    db.session.flush()
    record("institution.created", actor=actor, institution_id=institution.id,
           target=institution, data={"name": name, "slug": slug})
    return institution


def open_unit_in(institution_id: int, unit_id: int | None, field: str) -> OrgUnit | None:
    if unit_id is None:
        return None
    unit = db.session.get(OrgUnit, unit_id)
    if unit is None or unit.institution_id != institution_id:
        raise ValidationFailed({field: "Direction ou service inconnu."})
    if not unit.is_open:
        raise ValidationFailed({field: "Cette direction ou ce service est fermé."})
    return unit


def _check_unit_name(name: str) -> str:
    name = (name or "").strip()
    if not 2 <= len(name) <= 200:
        raise ValidationFailed({"name": "Le nom doit compter entre 2 et 200 caractères."})
    return name


def create_org_unit(
    actor: User | None, *, institution_id: int, code: str, name: str, kind: str,
    parent_id: int | None, source: str | None = None,
) -> OrgUnit:
    """`actor` is None for the server's operator (the directory sync, `source="directory"`)."""
    if actor is not None:
        require_admin(actor, institution_id)
    code = (code or "").strip().upper()
    checks = Checks()
    if not re.fullmatch(r"[A-Z0-9][A-Z0-9_-]{0,39}", code):
        checks.add("code", "Code : 1 à 40 lettres, chiffres, tirets (ex. DRH-PAIE).")
    elif db.session.scalar(
        select(OrgUnit.id).where(OrgUnit.institution_id == institution_id, OrgUnit.code == code)
    ):
        checks.add("code", "Ce code est déjà utilisé.")
    if kind not in ("direction", "service"):
        checks.add("kind", "Choisissez direction ou service.")
    name = checks.run(_check_unit_name, name)
    parent = checks.run(open_unit_in, institution_id, parent_id, "parent_id")
    checks.raise_any()
    unit = OrgUnit(institution_id=institution_id, code=code, name=name, kind=kind, parent=parent)
    db.session.add(unit)
    db.session.flush()
    record("org_unit.created", actor=actor, institution_id=institution_id, target=unit,
           data={"code": code, "name": name, "parent_id": parent_id,
                 **({"source": source} if source else {})})
    return unit


def rename_org_unit(actor: User | None, unit: OrgUnit, *, name: str, source: str | None = None) -> None:
    """`actor` is None for the server's operator (the directory sync, `source="directory"`)."""
    if actor is not None:
        require_admin(actor, unit.institution_id)
    name = _check_unit_name(name)
    old = unit.name
    unit.name = name
    record("org_unit.renamed", actor=actor, institution_id=unit.institution_id, target=unit,
           data={"from": old, "to": name, **({"source": source} if source else {})})


def move_org_unit(actor: User, unit: OrgUnit, *, parent_id: int | None) -> None:
    require_admin(actor, unit.institution_id)
    parent = open_unit_in(unit.institution_id, parent_id, "parent_id")
    ancestor = parent
    while ancestor is not None:
        if ancestor.id == unit.id:
            raise ValidationFailed(
                {"parent_id": "Une unité ne peut être rattachée à elle-même ou à l'une de ses sous-unités."}
            )
        ancestor = ancestor.parent
    old = unit.parent_id
    unit.parent = parent
    record("org_unit.moved", actor=actor, institution_id=unit.institution_id, target=unit,
           data={"from": old, "to": parent_id})


def close_org_unit(actor: User, unit: OrgUnit, *, on: date) -> None:
    require_admin(actor, unit.institution_id)
    if not unit.is_open:
        raise ValidationFailed({"closed_on": "Cette unité est déjà fermée."})
    open_children = db.session.scalar(
        select(func.count()).select_from(OrgUnit)
        .where(OrgUnit.parent_id == unit.id, OrgUnit.closed_on.is_(None))
    )
    agents = db.session.scalar(
        select(func.count()).select_from(User)
        .where(User.org_unit_id == unit.id, User.is_active.is_(True))
    )
    if open_children or agents:
        parts = []
        if open_children:
            parts.append(f"{open_children} sous-unité(s) ouverte(s)")
        if agents:
            parts.append(f"{agents} agent(s) actif(s)")
        raise ValidationFailed({"closed_on": (
            "Impossible de fermer : " + " et ".join(parts)
            + " y sont encore rattaché(e)s. Déplacez-les d'abord."
        )})
    unit.closed_on = on
    record("org_unit.closed", actor=actor, institution_id=unit.institution_id, target=unit,
           data={"closed_on": on.isoformat()})


def reopen_org_unit(actor: User, unit: OrgUnit) -> None:
    require_admin(actor, unit.institution_id)
    if unit.is_open:
        raise ValidationFailed({"closed_on": "Cette unité est déjà ouverte."})
    if unit.parent is not None and not unit.parent.is_open:
        raise ValidationFailed({"closed_on": "Rouvrez d'abord l'unité parente."})
    unit.closed_on = None
    record("org_unit.reopened", actor=actor, institution_id=unit.institution_id, target=unit)
