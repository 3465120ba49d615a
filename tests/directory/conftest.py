"""A real OpenLDAP server (Debian's slapd) for the directory sync tests.

One slapd per test process (each pytest-xdist worker starts its own, on a free port, with a
throw-away configuration and an mdb database in a temporary folder), started on first use
and stopped at the end of the session; each test gets a subtree of its own
(`ou=t<n>,dc=ville,dc=test`) holding the small directory below, so tests never see each
other's entries. Readiness is polled with a bind, never waited for with a fixed sleep.

Without slapd the tests are skipped with the reason locally, and fail in CI (CI=true):
`make test` installs it (scripts/system-deps.sh).
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from ldap3 import MODIFY_REPLACE, NONE, Connection, Server
from ldap3.core.exceptions import LDAPException

SCHEMA = Path("/etc/ldap/schema")
SCHEMAS = ("core.schema", "cosine.schema", "inetorgperson.schema")
SUFFIX = "dc=ville,dc=test"
ROOT_DN = f"cn=admin,{SUFFIX}"
# Digits only on purpose: such a password must reach the server as text, also from the
# environment (INCUBATEUR_DIRECTORY_BIND_PASSWORD, parsed as JSON by Flask).
ROOT_PASSWORD = "73519426"
_subtrees = itertools.count(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _slapd_binary() -> str | None:
    found = shutil.which("slapd") or ("/usr/sbin/slapd" if os.access("/usr/sbin/slapd", os.X_OK) else None)
    if found and all((SCHEMA / name).exists() for name in SCHEMAS):
        return found
    return None


@dataclass
class Slapd:
    url: str
    port: int

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection bound as the root DN, closed afterwards (ldap3's own `with` leaves a
        connection bound before it open)."""
        connection = Connection(Server(self.url, get_info=NONE, connect_timeout=5), user=ROOT_DN,
                                password=ROOT_PASSWORD, raise_exceptions=True)
        try:
            connection.open()
            connection.bind()
            yield connection
        finally:
            connection.unbind()


def require_slapd() -> str:
    """slapd's path; without it, skip with the reason, or fail in CI (CI=true)."""
    binary = _slapd_binary()
    if binary is None:
        reason = ("slapd (paquets Debian slapd et ldap-utils) introuvable : les tests de la "
                  "synchronisation avec l'annuaire ne peuvent pas démarrer leur serveur OpenLDAP "
                  "(bash scripts/system-deps.sh l'installe).")
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)
    return binary


@pytest.fixture(scope="session")
def slapd(tmp_path_factory) -> Slapd:
    binary = require_slapd()
    work = tmp_path_factory.mktemp("slapd")
    (work / "data").mkdir()
    includes = "\n".join(f"include {SCHEMA / name}" for name in SCHEMAS)
    (work / "slapd.conf").write_text(f"""{includes}
pidfile {work / 'slapd.pid'}
argsfile {work / 'slapd.args'}
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 104857600
suffix "{SUFFIX}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PASSWORD}
directory {work / 'data'}
index objectClass eq
""")
    log = (work / "slapd.log").open("w")
    for _attempt in range(3):  # another process may take the free port first: another one
        port = free_port()
        # -d 0: stay in the foreground (the fixture owns the process), without debug output.
        process = subprocess.Popen([binary, "-f", str(work / "slapd.conf"), "-h",
                                    f"ldap://127.0.0.1:{port}/", "-d", "0"],
                                   stdout=log, stderr=subprocess.STDOUT)
        server = Slapd(url=f"ldap://127.0.0.1:{port}", port=port)
        if _ready(server, process):
            break
    else:
        process.kill()
        log.close()
        pytest.fail("slapd n'a pas démarré :\n" + (work / "slapd.log").read_text()[-3000:])
    with server.connect() as connection:
        connection.add(SUFFIX, ["dcObject", "organization"], {"o": "Ville de Test", "dc": "ville"})
    yield server
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def _ready(server: Slapd, process: subprocess.Popen, timeout: float = 30) -> bool:
    """Poll with a bind until the server answers (True), stops (False) or the time is up."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        try:
            with server.connect():
                return True
        except LDAPException:
            time.sleep(0.05)  # polling for readiness, not a fixed wait
    if process.poll() is None:
        process.kill()
    return False


# The small directory: units (ou, with their name in description), then agents with their
# unit code (departmentNumber), category (employeeType), N+1 (manager, a DN) and number.
UNITS = [  # (code, name, parent code)
    ("DG", "Direction générale", None),
    ("DRH", "Direction des ressources humaines", "DG"),
    ("DST", "Direction des services techniques", "DG"),
    ("DST-BAT", "Service des bâtiments", "DST"),
]
AGENTS = [  # uid, first name, last name, number, unit, category, manager uid
    ("dgs", "Claire", "Martin", "1001", "DG", "A", None),
    ("drh", "Paul", "Durand", "1002", "DRH", "A", "dgs"),
    ("dst", "Nadia", "Benali", "1003", "DST", "A", "dgs"),
    ("rh1", "Léa", "Petit", "1004", "DRH", "B", "drh"),
    ("rh2", "Hugo", "Leroy", "1005", "DRH", "C", "drh"),
    ("bat1", "Inès", "Moreau", "1006", "DST-BAT", "C", "dst"),
    ("bat2", "Tom", "Garnier", "1007", "DST-BAT", "Catégorie B", "dst"),
    # Her N+1's entry is not in the directory: reported, she is synced without an N+1.
    ("orphan", "Eva", "Roux", "1008", "DST-BAT", "C", "inconnu"),
]


def _address(first: str, last: str) -> str:
    return f"{first}.{last}@ville.test".lower().replace("é", "e").replace("è", "e")


@dataclass
class Directory:
    """One test's subtree on the session's slapd, and helpers to change it."""

    server: Slapd
    base: str

    def agent_dn(self, uid: str) -> str:
        return f"uid={uid},ou=agents,{self.base}"

    def unit_dn(self, code: str) -> str:
        dn = f"ou={code},ou=unites,{self.base}"
        parents = {c: p for c, _n, p in UNITS}
        while parents.get(code):
            code = parents[code]
            dn = dn.replace(",ou=unites,", f",ou={code},ou=unites,")
        return dn

    @staticmethod
    def email(uid: str) -> str:
        agent = next(a for a in AGENTS if a[0] == uid)
        return _address(agent[1], agent[2])

    def add_agent(self, uid, first, last, number, unit, category, manager, **extra) -> None:
        attributes = {"cn": f"{first} {last}", "givenName": first, "sn": last,
                      "mail": extra.pop("mail", _address(first, last)),
                      "employeeNumber": number, "departmentNumber": unit, "employeeType": category,
                      **extra}
        if manager:
            attributes["manager"] = self.agent_dn(manager)
        with self.server.connect() as connection:
            connection.add(self.agent_dn(uid), ["inetOrgPerson"], attributes)

    def modify(self, uid: str, **changes) -> None:
        with self.server.connect() as connection:
            connection.modify(self.agent_dn(uid), {name: [(MODIFY_REPLACE, [value] if value else [])]
                                                   for name, value in changes.items()})

    def delete(self, uid: str) -> None:
        with self.server.connect() as connection:
            connection.delete(self.agent_dn(uid))

    def config(self, **overrides) -> dict:
        return {"DIRECTORY_URL": self.server.url, "DIRECTORY_BIND_DN": ROOT_DN,
                "DIRECTORY_BIND_PASSWORD": ROOT_PASSWORD, "DIRECTORY_BASE_DN": self.base,
                "DIRECTORY_PAGE_SIZE": 3,  # several pages even for this small directory
                "DIRECTORY_TIMEOUT": 5, **overrides}


@pytest.fixture
def directory(slapd) -> Directory:
    base = f"ou=t{os.getpid()}-{next(_subtrees)},{SUFFIX}"
    found = Directory(server=slapd, base=base)
    with slapd.connect() as connection:
        connection.add(base, ["organizationalUnit"], {"ou": base.split(",")[0][3:]})
        connection.add(f"ou=unites,{base}", ["organizationalUnit"], {"ou": "unites"})
        connection.add(f"ou=agents,{base}", ["organizationalUnit"], {"ou": "agents"})
        for code, name, _parent in UNITS:
            connection.add(found.unit_dn(code), ["organizationalUnit"], {"ou": code, "description": name})
    for agent in AGENTS:
        found.add_agent(*agent)
    return found
