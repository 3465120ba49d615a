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

SQLite's index is a set of b-trees (segments): each transaction that indexes a proposal adds
one, and FTS5 merges them only by fours, level by level, so an index that grew one proposal at
a time keeps a dozen or more. A search looks each of its trigrams up in every segment: at
100,000 proposals, 11 segments made the board's search 2 to 3 times slower than the same index
in one piece (1.7 against 0.7 ms, bench), and the cost grew with the data. `compact_index`,
run each night (`flask search compact`, incubateur-search.timer), merges them back into one.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from sqlalchemy import bindparam, column, func, literal, or_, select, table

from ..extensions import db
from ..text import contains_word, like_pattern, word_patterns
from ..write_gate import GatedConnection
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


def matching_any(words: list[str]):
    """One condition: the proposal's text contains at least one of the words."""
    indexed, plain = _split(words)
    conditions = _like(plain)
    if indexed:
        conditions.append(Proposal.id.in_(_fts_ids(" OR ".join(_quoted(w) for w in indexed))))
    return or_(*conditions)


class SearchTerms(NamedTuple):
    """A search's words as parameters: `shape` says which statement takes them (whether
    the SQLite index answers some words, how many a plain LIKE checks), so that a list's
    select is built once per shape (dbutil.prebuilt) and the words are only values."""
    shape: tuple[bool, int]
    params: dict[str, str]


def search_terms(words: list[str]) -> SearchTerms:
    indexed, plain = _split(words)
    params = word_patterns(plain)
    if indexed:
        params["search_match"] = " AND ".join(_quoted(w) for w in indexed)
    return SearchTerms((bool(indexed), len(plain)), params)


def _plain_conditions(plain: int) -> list:
    return [contains_word(Proposal.search_text, number) for number in range(plain)]


def matching_all_terms(shape: tuple[bool, int]) -> list:
    """`matching_all` with the words of `search_terms` as parameters."""
    indexed, plain = shape
    conditions = _plain_conditions(plain)
    if indexed:
        conditions.append(Proposal.id.in_(select(_proposal_id).where(
            _fts.c.search_text.match(bindparam("search_match")))))
    return conditions


def newest_first_from_index(shape: tuple[bool, int]) -> bool:
    """Whether the index gives the matches of `search_terms` newest submitted first: on
    SQLite, when a word has three letters or more; never on PostgreSQL."""
    return shape[0]


def newest_matching_all_terms(stmt, shape: tuple[bool, int]):
    """`stmt` (over submitted proposals) restricted to those containing every word of
    `search_terms`, newest submitted first, driven by the index; None where the index
    cannot give that order (newest_first_from_index). The proposals' own filters are then
    checked match by match, on ix_proposals_search_rows (the row itself is wide)."""
    if not newest_first_from_index(shape):
        return None
    _indexed, plain = shape
    return (stmt.join(_fts, Proposal.id == _proposal_id)
            .where(_fts.c.search_text.match(bindparam("search_match")), *_plain_conditions(plain))
            .order_by(_fts.c.rowid.desc()))


def _quoted(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _fts_ids(query: str):
    return select(_proposal_id).where(_fts.c.search_text.match(query))


# --------------------------------------------------------------------------- compaction

# Pages written per step of a compaction: at 100,000 proposals a step holds the write lock
# 15 to 60 ms, so the server's writers go on between steps (the whole takes 5 to 7 s).
COMPACTION_PAGES_PER_STEP = 100


def index_segments() -> int | None:
    """How many b-trees SQLite's search index is made of (None on PostgreSQL)."""
    if not _on_sqlite():
        return None
    return db.session.execute(select(func.count(func.distinct(column("segid"))))
                              .select_from(table(f"{FTS_TABLE}_idx"))).scalar_one()


def compact_index(pages_per_step: int = COMPACTION_PAGES_PER_STEP) -> int:
    """Merge SQLite's search index into a single b-tree, `pages_per_step` pages at a time,
    each step a write transaction of its own that waits for the write gate like the
    server's writers; returns the number of steps (0 on PostgreSQL, whose trigram index
    autovacuum maintains). FTS5's 'merge' command with a negative count merges every
    segment, whatever its level; a step that changes fewer than two rows found nothing
    left to merge (SQLite's documentation of the command)."""
    if not _on_sqlite():
        return 0
    db.session.commit()
    steps = 0
    with db.engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        while True:
            steps += 1
            before = raw.total_changes
            if isinstance(raw, GatedConnection):
                raw.take_gate()
            try:
                raw.execute("BEGIN IMMEDIATE")
                raw.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('merge', ?)", (-pages_per_step,))
                raw.commit()
            except BaseException:
                raw.rollback()
                raise
            if raw.total_changes - before < 2:
                return steps
