"""Word search in proposals, indexed on both backends.

The search is a substring match of each word in `Proposal.search_text` (lowercase and
accent-free), the same on SQLite and PostgreSQL. Scanning 100,000 texts for each search
takes a fraction of a second, so each backend gets an index that answers LIKE '%word%':
- SQLite: a contentless FTS5 table with the trigram tokenizer over the search_text of
  submitted proposals (nothing searches drafts), kept in step by triggers (migration
  0017), queried with MATCH and quoted words: with this tokenizer a quoted word is a
  substring match, answered from the index alone. Its rowid is the proposal's search key
  (computed by the triggers): the second of its submission, then its number. Walked from the end, the index
  gives the matches newest first, so the board's default order reads the 21 newest
  matches (or up to the count's cap) and stops, where sorting every match by date grew
  with the data (3,900 matches of « carnet bâtiments » at 100,000 proposals: bench).
  Two proposals submitted within the same second come by number, not by microsecond;
- PostgreSQL: a pg_trgm GIN index on search_text, used by the planner for the same LIKE
  (migration 0008 creates it when the extension may be installed; without it, the same
  query scans); the matches are then sorted by date (plan: docs/plans/board-search.txt).
Words shorter than three characters, or holding LIKE wildcards, cannot use a trigram index:
they fall back to the plain LIKE on the proposals table.
"""

from __future__ import annotations

import re

from sqlalchemy import column, literal, or_, select, table

from ..extensions import db
from ..text import like_pattern
from .models import Proposal

FTS_TABLE = "proposal_search"
TRIGRAM_INDEX = "ix_proposals_search_trgm"
_INDEXABLE = re.compile(r"^[^_%\\]{3,}$")
# The search key's low bits hold the proposal's number (ids below 2^31), the high bits
# the submission's Unix second (until 2106): migration 0017's triggers compute it.
KEY_ID_BITS = 31
KEY_ID_MASK = (1 << KEY_ID_BITS) - 1

_fts = table(FTS_TABLE, column("rowid"), column("search_text"))
_proposal_id = _fts.c.rowid.op("&")(literal(KEY_ID_MASK))


def is_search_index_object(name: str | None, type_: str) -> bool:
    """The search index's own tables and index, which the models do not describe
    (for Alembic's comparison of models and database)."""
    return bool(name) and (name == TRIGRAM_INDEX or (type_ == "table" and name.startswith(FTS_TABLE)))


def _on_sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def _split(words: list[str]) -> tuple[list[str], list[str]]:
    """(words the SQLite index answers, words for a plain LIKE)."""
    indexed = [w for w in words if _INDEXABLE.match(w)] if _on_sqlite() else []
    return indexed, [w for w in words if w not in indexed]


def _like(words: list[str]) -> list:
    return [Proposal.search_text.like(like_pattern(w), escape="\\") for w in words]


def matching_all(words: list[str]):
    """Conditions: the proposal's text contains every word."""
    indexed, plain = _split(words)
    conditions = _like(plain)
    if indexed:
        conditions.append(Proposal.id.in_(_fts_ids(" AND ".join(_quoted(w) for w in indexed))))
    return conditions


def matching_any(words: list[str]):
    """One condition: the proposal's text contains at least one of the words."""
    indexed, plain = _split(words)
    conditions = _like(plain)
    if indexed:
        conditions.append(Proposal.id.in_(_fts_ids(" OR ".join(_quoted(w) for w in indexed))))
    return or_(*conditions)


def newest_matching_all(stmt, words: list[str]):
    """`stmt` (over submitted proposals) restricted to those containing every word, newest
    submitted first, driven by the index; None where the index cannot give that order
    (PostgreSQL, or no word of three letters). The proposals' own filters are then checked
    match by match, on ix_proposals_search_rows (the row itself is wide)."""
    indexed, plain = _split(words)
    if not indexed:
        return None
    return (stmt.join(_fts, Proposal.id == _proposal_id)
            .where(_fts.c.search_text.match(" AND ".join(_quoted(w) for w in indexed)), *_like(plain))
            .order_by(_fts.c.rowid.desc()))


def _quoted(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _fts_ids(query: str):
    return select(_proposal_id).where(_fts.c.search_text.match(query))
