"""Indexed word search in proposals (SQLite FTS5 trigram table, PostgreSQL pg_trgm)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 08:00:00

See incubator/proposals/search.py.
"""
import logging

from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

SQLITE_UP = [
    "CREATE VIRTUAL TABLE proposal_search USING fts5(search_text, content='proposals', "
    "content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER proposal_search_ai AFTER INSERT ON proposals BEGIN "
    "INSERT INTO proposal_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER proposal_search_ad AFTER DELETE ON proposals BEGIN "
    "INSERT INTO proposal_search(proposal_search, rowid, search_text) VALUES('delete', old.id, old.search_text); END",
    "CREATE TRIGGER proposal_search_au AFTER UPDATE OF search_text ON proposals BEGIN "
    "INSERT INTO proposal_search(proposal_search, rowid, search_text) VALUES('delete', old.id, old.search_text); "
    "INSERT INTO proposal_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO proposal_search(proposal_search) VALUES('rebuild')",
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS proposal_search_au", "DROP TRIGGER IF EXISTS proposal_search_ad",
               "DROP TRIGGER IF EXISTS proposal_search_ai", "DROP TABLE IF EXISTS proposal_search"]


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)
        return
    # pg_trgm ships with PostgreSQL, but installing an extension may need rights the
    # application's role lacks: then the search works unindexed, and the README says how
    # a DBA can add the index later.
    savepoint = bind.begin_nested()
    try:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_proposals_search_trgm ON proposals USING gin (search_text gin_trgm_ops)")
        savepoint.commit()
    except Exception as exc:  # noqa: BLE001 - any refusal leaves the search unindexed
        savepoint.rollback()
        log.warning("Index de recherche pg_trgm non créé (%s) : la recherche reste possible, sans index.", exc)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
    else:
        op.execute("DROP INDEX IF EXISTS ix_proposals_search_trgm")
