"""The directory's settings, read from the application's configuration and checked.

Flask reads `INCUBATEUR_<KEY>` environment variables as JSON when they parse as JSON, so a
password made of digits would arrive as a number ("0123" stays text, "1e3" becomes 1000.0);
text settings are therefore taken back from the environment's own string when the value
came from there."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..people.models import CATEGORIES

# What the sync reads, and the attribute it reads it from by default (OpenLDAP's
# inetOrgPerson). Active Directory: key "objectGUID", unit "department" or "physicalDeliveryOfficeName",
# category an attribute of the institution's choice (e.g. "employeeType" or "extensionAttribute1").
DEFAULT_ATTRIBUTES = {
    "key": "entryUUID",  # stable key of the entry (AD: objectGUID)
    "email": "mail",
    "first_name": "givenName",
    "last_name": "sn",
    "employee_number": "employeeNumber",
    "unit": "departmentNumber",  # code of the agent's direction or service
    "manager": "manager",  # DN of the N+1's entry
    "category": "employeeType",  # A, B or C (« Catégorie B » is read too)
    "unit_code": "ou",  # on unit entries (DIRECTORY_UNIT_FILTER): the code...
    "unit_name": "description",  # ... and the name of the unit
}
REQUIRED_ATTRIBUTES = ("key", "email", "first_name", "last_name")

# Active Directory: people, accounts not disabled (bit 2 of userAccountControl).
AD_USER_FILTER = ("(&(objectCategory=person)(objectClass=user)"
                  "(!(userAccountControl:1.2.840.113556.1.4.803:=2)))")

TEXT_SETTINGS = ("DIRECTORY_URL", "DIRECTORY_CA_FILE", "DIRECTORY_BIND_DN", "DIRECTORY_BIND_PASSWORD", "DIRECTORY_BASE_DN",
                 "DIRECTORY_USER_FILTER", "DIRECTORY_UNIT_FILTER", "DIRECTORY_INSTITUTION",
                 "DIRECTORY_DEFAULT_CATEGORY")


class DirectoryError(Exception):
    """The directory cannot be read (settings, connection, bind, search): `message`, in
    French, says why; nothing is written."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class DirectorySettings:
    url: str
    base_dn: str
    bind_dn: str | None = None
    bind_password: str | None = None
    start_tls: bool = False
    ca_file: str | None = None
    user_filter: str = "(&(objectClass=inetOrgPerson)(mail=*))"
    unit_filter: str = "(objectClass=organizationalUnit)"
    attributes: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_ATTRIBUTES))
    institution: str | None = None
    default_category: str | None = None
    max_deactivation_percent: float = 10
    page_size: int = 500
    timeout: int = 10


def _text(config: Mapping[str, Any], name: str) -> str | None:
    value = config.get(name)
    if value is None or isinstance(value, str):
        return value.strip() if isinstance(value, str) and name != "DIRECTORY_BIND_PASSWORD" else value
    raw = os.environ.get(f"INCUBATEUR_{name}")
    if raw is not None:
        try:
            from_environment = json.loads(raw) == value
        except ValueError:
            from_environment = False
        if from_environment:
            return raw
    return str(value)


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "oui", "yes", "on")
    return bool(value)


def _number(config, name: str, low: float, high: float, default: float, problems: list[str]) -> float:
    value = config.get(name)
    if value is None:
        return default
    try:
        number = float(str(value).strip().rstrip("%"))
        if not low <= number <= high or isinstance(value, bool):
            raise ValueError
        return number
    except (TypeError, ValueError):
        problems.append(f"{name} invalide : {value!r} (un nombre entre {low:g} et {high:g} est attendu).")
        return low


def read_settings(config: Mapping[str, Any]) -> DirectorySettings:
    """The settings, or DirectoryError naming every problem."""
    problems: list[str] = []
    text = {name: _text(config, name) for name in TEXT_SETTINGS}
    url = text["DIRECTORY_URL"] or ""
    if not url:
        problems.append("DIRECTORY_URL manquante : adresse de l'annuaire, par exemple "
                        "ldaps://annuaire.ville.fr ou ldap://annuaire.ville.fr.")
    elif not url.lower().startswith(("ldap://", "ldaps://")):
        problems.append(f"DIRECTORY_URL invalide : « {url} » (ldap://… ou ldaps://… attendu).")
    if text["DIRECTORY_CA_FILE"] and not os.path.isfile(text["DIRECTORY_CA_FILE"]):
        problems.append(f"DIRECTORY_CA_FILE : fichier « {text['DIRECTORY_CA_FILE']} » introuvable.")
    if not text["DIRECTORY_BASE_DN"]:
        problems.append("DIRECTORY_BASE_DN manquante : branche de l'annuaire où chercher les agents, "
                        "par exemple ou=agents,dc=ville,dc=fr.")
    attributes = dict(DEFAULT_ATTRIBUTES)
    overrides = config.get("DIRECTORY_ATTRIBUTES") or {}
    if isinstance(overrides, str):
        try:
            overrides = json.loads(overrides)
        except ValueError:
            overrides = None
    if not isinstance(overrides, Mapping):
        problems.append("DIRECTORY_ATTRIBUTES invalide : un objet JSON est attendu, par exemple "
                        '{"key": "objectGUID", "unit": "department"}.')
        overrides = {}
    for name, attribute in overrides.items():
        if name not in DEFAULT_ATTRIBUTES:
            problems.append(f"DIRECTORY_ATTRIBUTES : « {name} » inconnu (attendus : "
                            + ", ".join(DEFAULT_ATTRIBUTES) + ").")
        elif not isinstance(attribute, str):
            problems.append(f"DIRECTORY_ATTRIBUTES : le nom d'attribut de « {name} » doit être un texte.")
        elif not attribute.strip() and name in REQUIRED_ATTRIBUTES:
            problems.append(f"DIRECTORY_ATTRIBUTES : « {name} » ne peut pas être désactivé.")
        else:
            attributes[name] = attribute.strip()
    category = (text["DIRECTORY_DEFAULT_CATEGORY"] or "").upper() or None
    if category is not None and category not in CATEGORIES:
        problems.append(f"DIRECTORY_DEFAULT_CATEGORY invalide : « {category} » (A, B ou C, ou rien).")
    percent = _number(config, "DIRECTORY_MAX_DEACTIVATION_PERCENT", 0, 100,
                      DirectorySettings.max_deactivation_percent, problems)
    page_size = _number(config, "DIRECTORY_PAGE_SIZE", 1, 5000, DirectorySettings.page_size, problems)
    timeout = _number(config, "DIRECTORY_TIMEOUT", 1, 600, DirectorySettings.timeout, problems)
    if problems:
        raise DirectoryError("Configuration de l'annuaire incomplète ou invalide :\n  "
                             + "\n  ".join(problems))
    return DirectorySettings(
        url=url, base_dn=text["DIRECTORY_BASE_DN"], bind_dn=text["DIRECTORY_BIND_DN"] or None,
        bind_password=text["DIRECTORY_BIND_PASSWORD"], start_tls=_flag(config.get("DIRECTORY_START_TLS")),
        ca_file=text["DIRECTORY_CA_FILE"] or None,
        user_filter=text["DIRECTORY_USER_FILTER"] or DirectorySettings.user_filter,
        unit_filter=text["DIRECTORY_UNIT_FILTER"] or "", attributes=attributes,
        institution=text["DIRECTORY_INSTITUTION"] or None, default_category=category,
        max_deactivation_percent=percent, page_size=int(page_size),
        timeout=max(1, round(timeout)))  # ldap3 sets socket options: whole seconds
