"""Finding agents by what a person types: a name (first, last, either order), an address,
a sign-in identifier or a matricule. One clause, shared by the administration's list of
agents and the HR engagement report.

Case-insensitive on both databases as far as their LOWER goes; accents are compared as
typed: PostgreSQL's LOWER folds accented capitals (« ÉLOÏSE » finds « Éloïse »), SQLite's
folds ASCII letters only (« éloïse » finds « Éloïse » on PostgreSQL, not on SQLite, where an
initial É must be typed as stored), and neither ignores accents (« eloise » does not find
« Éloïse »): that needs PostgreSQL's `unaccent` extension, which the application cannot count
on, or a folded copy of the names (a possible next step)."""

from __future__ import annotations

from sqlalchemy import func, or_

from ..text import like_pattern
from .models import User

SEARCH_MAX = 100  # characters of a search kept


def clean_search(value: str | None) -> str:
    return " ".join((value or "").split())[:SEARCH_MAX]


def agent_search_condition(pattern):
    """Agents whose name, address, identifier or matricule matches `pattern`, a LIKE
    pattern (`like_pattern` of the lowercase words) or a bindparam that will hold one."""

    def like(column):
        return func.lower(column).like(pattern, escape="\\")

    return or_(like(User.last_name), like(User.first_name), like(User.email), like(User.login_id),
               like(User.employee_number), like(User.full_name),
               like(User.last_name + " " + User.first_name))


def agent_search_clause(q: str):
    """Agents whose name, address, identifier or matricule contains `q`."""
    return agent_search_condition(like_pattern(q.lower()))
