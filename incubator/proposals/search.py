"""Word search in proposals, indexed on both backends.

The search is a substring match of each word in `Proposal.search_text` (lowercase and
accent-free), the same on SQLite and PostgreSQL. Scanning 100,000 texts for each search
takes a fraction of a second, so each backend gets an index that answers LIKE '%word%':
- SQLite: an FTS5 table with the trigram tokenizer over search_text, kept in step by
  triggers (migration 0008), queried with MATCH and quoted words: with this tokenizer a
  quoted word is a substring match, answered from the index alone;
- PostgreSQL: a pg_trgm GIN index on search_text, used by the planner for the same LIKE
  (migration 0008 creates it when the extension may be installed; without it, the same
  query scans).
Words shorter than three characters, or holding LIKE wildcards, cannot use a trigram index:
they fall back to the plain LIKE on the proposals table.
"""

from __future__ import annotations

import re

from sqlalchemy import column, or_, select, table

from ..extensions import db
from ..text import like_pattern
from .models import Proposal

FTS_TABLE = "proposal_search"
TRIGRAM_INDEX = "ix_proposals_search_trgm"
_INDEXABLE = re.compile(r"^[^_%\\]{3,}$")

_fts = table(FTS_TABLE, column("rowid"), column("search_text"))


def is_search_index_object(name: str | None, type_: str) -> bool:
    """The search index's own tables and index, which the models do not describe
    (for Alembic's comparison of models and database)."""
    return bool(name) and (name == TRIGRAM_INDEX or (type_ == "table" and name.startswith(FTS_TABLE)))


def _on_sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def matching_all(words: list[str]):
    """Conditions: the proposal's text contains every word."""
    indexed = [w for w in words if _INDEXABLE.match(w)] if _on_sqlite() else []
    conditions = [Proposal.search_text.like(like_pattern(w), escape="\\") for w in words if w not in indexed]
    if indexed:
        conditions.append(Proposal.id.in_(_fts_ids(" AND ".join(_quoted(w) for w in indexed))))
    return conditions


def matching_any(words: list[str]):
    """One condition: the proposal's text contains at least one of the words."""
    indexed = [w for w in words if _INDEXABLE.match(w)] if _on_sqlite() else []
    conditions = [Proposal.search_text.like(like_pattern(w), escape="\\") for w in words if w not in indexed]
    if indexed:
        conditions.append(Proposal.id.in_(_fts_ids(" OR ".join(_quoted(w) for w in indexed))))
    return or_(*conditions)


def _quoted(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _fts_ids(query: str):
    return select(_fts.c.rowid).where(_fts.c.search_text.match(query))
