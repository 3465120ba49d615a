"""Reading the directory: one connection, a paged search for agents (and one for units),
each entry turned into plain values. Any failure is a DirectoryError in French."""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from ldap3 import NONE, SUBTREE, Connection, Server, Tls
from ldap3.core import exceptions as ldap_errors
from ldap3.utils.dn import safe_dn

from .settings import DirectoryError, DirectorySettings


@dataclass(frozen=True)
class AgentEntry:
    """One agent as the directory describes them (None: attribute absent or turned off)."""

    dn: str
    key: str | None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    employee_number: str | None = None
    unit: str | None = None
    manager_dn: str | None = None
    category: str | None = None

    @property
    def dn_key(self) -> str:
        return normalise_dn(self.dn)


@dataclass(frozen=True)
class UnitEntry:
    dn: str
    code: str | None
    name: str | None


AGENT_FIELDS = ("key", "email", "first_name", "last_name", "employee_number", "unit", "manager",
                "category")


def normalise_dn(dn: str) -> str:
    """A DN as compared: spaces around separators dropped, case ignored."""
    try:
        return safe_dn(dn).lower()
    except (ldap_errors.LDAPInvalidDnError, ValueError, TypeError):
        return (dn or "").strip().lower()


def read_directory(settings: DirectorySettings) -> tuple[list[AgentEntry], list[UnitEntry]]:
    """Every agent entry under the base DN matching the filter, and every unit entry."""
    connection = _connect(settings)
    try:
        attrs = settings.attributes
        wanted = {name: attrs[name] for name in AGENT_FIELDS if attrs.get(name)}
        agents = [
            AgentEntry(dn=dn, key=_key(values, wanted["key"]),
                       manager_dn=_text(values, wanted.get("manager")),
                       **{name: _text(values, wanted.get(name))
                          for name in AGENT_FIELDS if name not in ("key", "manager")})
            for dn, values in _search(connection, settings, settings.user_filter, wanted.values())
        ]
        units = []
        if settings.unit_filter and attrs.get("unit_code"):
            unit_attrs = [a for a in (attrs["unit_code"], attrs.get("unit_name")) if a]
            units = [UnitEntry(dn=dn, code=_text(values, attrs["unit_code"]),
                               name=_text(values, attrs.get("unit_name")))
                     for dn, values in _search(connection, settings, settings.unit_filter, unit_attrs)]
        return agents, units
    finally:
        _close(connection)


def _connect(settings: DirectorySettings) -> Connection:
    """A bound connection, or a DirectoryError in French (the socket closed)."""
    where = settings.url
    connection = None
    try:
        # ldaps:// and StartTLS: the certificate is checked (system CAs, or DIRECTORY_CA_FILE).
        tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=settings.ca_file)
        server = Server(settings.url, get_info=NONE, connect_timeout=settings.timeout, tls=tls)
        connection = Connection(server, user=settings.bind_dn, password=settings.bind_password,
                                raise_exceptions=True, read_only=True, auto_referrals=False,
                                receive_timeout=settings.timeout)
        connection.open()
        if settings.start_tls:
            try:
                connection.start_tls()
            except ldap_errors.LDAPException as exc:
                raise DirectoryError(f"StartTLS a échoué avec l'annuaire ({where}) : {_detail(exc)}") from None
        connection.bind()
        return connection
    except DirectoryError:
        _close(connection)
        raise
    except (ldap_errors.LDAPInvalidCredentialsResult, ldap_errors.LDAPBindError) as exc:
        _close(connection)
        raise DirectoryError(
            f"Connexion à l'annuaire refusée ({where}) : identifiant ou mot de passe du compte "
            f"de lecture incorrect (DIRECTORY_BIND_DN, DIRECTORY_BIND_PASSWORD). Détail : {_detail(exc)}"
        ) from None
    except (ldap_errors.LDAPSocketOpenError, ldap_errors.LDAPCommunicationError,
            ldap_errors.LDAPResponseTimeoutError) as exc:
        _close(connection)
        if "ssl" in _detail(exc).lower():
            raise DirectoryError(
                f"Échec de la connexion chiffrée (TLS) à l'annuaire ({where}) : le serveur parle-t-il "
                "TLS sur ce port, et son certificat est-il signé par une autorité connue "
                f"(DIRECTORY_CA_FILE) ? Détail : {_detail(exc)}") from None
        raise DirectoryError(
            f"L'annuaire ne répond pas ({where}) : serveur arrêté, adresse ou port erronés, ou "
            f"réseau coupé. Détail : {_detail(exc)}") from None
    except ldap_errors.LDAPException as exc:
        _close(connection)
        raise DirectoryError(f"Connexion à l'annuaire impossible ({where}) : {_detail(exc)}") from None


def _close(connection: Connection | None) -> None:
    if connection is None:
        return
    try:
        connection.unbind()  # closes the socket, bound or not
    except (ldap_errors.LDAPException, OSError):
        pass
    sock = getattr(connection, "socket", None)  # left open by a failed connection attempt
    if sock is not None:
        try:
            sock.close()
        except OSError:
            pass


def _search(connection: Connection, settings: DirectorySettings, search_filter: str,
            attributes) -> Iterator[tuple[str, dict[str, list[bytes]]]]:
    """(dn, {attribute in lower case: raw values}) for each entry, page by page."""
    try:
        for item in connection.extend.standard.paged_search(
                settings.base_dn, search_filter, search_scope=SUBTREE, attributes=list(attributes),
                paged_size=settings.page_size, generator=True):
            if item.get("type") != "searchResEntry":
                continue  # continuation references (Active Directory)
            raw = item.get("raw_attributes") or {}
            yield item["dn"], {name.lower(): values for name, values in raw.items()}
    except ldap_errors.LDAPNoSuchObjectResult:
        raise DirectoryError(
            f"La branche « {settings.base_dn} » n'existe pas dans l'annuaire (DIRECTORY_BASE_DN)."
        ) from None
    except ldap_errors.LDAPInvalidDNSyntaxResult:
        raise DirectoryError(f"DIRECTORY_BASE_DN invalide : « {settings.base_dn} ».") from None
    except ldap_errors.LDAPInvalidFilterError:
        raise DirectoryError(f"Filtre de recherche invalide : « {search_filter} ».") from None
    except ldap_errors.LDAPException as exc:
        raise DirectoryError(f"Lecture de l'annuaire interrompue ({settings.url}) : {_detail(exc)}") from None


def _detail(exc: Exception) -> str:
    return (str(exc) or type(exc).__name__).replace("\n", " ")[:300]


def _first(values: dict[str, list[bytes]], attribute: str | None) -> bytes | None:
    if not attribute:
        return None
    found = values.get(attribute.lower()) or []
    return found[0] if found else None


def _text(values: dict[str, list[bytes]], attribute: str | None) -> str | None:
    raw = _first(values, attribute)
    if raw is None:
        return None
    text = raw.decode("utf-8", errors="replace").strip() if isinstance(raw, bytes) else str(raw).strip()
    return text or None


def _key(values: dict[str, list[bytes]], attribute: str) -> str | None:
    """The entry's stable key as text; Active Directory's objectGUID (16 bytes) as a UUID."""
    raw = _first(values, attribute)
    if raw is None:
        return None
    if isinstance(raw, bytes) and attribute.lower() == "objectguid" and len(raw) == 16:
        return str(uuid.UUID(bytes_le=raw))
    if isinstance(raw, bytes):
        try:
            return raw.decode("utf-8").strip() or None
        except UnicodeDecodeError:
            return raw.hex()
    return str(raw).strip() or None
