"""Property-based hostile input on accounts, administration, release time and
notifications, on the filters of every list (query strings), and on unknown ids in every
address (see tests/security/hostile.py for the values and the checks)."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incubator.extensions import db
from incubator.notifications.models import CATEGORIES, DELIVERY
from incubator.people.models import ROLES
from incubator.release_time.services import monday_of
from incubator.timeutil import today_paris
from tests.factories import DEFAULT_PASSWORD, make_account_token, make_notification, make_user
from tests.security.hostile import (
    DATES,
    MISSING,
    NEXT,
    NUMBERS,
    Case,
    F,
    File,
    build_world,
    changed_tables,
    check_answer,
    hostile,
    redirect_problems,
    run_case,
    snapshot,
)

_numbers = itertools.count(1)
NEW_PASSWORD = "une phrase de passe assez longue"


def _today(days: int = 0) -> str:
    return (today_paris() + timedelta(days=days)).isoformat()


def _fresh_email(prefix: str):
    return lambda _w, _t: [f"{prefix}{next(_numbers)}@x.fr"]


def _fresh_sheet(world):
    """An agent without a password and the live code of their activation sheet."""
    agent = make_user(org_unit=world.unit, email=None, login_id=f"m{next(_numbers)}", activated=False)
    code = f"ACDE-FGH3-JKMN-{next(_numbers):04d}"
    make_account_token(agent, purpose="sheet", secret=code)
    return {"login": agent.login_id, "code": code}


def _fresh_reset(world):
    """A live reset link of an agent."""
    secret = f"jeton-{next(_numbers)}-" + "x" * 30
    make_account_token(make_user(org_unit=world.unit), purpose="reset", secret=secret)
    return {"token": secret}


def _last_monday():
    return monday_of(today_paris() - timedelta(days=7))


def _week_fields(world):
    monday, project = _last_monday(), world.ids["project"]
    cells = {f"h-{project}-{monday + timedelta(days=n):%Y%m%d}": F("int", ("1", "1,5", "0:45", "", "0"))
             for n in range(3)}
    return {
        **cells,
        # Cells the grid never shows: unknown project, impossible day.
        "h-99999999999999999999-20260105": F("int", (MISSING,)),
        f"h-{project}-00000000": F("int", (MISSING,)),
        f"note-{project}": F("text", ("Atelier avec les usagers", "")),
        "action": F("choice", ("save", "submit")),
        "semaine": F("date", (monday.isoformat(),)),
    }


def _agents_csv(world, _target):
    import csv
    import io

    code = world.unit.code
    rows = [[f"import{next(_numbers)}@x.fr", "Camille", "Martin", "B", code, "80", "manager@x.fr"],
            [f"import{next(_numbers)}@x.fr", '<script>alert("xss1337")</script>',
             '"><img src=x onerror=alert(1337)>', "A", code, "", ""],
            [f"import{next(_numbers)}@x.fr", "Nom\x00nul", "Contrôle\x1b", "C", code, "100", ""]]
    files = []
    for chosen in (rows[:2], rows[2:]):
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";")
        writer.writerow(["email", "prenom", "nom", "categorie", "service", "quotite", "n_plus_1"])
        writer.writerows(chosen)
        files.append(File(buffer.getvalue().encode(), "agents.csv"))
    return files


def _units_csv(world, _target):
    import csv
    import io

    rows = [[f"IMP{next(_numbers)}", '<script>alert("xss1337")</script>', "direction", ""],
            [f"IMP{next(_numbers)}", '"><img src=x onerror=alert(1337)>', "service", world.unit.code],
            [f"IMP{next(_numbers)}", "Contrôle\x1b", "pôle", "NULLE"]]
    files = []
    for chosen in (rows[:2], rows[2:]):
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";")
        writer.writerow(["code", "nom", "type", "parent"])
        writer.writerows(chosen)
        files.append(File(buffer.getvalue().encode(), "unites.csv"))
    return files


def _fresh_notification(world) -> dict:
    return {"notification": make_notification(world.people["author"], subject="Une nouvelle", body="Le corps.").id}


UNIT = F("int", lambda w, _t: [str(w.unit.id)])
USER_FIELDS = {
    "first_name": F("text", ("Camille",)),
    "last_name": F("text", ("Martin",)),
    "category": F("choice", ("B", "A", "C")),
    "quotite": F("int", ("100", "80", "10")),
    "org_unit_id": UNIT,
    "manager_email": F("email", ("", "manager@x.fr")),
}

CASES = [
    # ------------------------------------------------------------------ accounts
    Case("accounts.login", None, "/connexion", {
        "email": F("email", ("agent@x.fr", "inconnu@x.fr")),
        "password": F("choice", (DEFAULT_PASSWORD, "mauvais mot de passe")),
    }, exclude=frozenset({"login_attempts"}), pages=["/"]),
    # A wrong code is itself recorded (throttling counts it).
    Case("accounts.forgot_password", None, "/mot-de-passe-oublie", {
        "email": F("email", ("agent@x.fr", "inconnu@x.fr")),
    }, exclude=frozenset({"account_requests"}), pages=["/mot-de-passe-oublie"]),
    Case("accounts.activate_with_code", None, "/activation", {
        "login": F("choice", lambda _w, t: [t["login"]]),
        "code": F("choice", lambda _w, t: [t["code"], t["code"].lower().replace("-", "")]),
        "password": F("choice", (NEW_PASSWORD,)), "confirm_password": F("choice", (NEW_PASSWORD,)),
    }, prepare=lambda w: _fresh_sheet(w), exclude=frozenset({"account_requests"}), pages=["/activation"]),
    Case("accounts.reset_password", None, lambda w, t: f"/mot-de-passe-oublie/{t['token']}", {
        "password": F("choice", (NEW_PASSWORD,)), "confirm_password": F("choice", (NEW_PASSWORD,)),
    }, prepare=lambda w: _fresh_reset(w), pages=lambda w, t: [f"/mot-de-passe-oublie/{t['token']}"]),
    Case("accounts.account", "self", "/mon-compte", {
        "current_password": F("choice", (DEFAULT_PASSWORD,)),
        "new_password": F("choice", (NEW_PASSWORD,)),
        "confirm_password": F("choice", (NEW_PASSWORD,)),
    }, pages=["/mon-compte"]),
    # ------------------------------------------------------------------ administration
    Case("admin.org_unit_create", "admin", "/admin/services/nouveau", {
        "code": F("choice", lambda _w, _t: [f"SRV-X{next(_numbers)}"]),
        "name": F("text", ("Service des sports",)),
        "kind": F("choice", ("service", "direction")),
        "parent_id": F("int", lambda w, _t: [str(w.unit.id), ""]),
    }, pages=["/admin/services", "/admin/agents", "/admin/agents/nouveau", "/propositions",
              "/propositions/nouvelle-offre"]),
    Case("admin.org_unit_rename", "admin", lambda w, t: f"/admin/services/{w.ids['unit']}/renommer",
         {"rename-name": F("text", ("Direction des finances",))},
         pages=lambda w, t: ["/admin/services", f"/admin/services/{w.ids['unit']}", "/admin/journal"]),
    Case("admin.org_unit_move", "admin", lambda w, t: f"/admin/services/{w.ids['unit']}/deplacer",
         {"move-parent_id": F("int", lambda w, _t: [str(w.unit.id), ""])},
         pages=lambda w, t: ["/admin/services", f"/admin/services/{w.ids['unit']}"]),
    Case("admin.org_unit_close", "admin", lambda w, t: f"/admin/services/{t['unit']}/fermer",
         {"closed_on": F("date", lambda _w, _t: [_today()])}, prepare=lambda w: {"unit": w.fresh_unit()},
         pages=lambda w, t: ["/admin/services", f"/admin/services/{t['unit']}"]),
    Case("admin.user_create", "admin", "/admin/agents/nouveau", {
        **USER_FIELDS,
        "email": F("email", _fresh_email("nouveau")),
        "password": F("choice", ("", NEW_PASSWORD)),
        "roles": F("multi", ROLES),
    }, pages=["/admin/agents", "/admin/agents?q=martin", "/admin/journal", "/admin/collectif"]),
    Case("admin.user_update", "admin", lambda w, t: f"/admin/agents/{w.people['target'].id}",
         {f"profile-{name}": spec for name, spec in {**USER_FIELDS, "email": F("email", ("cible@x.fr",))}.items()},
         pages=lambda w, t: [f"/admin/agents/{w.people['target'].id}", "/admin/agents", "/admin/journal"]),
    Case("admin.user_roles", "admin", lambda w, t: f"/admin/agents/{w.people['target'].id}/roles",
         {"roles-roles": F("multi", ROLES)},
         pages=lambda w, t: [f"/admin/agents/{w.people['target'].id}", "/admin/agents?role=hr"]),
    Case("admin.user_password", "admin", lambda w, t: f"/admin/agents/{w.people['target'].id}/mot-de-passe",
         {"password-password": F("choice", (NEW_PASSWORD,))}),
    Case("admin.import_users", "admin", "/admin/import", {"file": F("file", _agents_csv)},
         pages=["/admin/agents", "/admin/agents?statut=all", "/admin/journal"]),
    Case("admin.import_units", "admin", "/admin/import-unites", {"file": F("file", _units_csv)},
         pages=["/admin/services", "/admin/journal"]),
    Case("admin.collective_add", "admin", "/admin/collectif", {
        "member_email": F("email", ("agent@x.fr", "author@x.fr", "hr@x.fr")),
        "starts_on": F("date", lambda _w, _t: [_today(400), _today()]),
        "ends_on": F("date", lambda _w, _t: ["", _today(800)]),
    }, pages=["/admin/collectif", "/arbitrage"]),
    Case("admin.collective_end", "coordinator", lambda w, t: f"/admin/collectif/{t['membership']}/fin",
         {"ends_on": F("date", lambda _w, _t: [_today()])},
         prepare=lambda w: {"membership": w.fresh_membership()}, pages=["/admin/collectif"]),
    Case("admin.institutions", "instance_admin", "/admin/collectivites", {
        "name": F("text", lambda _w, _t: [f"Ville n° {next(_numbers)}"]),
        "slug": F("choice", lambda _w, _t: [f"ville-{next(_numbers)}"]),
        "kind": F("choice", ("commune", "ccas", "region")),
    }, pages=["/admin/collectivites"]),
    Case("settings.edit", "admin", "/admin/parametres", {
        "monthly_cap_percent": F("int", ("30", "20", "40", "1")),
        "day_length": F("choice", ("7:30", "7:00", "8", "7,75")),
        "limits_mode": F("choice", ("warn", "refuse")),
        "internal_min_days": F("int", ("2", "1")),
        "internal_max_days": F("int", ("12", "10", "60")),
        "managers_see_engagement": F("choice", ("y", "")),
    }, pages=["/admin/parametres", "/admin/journal", "/mon-temps", "/mon-engagement", "/immersions", "/"]),
    # ------------------------------------------------------------------ release time
    Case("release_time.save", "author", "/mon-temps", _week_fields,
         pages=lambda w, t: [f"/mon-temps?semaine={_last_monday().isoformat()}", "/mon-engagement",
                             f"/projets/{w.ids['project']}"]),
    Case("release_time.recall", "author", "/mon-temps/rappeler",
         {"semaine": F("date", lambda _w, _t: [_last_monday().isoformat()])},
         prepare=lambda w: {"entry": w.fresh_entry()}),
    Case("release_time.decide", "manager", "/validations", {
        "entry": F("multi", lambda w, t: [str(t["entry"])]),
        "action": F("choice", ("refuse", "approve")),
        "reason": F("text", ("Ces heures ne figurent pas au planning.",)),
    }, prepare=lambda w: {"entry": w.fresh_entry()}, pages=["/validations"]),
    Case("release_time.delegate", "manager", "/validations/delegation", {
        "delegate_email": F("email", ("hr@x.fr", "member2@x.fr")),
        "starts_on": F("date", lambda _w, _t: [_today()]),
        "ends_on": F("date", lambda _w, _t: [_today(30)]),
    }, pages=["/validations"]),
    Case("release_time.override", "manager", lambda w, t: f"/validations/derogation/{w.people['author'].id}", {
        "month": F("choice", lambda _w, _t: [_today()[:7]]),
        "reason": F("text", ("Un pic d'activité sur le projet.",)),
    }, pages=["/validations"]),
    # ------------------------------------------------------------------ notifications
    Case("notifications.preferences", "author", "/notifications/preferences",
         {category: F("choice", tuple(DELIVERY)) for category in CATEGORIES},
         pages=["/notifications/preferences"]),
    Case("notifications.read", "author", lambda w, t: f"/notifications/{t['notification']}/lu",
         {"next": F("next", ("/propositions", ""))}, prepare=_fresh_notification, pages=["/notifications"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_form(case, make_client, login):
    run_case(case, make_client, login)


def test_where_to_go_next_never_leaves_the_site(make_client, login):
    """`next` after login and after reading a notification: every trick of the list is
    refused (4xx) or replaced by a page of the site."""
    world = build_world()
    reader = make_client()
    login(reader, world.people["author"])
    for target in NEXT:
        browser = make_client()
        answers = [browser.get("/connexion", query_string={"next": target}),
                   browser.post("/connexion", query_string={"next": target},
                                data={"email": "author@x.fr", "password": DEFAULT_PASSWORD}),
                   browser.get("/connexion", query_string={"next": target})]  # signed in, or not
        notification = _fresh_notification(world)["notification"]
        db.session.commit()
        answers.append(reader.post(f"/notifications/{notification}/lu", data={"next": target}))
        for response in answers:
            assert response.status_code < 500 and redirect_problems(response) == [], (target, response.headers)


# --------------------------------------------------------------------------- filters (GET)

TEXT_ARG = hostile("text")
INT_ARG = st.one_of(st.sampled_from(NUMBERS), TEXT_ARG)
DATE_ARG = st.one_of(st.sampled_from(DATES), TEXT_ARG)
FILTERS = [
    ("author", "/propositions", {"q": TEXT_ARG, "nature": TEXT_ARG, "etape": TEXT_ARG, "theme": INT_ARG,
                                 "service": INT_ARG, "tri": TEXT_ARG, "page": INT_ARG}),
    ("author", "/propositions/similaires", {"title": TEXT_ARG, "exclude": INT_ARG}),
    ("author", "/arbitrage/journal", {"q": TEXT_ARG, "issue": TEXT_ARG, "nature": TEXT_ARG, "du": DATE_ARG,
                                      "au": DATE_ARG, "page": INT_ARG, "format": st.sampled_from(("", "csv", "pdf"))}),
    ("author", "/realisations", {"q": TEXT_ARG, "etat": TEXT_ARG, "nature": TEXT_ARG, "page": INT_ARG}),
    ("author", "/mon-engagement", {"annee": INT_ARG, "du": DATE_ARG, "au": DATE_ARG}),
    ("author", "/mon-temps", {"semaine": DATE_ARG}),
    ("author", "/notifications", {"page": INT_ARG}),
    ("author", "/connexion", {"next": st.one_of(hostile("next"), TEXT_ARG)}),
    ("hr", "/rh/engagement", {"q": TEXT_ARG, "annee": INT_ARG, "du": DATE_ARG, "au": DATE_ARG, "service": INT_ARG,
                              "direction": INT_ARG,
                              "categorie": TEXT_ARG, "heures_min": INT_ARG, "tri": TEXT_ARG, "page": INT_ARG,
                              "format": st.sampled_from(("", "csv", "xlsx", "json"))}),
    ("hr", "/rh/engagement/{author}", {"annee": INT_ARG, "du": DATE_ARG, "au": DATE_ARG}),
    ("admin", "/admin/agents", {"q": TEXT_ARG, "service": INT_ARG, "categorie": TEXT_ARG, "role": TEXT_ARG,
                                "statut": TEXT_ARG, "page": INT_ARG}),
    ("admin", "/admin/journal", {"action": TEXT_ARG, "acteur": TEXT_ARG, "du": DATE_ARG, "au": DATE_ARG,
                                 "page": INT_ARG}),
]


@pytest.mark.parametrize("persona, path, args", FILTERS, ids=[f[1] for f in FILTERS])
def test_hostile_filters(persona, path, args, make_client, login):
    """A filter's values are ignored or refused (4xx), never a 5xx, and shown back inert;
    reading writes nothing but the audit of HR reads."""
    world = build_world()
    client = make_client()
    login(client, world.people[persona])
    url = path.format(author=world.people["author"].id)
    keys = st.fixed_dictionaries({}, optional={name: st.one_of(value, st.lists(value, min_size=2, max_size=2))
                                               for name, value in args.items()})

    def check(query):
        before = snapshot(frozenset({"audit_events"}))
        response = client.get(url, query_string={k: v for k, v in query.items()},
                              headers={"HX-Request": "true"} if len(query) % 2 else {})
        problems = check_answer(response)
        if not response.status_code < 500:
            problems.append(response.get_data(as_text=True)[:500])
        changed = changed_tables(before, snapshot(frozenset({"audit_events"})))
        if changed:
            problems.append(f"une lecture a modifié {changed}")
        response.get_data()  # streamed exports (CSV) run to the end
        assert not problems, f"GET {url} -> {response.status_code}\n" + "\n".join(problems)

    for name in args:  # each filter with the sharpest values, then random mixes
        for value in ("a\x00b", "9223372036854775808", "NaN", "0001-01-01", "A" * 20_000):
            check({name: value})
    settings(max_examples=15, deadline=None, database=None,
             suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])(given(query=keys)(check))()


# --------------------------------------------------------------------------- unknown ids


def test_unknown_ids_in_addresses_are_refused(server, make_client, login):
    """Every address with an id, with ids that do not exist (or do not fit the database),
    by someone with every role: a 4xx, never a 5xx, and nothing written."""
    world = build_world()
    everyone = make_user(org_unit=world.unit, roles=["admin", "coordinator", "hr"], collective=True,
                         is_instance_admin=True, manager=world.people["manager"])
    db.session.commit()
    client = make_client()
    login(client, everyone)
    rules = sorted((rule for rule in server.url_map.iter_rules()
                    # (a provider is named, not numbered: unknown, it sends back to the login page;
                    # a token (reset or invitation link) is no id: an unknown one is a page saying so)
                    if set(rule.arguments) - {"action", "filename", "provider", "token"}), key=lambda rule: rule.rule)
    known = max(world.ids.values()) + 1000

    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(rule=st.sampled_from(rules), number=st.one_of(st.integers(known, 2**31 - 1), st.integers(2**31, 2**70)),
           post=st.booleans())
    def attempt(rule, number, post):
        values = {arg: ("pause" if arg == "action" else number) for arg in rule.arguments}
        method = "POST" if (post and "POST" in rule.methods) or "GET" not in rule.methods else "GET"
        url = server.url_map.bind("localhost").build(rule.endpoint, values, method=method)
        before = snapshot()
        response = client.open(url, method=method, data={"answer": "accept", "reason": "Une raison valable."})
        assert 400 <= response.status_code < 500, f"{method} {url} -> {response.status_code}"
        assert changed_tables(before, snapshot()) == [], f"{method} {url}"

    attempt()

