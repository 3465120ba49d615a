"""The HR engagement report as files for the CIA campaign (DESIGN §4.4): CSV and XLSX through
the one export module (formula-safe), with the page's filters, the period in the file name
and on the first line (CSV) or in the heading and the sheet name (XLSX), and, in the XLSX, a
second sheet « Par projet »: one row per agent and project with the hours approved.

Agents are one query read in batches of a fixed size (server-side cursor on PostgreSQL),
as plain rows of the columns the file shows, not ORM objects (building 20,000 of them was a
third of the export); each batch's figures come in a fixed number of queries
(queries.figures_for). The by-project sheet is one query read in chunks; units are read
once. Memory stays bounded whatever the number of agents (bench: 20,000)."""

from __future__ import annotations

from ..exports import (
    COUNT_FORMAT,
    HOURS_FORMAT,
    PERCENT_NUMBER_FORMAT,
    Column,
    Sheet,
    csv_response,
    number_text,
    report_xlsx_response,
)
from ..extensions import db
from ..people.models import User
from ..timeutil import format_date
from .queries import Period, figures_for, hours_by_agent_and_project, unit_places
from .units import UnitTree

BATCH = 500


def _count(title: str, width: float = 11) -> Column:
    return Column(title, width, COUNT_FORMAT)


COLUMNS = [
    Column("matricule", 12), Column("nom", 18), Column("prénom", 16), Column("adresse", 28),
    Column("direction", 24), Column("service", 24), Column("catégorie", 10),
    Column("quotité", 9, PERCENT_NUMBER_FORMAT), Column("heures validées", 11, HOURS_FORMAT),
    Column("détail par projet", 40), _count("commanditaire", 14), _count("chef de projet"), _count("membre", 9),
    _count("propositions", 12), _count("retenues", 10), _count("non retenues"), _count("modifications demandées", 14),
    _count("non recevables"), _count("en cours", 9), _count("retirées", 9), _count("immersions faites"),
    _count("immersions accueillies", 12), _count("mois au collectif", 10), _count("séances", 9),
    _count("évaluations", 11),
]
BY_PROJECT_COLUMNS = [Column("matricule", 12), Column("nom", 18), Column("prénom", 16), Column("direction", 24),
                      Column("service", 24), Column("projet", 40), Column("heures validées", 11, HOURS_FORMAT)]
FROZEN = 3  # matricule, nom, prénom stay in view


def period_text(period: Period) -> str:
    return f"du {format_date(period.start)} au {format_date(period.end)}"


def period_title(period: Period) -> str:
    """« Période : du 1er janvier 2026 au 31 décembre 2026 »: the CSV's first line."""
    return f"Période : {period_text(period)}"


def sheet_name(period: Period) -> str:
    """The main sheet's name: « Engagement 2026 » for a calendar year, else the two days
    (« 2026-03-01 au 2026-03-31 », 24 characters: Excel allows 31)."""
    if (period.start.month, period.start.day, period.end.month, period.end.day) == (1, 1, 12, 31) \
            and period.start.year == period.end.year:
        return f"Engagement {period.start.year}"
    return f"{period.start.isoformat()} au {period.end.isoformat()}"


AGENT_COLUMNS = (User.id, User.employee_number, User.last_name, User.first_name, User.email, User.org_unit_id,
                 User.category, User.quotite)


def _row(agent, f, places: dict) -> list:
    _id, number, last_name, first_name, email, unit_id, category, quotite = agent
    detail = " | ".join(f"{title} : {number_text(hours)} h" for _pid, title, hours in f.hours_by_project)
    direction, service = places.get(unit_id, ("", ""))
    p = f.proposals
    return [number, last_name, first_name, email, direction, service, category,
            quotite, f.hours_total, detail, f.roles["sponsor"], f.roles["lead"], f.roles["member"],
            f.proposals_total, p["accepted"], p["rejected"], p["changes_requested"], p["not_eligible"], p["pending"],
            p["withdrawn"], f.immersions_made, f.immersions_hosted, f.collective_months, f.sessions_attended,
            f.assessments]


def _batches(query, params: dict):
    """The agents' rows in batches of BATCH, from one query read as it goes (no OFFSET,
    which rereads every earlier agent at each batch)."""
    rows = db.session.execute(query.with_only_columns(*AGENT_COLUMNS, maintain_column_froms=True)
                              .execution_options(yield_per=BATCH), params)
    try:
        yield from rows.partitions()
    finally:
        rows.close()


def _rows(query, params: dict, period: Period, places: dict):
    for agents in _batches(query, params):
        figures = figures_for([a[0] for a in agents], period)
        for agent in agents:
            yield _row(agent, figures[agent[0]], places)


def _project_rows(query, params: dict, period: Period, places: dict):
    for _uid, number, last_name, first_name, unit_id, title, minutes in hours_by_agent_and_project(query, params,
                                                                                                    period):
        direction, service = places.get(unit_id, ("", ""))
        yield [number, last_name, first_name, direction, service, title, round((minutes or 0) / 60, 2)]


def export_response(query, params: dict, period: Period, export: str, units: UnitTree):
    """The report's file: `query` and `params` are the page's (hr_agents_query with its filters)."""
    name = f"engagement-{period.start.isoformat()}-{period.end.isoformat()}"
    places = unit_places(units)
    if export == "csv":
        return csv_response(f"{name}.csv", [c.title for c in COLUMNS], _rows(query, params, period, places),
                            title=period_title(period))
    heading = f"Relevé d'engagement {period_text(period)}"
    return report_xlsx_response(f"{name}.xlsx", [
        Sheet(sheet_name(period), COLUMNS, _rows(query, params, period, places), heading=heading, frozen_columns=FROZEN),
        Sheet("Par projet", BY_PROJECT_COLUMNS, _project_rows(query, params, period, places),
              heading=f"Heures validées par agent et par projet, {period_text(period)}", frozen_columns=FROZEN),
    ])
