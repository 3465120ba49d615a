"""Hostile input for property-based tests: strategies, the world the forms act on, and the
checks every answer must pass (no 5xx, nothing written on refusal, user text inert).

Used by tests/security/test_hostile_*.py. Values are what a browser (or a script posing as
one) can send: strings, repeated fields, files, or a JSON body instead of a form.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser
from io import BytesIO
from typing import Any
from urllib.parse import urlsplit

from hypothesis import strategies as st
from sqlalchemy import select, text

from incubator.collective.models import CollectiveMembership
from incubator.extensions import db
from incubator.projects.models import Project
from incubator.proposals.models import Proposal
from incubator.release_time.models import TimeEntry
from incubator.review.models import ReviewSession
from incubator.timeutil import today_paris
from tests.dates import working_span
from tests.factories import (
    make_agenda_item,
    make_application,
    make_attendance,
    make_comment,
    make_criterion,
    make_decision,
    make_org_unit,
    make_project,
    make_proposal,
    make_session,
    make_settings,
    make_theme,
    make_time_entry,
    make_user,
)

# --------------------------------------------------------------------------- values


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


class File:
    """A file upload in place of a text field."""

    def __init__(self, content: bytes, name: str = "piece.txt"):
        self.content, self.name = content, name

    def __repr__(self) -> str:
        return f"FILE({self.name!r}, {len(self.content)} octets)"


MISSING = _Missing()

# Script payloads. Stored or reflected, none may come back as live markup.
XSS = (
    '<script>alert("xss1337")</script>',
    '"><img src=x onerror=alert(1337)>',
    "'><svg onload=alert(1337)>",
    '" autofocus onfocus="alert(1337)" x="',
    "' onmouseover='alert(1337)' x='",
    "</textarea></title><script>alert(1337)</script>",
    '<a href="javascript:alert(1337)">lien</a>',
    "javascript:alert(1337)",
    'https://exemple.fr/"><script>alert(1337)</script>',
    "https://exemple.fr/?a=1&b=\"onclick=alert(1337)",
    "<iframe src=//evil.example></iframe>",
    "{{ 1337*1337 }}{% print(1337*1337) %}",
    "<!--<script>alert(1337)</script>-->",
    "<style>*{display:none}</style>",
)
# Raw text that must never appear in a page: the live form of the payloads above. (Quotes
# alone are harmless in text, as in JSON shown by the audit log: attributes injected through
# them are found by parsing the page, see _MarkupAudit.)
XSS_SIGNATURES = (
    "<script>alert", "<img src=x onerror", "<svg onload", 'href="javascript:', "<iframe src=//evil",
    "1787569", "<style>*{",
)
SQL = (
    "'; DROP TABLE users; --", "1' OR '1'='1", '" OR ""="', "1; SELECT pg_sleep(3)",
    "' UNION SELECT password_hash FROM users --", "%", "_", "\\", "%' ESCAPE '\\", "1)--",
    "admin'--", "' AND 1=CAST((SELECT version()) AS int)--",
)
CONTROL = (
    "\x00", "a\x00b", "Titre\x00nul", "\x1b[31mrouge", "\x7f\x01\x02", "\u202egnp.exe", "\ufeffBOM",
    "zéro\u200blargeur", "\r\n\r\n", "\t\t", "\x0b\x0c", "\u2028\u2029", "ligne\rseule",
)
UNICODE = (
    "Ω≈ç√∫˜µ≤", "𝕿𝖎𝖙𝖗𝖊 𝖌𝖔𝖙𝖍𝖎𝖖𝖚𝖊", "👩🏽‍🚒🇫🇷", "ｆｕｌｌｗｉｄｔｈ", "e\u0301te\u0301", "İıŞş", "ß→SS",
    "Z̴̡̪͚͙̈́a̶̧͚̾l̷̨̈́g̸͍̈o̴͕̍", "مرحبا", "שלום", "　", "\u00a0", "ǅ", "١٢٣", "１２",
)
WHITESPACE = ("", " ", "   \n  ", "\u00a0\u00a0", "\t")
FORMAT = ("%s%s%s%n", "{0}{1}", "%(password)s", "${jndi:ldap://x}", "../../etc/passwd", "C:\\con\\aux")
HUGE = ("A" * 100_000, "é" * 40_000, "<script>" * 12_000, "a\n" * 30_000, "x" * 600_000)

NUMBERS = (
    "-1", "0", "1", "99999999999999999999", "2147483648", "2147483647", "-2147483649",
    "9223372036854775808", "1.5", "1,5", "1e10", "1e-400", "NaN", "nan", "sNaN", "inf", "-Infinity",
    "abc", "", " 7 ", "0x1F", "١٢", "１２", "+5", "007", "1_000", "--1", "1 2", "10%", "²",
)
DATES = (
    "0000-00-00", "9999-12-31", "0001-01-01", "31/02/2026", "2026-02-31", "2026-13-01",
    "2026-00-10", "1899-12-31", "2201-01-01", "-2026-01-01", "20260101", "2026-1-1", "demain",
    "2024-02-29", "2025-02-29", "1970-01-01", "2038-01-19", "2026-06-15T10:00", "+002026-06-15",
)
TIMES = ("25:00", "23:60", "-1:00", "12:00:00", "midi", "24:00", "00:00", "23:59", "9h", "12:30")
EMAILS = (
    "a@b", "@", "a@@b.fr", "a@b.fr\x00", "<script>@x.fr", '"><img src=x onerror=alert(1337)>@x.fr',
    "a" * 300 + "@x.fr", " AGENT@X.FR ", "agent@x.fr, agent@x.fr", "agent@x.fr;autre@x.fr",
    "inconnu@nulle-part.fr", "agent@x.fr\nBcc: victime@x.fr", "agent%40x.fr",
)

# Where a form says to go next: only paths of this site.
NEXT = ("//evil.example/", "/\\evil.example/", "\\\\evil.example", "https://evil.example/", "javascript:alert(1337)",
        "/%2F%2Fevil.example", "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "\t//evil.example",
        " //evil.example", "http:/evil.example", "/\x00/evil.example", "/propositions")

ANY_TEXT = st.one_of(
    st.sampled_from(XSS + SQL + CONTROL + UNICODE + WHITESPACE + FORMAT),
    st.sampled_from(HUGE),
    st.text(max_size=40),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x3000), min_size=1, max_size=300),
)


CSV_HEADER = "email;prenom;nom;categorie;service;quotite;n_plus_1"


@functools.cache
def csv_files() -> st.SearchStrategy:
    """Agent files (import): hostile cells, broken structure, not text at all."""
    cell = st.one_of(st.sampled_from(XSS + SQL + CONTROL + UNICODE + NUMBERS + EMAILS), st.text(max_size=20))
    row = st.lists(cell, min_size=5, max_size=8).map(lambda cells: ";".join(c.replace(";", ",") for c in cells))
    lines = st.lists(row, min_size=1, max_size=4).map(lambda rows: "\n".join([CSV_HEADER, *rows]))
    return st.one_of(
        lines.map(lambda content: File(content.encode(), "agents.csv")),
        st.sampled_from((b"", b"\xff\xfe\x00\x00", b"\x00" * 100, "é".encode("latin-1"), b'"' * 50,
                         (CSV_HEADER + "\n" + "a;b\n" * 60_000).encode(),
                         (CSV_HEADER + "\nagent@x.fr;Nom\x00;Nul;B;SRV;100;\n").encode(),
                         b"PK\x03\x04 not a csv", "email\n".encode("utf-16")))
        .map(lambda content: File(content, "agents.csv")),
    )


# The sharpest values, tried on every field before the random ones (see `sweep`), and
# drawn often among them: each has crashed some application on some backend.
SWEEP = {
    "*": ("a\x00b",),
    "text": ("A" * 20_000,),  # over every length limit (the random draws go to 600 000)
    "int": ("9223372036854775808", "NaN"),
    "date": ("0001-01-01",),
    "email": ("agent\x00@x.fr",),
    "file": (File(b"email;prenom;nom;categorie;service\nnul\x00@x.fr;A;B;C;D\n", "agents.csv"),),
}


def sweep(kind: str) -> tuple:
    return SWEEP["*"] + SWEEP.get(kind if kind != "multi" else "int", ())


@functools.cache
def hostile(kind: str) -> st.SearchStrategy:
    """Bad values for a field of `kind`."""
    specific = {
        "int": st.one_of(st.sampled_from(NUMBERS), st.integers().map(str), st.floats().map(str)),
        "date": st.one_of(st.sampled_from(DATES),
                          st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat)),
        "time": st.one_of(st.sampled_from(TIMES), st.times().map(lambda t: t.isoformat())),
        "email": st.sampled_from(EMAILS),
        "bool": st.sampled_from(("y", "n", "on", "off", "true", "false", "0", "1", "")),
        "next": st.sampled_from(NEXT),
        "file": csv_files(),
    }.get(kind)
    sharp = st.sampled_from(SWEEP["*"] + SWEEP["int"] + SWEEP["date"] + SWEEP["email"]
                            + (XSS[0], "sNaN", "1e-999999999", "-1", "9999-12-31"))
    return st.one_of(sharp, specific, ANY_TEXT) if specific is not None else st.one_of(sharp, ANY_TEXT)


def with_payload(value: str) -> st.SearchStrategy:
    """A valid text with a script payload before or after it."""
    return st.sampled_from(XSS).flatmap(
        lambda p: st.sampled_from((f"{value} {p}", f"{p} {value}", f"{value}\n{p}\n{value}")))


@dataclass(frozen=True)
class F:
    """A form field: its kind (text, int, date, time, email, choice, bool, multi, next, file)
    and the values the app accepts, the first being the canonical one; `valid` may be a
    function of the world and the example's target. A text's valid values also travel with
    script payloads; MISSING as a valid value leaves the field out."""

    kind: str = "text"
    valid: Any = ("",)

    def valid_values(self, world: World, target: dict) -> list:
        values = self.valid(world, target) if callable(self.valid) else self.valid
        return list(values)


def draw_form(draw, fields: dict[str, F], world: World, target: dict, *, benign: bool,
              multipart: bool, only: str | None = None) -> dict[str, Any]:
    """One example's form: every field valid (text carrying script payloads) when `benign`,
    else each field (or `only` this one, the others canonical) valid, hostile, missing,
    repeated, or (multipart) a file."""
    data = canonical_form(fields, world, target) if only else {}
    for name, spec in fields.items():
        if only and name != only:
            continue
        valid = st.sampled_from(spec.valid_values(world, target))
        if spec.kind == "text":
            valid = st.one_of(valid, valid.flatmap(with_payload))
        if spec.kind == "multi":
            valid = st.lists(valid, max_size=4)
        if benign:
            data[name] = draw(valid, label=name)
            continue
        choices = [valid, hostile(spec.kind), st.just(MISSING),
                   st.lists(st.one_of(valid, hostile(spec.kind)), min_size=2, max_size=3)]
        if multipart:
            choices.append(st.sampled_from((b"", b"\x00\xff\xfe", b"<script>alert(1337)</script>"))
                           .map(File))
        data[name] = draw(st.one_of(*choices), label=name)
    return data


def canonical_form(fields: dict[str, F], world: World, target: dict) -> dict[str, Any]:
    """The first valid value of each field, every text carrying a script payload."""
    data = {}
    for number, (name, spec) in enumerate(fields.items()):
        value = spec.valid_values(world, target)[0]
        if spec.kind == "text":
            value = f"{value} {XSS[number % len(XSS)]}".strip()
        data[name] = [value] if spec.kind == "multi" else value
    return data


def request_body(data: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for the test client."""
    form = {}
    files = False
    for name, value in data.items():
        if value is MISSING:
            continue
        if isinstance(value, File):
            form[name] = (BytesIO(value.content), value.name)
            files = True
        elif isinstance(value, list):
            form[name] = [str(v) for v in value if v is not MISSING]
        else:
            form[name] = value
    if files:
        return {"data": form, "content_type": "multipart/form-data"}
    return {"data": form}


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)),
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.text(max_size=5), children, max_size=3)),
    max_leaves=8,
)


def json_body(fields: dict[str, F]) -> st.SearchStrategy:
    """A JSON body instead of a form: values of any type, or not even an object."""
    names = st.sampled_from(sorted(fields) or ["champ"])
    return st.one_of(
        st.dictionaries(names, JSON_VALUES, max_size=len(fields) + 1),
        JSON_VALUES,
    ).map(lambda value: {"data": json.dumps(value), "content_type": "application/json"})


# --------------------------------------------------------------------------- checks


def snapshot(exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Every row of every table (the test world is small), or on PostgreSQL a digest of
    them in one query: equal before and after a refused request, or something was written."""
    tables = [table for table in db.metadata.sorted_tables if table.name not in exclude]
    if db.engine.dialect.name == "postgresql":
        digests = " UNION ALL ".join(
            f"SELECT '{table.name}', count(*), md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) "
            f'FROM "{table.name}" r' for table in tables)
        rows = {name: (count, digest) for name, count, digest in db.session.execute(text(digests))}
    else:
        rows = {table.name: [tuple(row) for row in db.session.execute(
            select(table).order_by(*table.primary_key.columns))] for table in tables}
    db.session.commit()
    return rows


def changed_tables(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after[name]]


class _MarkupAudit(HTMLParser):
    """Parses a page as a browser would and lists what could run."""

    URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "hx-get",
                      "hx-post", "data-hx-get", "data-hx-post", "background"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.problems.append("inline <script>")
        if tag in ("iframe", "object", "embed", "base", "svg", "style", "frame", "applet"):
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if name in self.URL_ATTRIBUTES and value:
                scheme = "".join(value.split()).lower()
                if scheme.startswith(("javascript:", "vbscript:", "data:text/html")):
                    self.problems.append(f"<{tag} {name}={value[:40]!r}>")
            if name == "http-equiv":
                self.problems.append(f"<{tag} http-equiv>")

    handle_startendtag = handle_starttag


def inert_problems(response) -> list[str]:
    """What in an HTML answer could run: raw payloads or active markup."""
    if not response.mimetype or "html" not in response.mimetype:
        return []
    body = response.get_data(as_text=True)
    problems = [f"charge brute « {s} »" for s in XSS_SIGNATURES if s in body]
    audit = _MarkupAudit()
    audit.feed(body)
    audit.close()
    return problems + audit.problems


def redirect_problems(response) -> list[str]:
    """A redirect (or HX-Redirect) never leaves the site."""
    problems = []
    for header in ("Location", "HX-Redirect"):
        target = response.headers.get(header)
        if not target:
            continue
        parts = urlsplit(target)
        if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
                or "\\" in target:
            problems.append(f"{header} hors du site : {target[:100]!r}")
    return problems


# --------------------------------------------------------------------------- the world


@dataclass
class World:
    """One institution with a person of each role and an object of each kind; `fresh_*`
    make a new object for one example (so that one-shot actions can succeed each time)."""

    people: dict[str, Any]
    ids: dict[str, int] = field(default_factory=dict)

    @property
    def institution(self):
        return self.people["admin"].institution

    @property
    def unit(self):
        return self.people["admin"].org_unit

    def email(self, persona: str) -> str:
        return self.people[persona].email

    def fresh_proposal(self, state: str, *, author: str = "author", **fields) -> int:
        return make_proposal(author=self.people[author], state=state, **fields).id

    def fresh_offer(self, **fields) -> int:
        today = today_paris()
        return make_proposal(author=self.people["member"], kind="mobility", state="accepted",
                             window_starts_on=today + timedelta(days=100),
                             window_ends_on=today + timedelta(days=160), **fields).id

    def fresh_comment(self) -> int:
        return make_comment(db.session.get(Proposal, self.ids["proposal"]), self.people["agent"]).id

    def fresh_project(self, state: str = "active") -> int:
        today = today_paris()
        author = self.people["author"]
        return make_project(self.institution, state=state, title="Projet éphémère", proposal_id=self.ids["accepted"],
                            lead=author, members=(author,), hours_budget=200,
                            starts_on=today - timedelta(days=60), ends_on=today + timedelta(days=300)).id

    def fresh_closed_item(self) -> int:
        proposal = make_proposal(author=self.people["agent"], state="scheduled")
        tally = {"counts": {"for": 2, "against": 0, "abstain": 0}, "members": 3, "present": 2, "required": 2,
                 "quorum_percent": 50, "rule": "majority", "votes_public": False, "result": "adopted"}
        return make_agenda_item(db.session.get(ReviewSession, self.ids["session"]), proposal, position=1,
                                status="closed", result="adopted", tally=tally).id

    def fresh_decision(self) -> int:
        proposal = make_proposal(author=self.people["agent"], state="rejected")
        return make_decision(proposal, kind="session", outcome="rejected",
                             rationale="Motivation initiale de la décision.",
                             decided_by=self.people["coordinator"]).id

    def fresh_application(self, status: str) -> int:
        offer = db.session.get(Proposal, self.fresh_offer())
        starts, ends = working_span(105)
        return make_application(offer, self.people["author"], manager=self.people["manager"],
                                motivation="Découvrir le métier.", starts_on=starts, ends_on=ends,
                                working_days=2, status=status).id

    def fresh_entry(self) -> int:
        # A different past weekday each time: one submitted line to decide on.
        count = db.session.scalar(select(db.func.count()).select_from(TimeEntry)) or 0
        day = today_paris() - timedelta(days=7 + count % 50)
        return make_time_entry(self.people["author"], db.session.get(Project, self.ids["project"]), day=day,
                               minutes=60, status="submitted").id

    def fresh_membership(self) -> int:
        user = make_user(org_unit=self.unit, collective=True)
        return db.session.scalar(select(CollectiveMembership.id).where(CollectiveMembership.user_id == user.id))

    def fresh_unit(self) -> int:
        return make_org_unit(self.institution).id


def build_world() -> World:
    admin = make_user(roles=["admin"], email="admin@x.fr")
    institution, unit = admin.institution, admin.org_unit
    manager = make_user(org_unit=unit, email="manager@x.fr")
    people = {
        "admin": admin,
        "instance_admin": make_user(org_unit=unit, roles=["admin"], is_instance_admin=True, email="root@x.fr"),
        "agent": make_user(org_unit=unit, email="agent@x.fr", manager=manager),
        "author": make_user(org_unit=unit, email="author@x.fr", manager=manager),
        "member": make_user(org_unit=unit, collective=True, email="member@x.fr", manager=manager),
        "member2": make_user(org_unit=unit, collective=True, email="member2@x.fr"),
        "coordinator": make_user(org_unit=unit, collective=True, roles=["coordinator"], email="coord@x.fr"),
        "hr": make_user(org_unit=unit, roles=["hr"], email="hr@x.fr"),
        "manager": manager,
        "target": make_user(org_unit=unit, email="cible@x.fr"),  # the agent an admin edits
        "self": make_user(org_unit=unit, email="moi@x.fr"),  # who changes their own password
    }
    world = World(people)
    make_settings(institution)
    ids = world.ids
    ids["criterion"] = make_criterion(institution).id
    ids["theme"] = make_theme(institution, name="Numérique").id
    ids["proposal"] = world.fresh_proposal("submitted")
    ids["accepted"] = world.fresh_proposal("accepted", author="agent")
    ids["in_review"] = world.fresh_proposal("in_review")
    ids["project"] = world.fresh_project()
    ids["offer"] = world.fresh_offer()
    session = make_session(institution, created_by=people["coordinator"])
    ids["session"] = session.id
    voted = make_proposal(author=people["agent"], state="scheduled")
    ids["voting_item"] = make_agenda_item(session, voted, position=1, status="voting").id
    make_attendance(session, people["member"])
    make_attendance(session, people["member2"])
    ids["unit"] = world.fresh_unit()
    db.session.commit()
    return world


# --------------------------------------------------------------------------- the runner


@dataclass(frozen=True)
class Case:
    """A form-handling endpoint: who may use it, its fields, the pages showing what it stores.

    `prepare` makes the example's target (a fresh object when the action is one-shot) and
    returns ids; `url` and `pages` are built from the world and those ids.
    """

    name: str
    persona: str | None  # None: anonymous, with a new browser for each example
    url: Any
    fields: dict[str, F]
    pages: Any = ()
    prepare: Any = None
    exclude: frozenset[str] = frozenset()  # tables a refusal may write on purpose
    examples: int = 12
    htmx: bool = False  # the endpoint answers htmx requests differently

    def __repr__(self) -> str:
        return self.name


def _resolve(value, world: World, target: dict):
    return value(world, target) if callable(value) else value


def check_answer(response) -> list[str]:
    problems = []
    if response.status_code >= 500:
        problems.append(f"réponse {response.status_code}")
    problems += redirect_problems(response)
    problems += inert_problems(response)
    return problems


def submit(case: Case, browser, world: World, target: dict, body: dict, headers: dict, *,
           every_page: bool = True):
    """Send one form; return the answer and what is wrong with it, or with the database
    (refused), or with the pages showing what was stored (accepted: all of them, or the
    first one and the one redirected to)."""
    url = _resolve(case.url, world, target)
    before = snapshot(case.exclude)
    response = browser.post(url, headers=headers, **body)
    status = response.status_code
    problems = check_answer(response)
    if 400 <= status < 500:
        changed = changed_tables(before, snapshot(case.exclude))
        if changed:
            problems.append(f"refus {status} mais tables modifiées : {changed}")
    elif status < 400 and not problems:
        pages = list(_resolve(case.pages, world, target))[:None if every_page else 1]
        location = response.headers.get("HX-Redirect") or response.headers.get("Location")
        if location and location.startswith("/") and not location.startswith("/connexion"):
            pages.append(location.split("#")[0])
        for page in dict.fromkeys(pages):
            shown = browser.get(page)
            problems += [f"GET {page} : {p}" for p in check_answer(shown)]
            if every_page and shown.status_code != 200:  # (a random change may hide a page)
                problems.append(f"GET {page} : {shown.status_code} (page attendue lisible)")
    if problems:
        problems.insert(0, f"POST {url} -> {status}")
        problems.append(response.get_data(as_text=True)[:1500])
    return response, problems


def run_case(case: Case, make_client, login) -> None:
    """Hypothesis drives `case`: benign forms carrying script payloads, hostile forms (bad
    values, missing and repeated fields, files), and JSON bodies. Each answer: no 5xx,
    local redirects only, nothing active in the HTML; a refusal (4xx) writes nothing; an
    acceptance is shown inert on the pages that display it. Beforehand, one canonical form
    (the first valid values, script payloads in the text) must be accepted."""
    from hypothesis import HealthCheck, event, given, settings

    world = build_world()
    fields = case.fields(world) if callable(case.fields) else case.fields
    client = make_client()
    if case.persona:
        login(client, world.people[case.persona])

    def browser():
        return make_client() if case.persona is None else client

    # First, on the pristine world, a valid form: accepted, and shown inert.
    target = case.prepare(world) if case.prepare else {}
    db.session.commit()
    body = request_body(canonical_form(fields, world, target))
    response, problems = submit(case, browser(), world, target, body, {})
    assert not problems, "\n".join(problems)
    assert response.status_code < 400, f"formulaire valable refusé ({response.status_code}) :\n" + \
        response.get_data(as_text=True)[-3000:]

    # Then each field in turn with the sharpest values, the others valid; and the whole
    # form of the wrong type (read as an empty form, which may be valid): a file in every
    # field, a JSON body.
    bodies = [(f"{name}={repr(value)[:40]}", True, lambda t, name=name, value=value: request_body(
        {**canonical_form(fields, world, t), name: value}))
        for name, spec in fields.items() for value in sweep(spec.kind)]
    bodies += [
        ("fichiers", False, lambda t: request_body({name: File(b"<script>alert(1337)</script>") for name in fields})),
        ("JSON false", False, lambda t: {"data": "false", "content_type": "application/json"}),
        ("JSON typé", False, lambda t: {"data": json.dumps({name: {"a": [1, None]} for name in fields}),
                                        "content_type": "application/json"}),
    ]
    for label, every_page, make_body in bodies:
        target = case.prepare(world) if case.prepare else {}
        db.session.commit()
        _response, problems = submit(case, browser(), world, target, make_body(target), {},
                                     every_page=every_page)
        assert not problems, f"{label}\n" + "\n".join(problems)

    @settings(max_examples=case.examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.data())
    def attempt(data):
        target = case.prepare(world) if case.prepare else {}
        db.session.commit()
        mode = data.draw(st.sampled_from(("one field", "one field", "benign", "hostile", "multipart", "json")),
                         label="mode")
        if mode == "json":
            body = data.draw(json_body(fields), label="json")
        else:
            only = data.draw(st.sampled_from(sorted(fields)), label="field") if mode == "one field" else None
            body = request_body(draw_form(data.draw, fields, world, target, benign=mode == "benign",
                                          multipart=mode == "multipart", only=only))
        headers = {"HX-Request": "true"} if case.htmx and data.draw(st.booleans(), label="htmx") else {}
        # The canonical form and the sweep check every page; random examples, the first.
        response, problems = submit(case, browser(), world, target, body, headers, every_page=False)
        event(f"{mode} -> {response.status_code}")
        assert not problems, "\n".join(problems)

    attempt()

