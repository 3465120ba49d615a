"""`python -m bench.plans`: the PostgreSQL plans (EXPLAIN (ANALYZE, BUFFERS)) of the queries
that grow with the data, written to docs/plans/*.txt, where the code's comments point.

Generates a dataset (BENCH_SCALE, default full) on BENCH_DATABASE_URL's server, or on
TEST_DATABASE_URL's through scripts/with-postgres.sh:

    BENCH_DB=postgres bash scripts/with-postgres.sh .venv/bin/python -m bench.plans

then runs each page's code once, records its statements, and explains the chosen ones with
the same parameters. Refresh the files after changing one of these queries.

These are the server's plans for those values (custom plans), except after a transaction
setting of plan_cache_mode = force_generic_plan (the HR figures): then the plan it keeps for
any values, which the code runs."""

from __future__ import annotations

import os
import re
from datetime import date, timedelta

from psycopg.sql import Literal
from sqlalchemy import event
from werkzeug.datastructures import MultiDict

from .run import ROOT, log, prepare

PLANS = ROOT / "docs" / "plans"


def _capture(engine, run) -> list[tuple[str, object]]:
    statements: list[tuple[str, object]] = []

    def before(_conn, _cursor, statement, parameters, _context, _many):
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return [(s, p) for s, p in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]


_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _explain_generic(cursor, statement: str, parameters) -> str:
    """The plan PostgreSQL keeps for any values (plan_cache_mode = force_generic_plan): the
    statement prepared, then EXECUTE explained. EXPLAIN of the statement itself, with its
    values, would show the plan for those values instead."""
    names = list(dict.fromkeys(_PLACEHOLDER.findall(statement)))
    prepared = _PLACEHOLDER.sub(lambda m: f"${names.index(m.group(1)) + 1}", statement).replace("%%", "%")
    cursor.execute(f"PREPARE bench_plan AS {prepared}")
    values = ", ".join(Literal(parameters[name]).as_string(cursor.connection) for name in names)
    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_plan({values})")
    plan = "\n".join(row[0] for row in cursor.fetchall())
    cursor.execute("DEALLOCATE bench_plan")
    return plan


def _explain_all(engine, statements: list[tuple[str, object]]) -> str:
    """Each statement's plan, in one transaction, as the page's code ran them: a transaction
    setting the code applied (engagement.queries.figures_for: no parallel workers, no JIT,
    generic plans) is applied again before the statements after it, not explained."""
    raw = engine.raw_connection()
    plans = []
    generic = False
    try:
        with raw.cursor() as cursor:
            for statement, parameters in statements:
                if statement.lstrip().startswith("SELECT set_config("):
                    cursor.execute(statement, parameters)
                    generic = generic or "force_generic_plan" in statement
                    plans.append(f"-- Réglage de la transaction, appliqué aux requêtes suivantes :\n{statement}\n")
                    continue
                if generic:
                    plan = "-- Plan générique (le même pour toutes les valeurs) :\n" \
                        + _explain_generic(cursor, statement, parameters)
                else:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                plans.append(f"{statement}\n\n{plan}\n")
        raw.rollback()
    finally:
        raw.close()
    return "\n\n".join(plans)


def main() -> None:
    from incubator import create_app
    from incubator.dashboard.queries import build
    from incubator.engagement.queries import (
        HR_PAGE_SIZE,
        HrFilters,
        Period,
        figures_for,
        hr_agents_query,
    )
    from incubator.extensions import db
    from incubator.pagination import paginate_capped
    from incubator.people.models import User
    from incubator.proposals import queries as proposals

    if os.environ.get("BENCH_DB", "postgres") != "postgres":
        raise SystemExit("bench.plans : PostgreSQL seulement (BENCH_DB=postgres).")
    url, data = prepare(os.environ.get("BENCH_SCALE", "full"), "postgres")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "DASHBOARD_CACHE_SECONDS": 0,
                      "SERVER_NAME": "bench.local"})
    institution = data.main_institution_id
    today = date.today()
    year = Period(today - timedelta(days=365), today)
    PLANS.mkdir(parents=True, exist_ok=True)
    with app.app_context():
        engine = db.engine
        # As autovacuum leaves a server in use: statistics, and the visibility map without
        # which no index-only scan is planned after a bulk load.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM (ANALYZE)")

        def board_search():
            # As the board reads it: the search among recent proposals first (board_page).
            filters = proposals.BoardFilters.from_args(MultiDict({"q": "carnet batiments"}))
            proposals.board_page(institution, filters, page=1, per_page=20, cap=app.config["SEARCH_COUNT_CAP"])

        def export_batch():
            query, params = hr_agents_query(institution, HrFilters(), year)
            ids = db.session.scalars(query.with_only_columns(User.id, maintain_column_froms=True).limit(500),
                                     params).all()
            figures_for(ids, year)

        def hr_page():
            # The report's first page as the view reads it: the agents counted, the first
            # of them by name, their figures.
            query, params = hr_agents_query(institution, HrFilters(), year)
            page = paginate_capped(query, params=params, page=1, per_page=HR_PAGE_SIZE,
                                   exact=HrFilters().counts_from_indexes)
            figures_for([u.id for u in page.items], year)

        def dashboard():
            build(institution, Period.year(today.year), coordinator=True)

        for name, run in {"board-search": board_search, "hr-figures": export_batch, "hr-page": hr_page,
                          "dashboard": dashboard}.items():
            statements = _capture(engine, run)
            text = _explain_all(engine, statements)
            (PLANS / f"{name}.txt").write_text(
                f"-- bench.plans, échelle {data.scale}, {today.isoformat()} (PostgreSQL)\n\n{text}")
            log(f"   docs/plans/{name}.txt : {len(statements)} requêtes")
            db.session.rollback()


if __name__ == "__main__":
    main()
