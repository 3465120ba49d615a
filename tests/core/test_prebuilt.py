"""Statements built once per process (dbutil.prebuilt) hold no date or time of their own:
a process lives for days, and a day captured when the statement was built would be used
after midnight. Every page of the demo, for every demo account, is read; then every
statement built meanwhile is searched for a bound date or time without `callable_`."""

from datetime import date, datetime

from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter

from incubator.dbutil import PREBUILT

DEMO_ACCOUNTS = ["agent", "encadrant", "collectif", "animation", "rh", "admin"]
PAGES = ["/", "/propositions", "/propositions?q=velo+bureau", "/propositions?etape=accepted&tri=supported",
         "/propositions/1", "/propositions/2", "/mes-propositions", "/arbitrage", "/arbitrage/journal",
         "/arbitrage/journal?q=jardin&du=2026-01-01", "/arbitrage/seances", "/arbitrage/a-evaluer",
         "/realisations", "/realisations?q=carnet&etat=active", "/projets/1", "/projets/1/lettre-de-mission",
         "/immersions", "/mon-temps", "/validations", "/mon-engagement", "/rh/engagement",
         "/tableau-de-bord", "/notifications", "/admin/collectif", "/admin/parametres"]


def captured_moments(statement) -> list[str]:
    found = []
    for element in visitors.iterate(statement, {"column_collections": False}):
        if isinstance(element, BindParameter) and element.callable is None \
                and isinstance(element.value, date | datetime):
            found.append(f"{element.key}={element.value!r}")
    return found


def test_no_prebuilt_statement_holds_a_day(app, make_client):
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    for name in DEMO_ACCOUNTS:
        client = make_client()
        response = client.post("/connexion", data={"email": f"{name}@demo.incubateur.fr",
                                                   "password": "incubateur-demo"})
        assert response.status_code == 303, name
        for path in PAGES:
            assert client.get(path).status_code < 500, (name, path)
    built = [(function.__qualname__, args, value) for function in PREBUILT for args, value in function.built.items()]
    assert len(built) >= 30  # the pages above built most of them
    problems = []
    for qualname, args, value in built:
        for statement in value if isinstance(value, tuple) else (value,):
            problems += [f"{qualname}{args}: {moment}" for moment in captured_moments(statement)]
    assert problems == []
