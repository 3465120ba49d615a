"""Data that grows: the search index walked newest first (SQLite), covering indexes for
the search's filters, the HR figures and the dashboard

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 19:00:00

See incubator/proposals/search.py.
"""
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

# The index's rowid is the proposal's search key (search.py): its submission second,
# then its number. Only submitted proposals are indexed (nothing searches drafts).
KEY_NEW = "CAST(strftime('%s', new.submitted_at) AS INTEGER) * 2147483648 + new.id"
KEY_OLD = "CAST(strftime('%s', old.submitted_at) AS INTEGER) * 2147483648 + old.id"
INSERT_NEW = (f"INSERT INTO proposal_search(rowid, search_text) SELECT {KEY_NEW}, new.search_text "
              f"WHERE new.submitted_at IS NOT NULL;")
# Contentless: a deletion gives the indexed values back, which the old row holds exactly.
DELETE_OLD = (f"INSERT INTO proposal_search(proposal_search, rowid, search_text) "
              f"SELECT 'delete', {KEY_OLD}, old.search_text WHERE old.submitted_at IS NOT NULL;")

SQLITE_UP = [
    "DROP TRIGGER IF EXISTS proposal_search_au", "DROP TRIGGER IF EXISTS proposal_search_ad",
    "DROP TRIGGER IF EXISTS proposal_search_ai", "DROP TABLE IF EXISTS proposal_search",
    "CREATE VIRTUAL TABLE proposal_search USING fts5(search_text, content='', tokenize='trigram')",
    f"CREATE TRIGGER proposal_search_ai AFTER INSERT ON proposals BEGIN {INSERT_NEW} END",
    f"CREATE TRIGGER proposal_search_ad AFTER DELETE ON proposals BEGIN {DELETE_OLD} END",
    # A submission (draft -> submitted) and an edit both come through here.
    f"CREATE TRIGGER proposal_search_au AFTER UPDATE OF search_text, submitted_at ON proposals "
    f"BEGIN {DELETE_OLD} {INSERT_NEW} END",
    "INSERT INTO proposal_search(rowid, search_text) SELECT "
    "CAST(strftime('%s', submitted_at) AS INTEGER) * 2147483648 + id, search_text FROM proposals "
    "WHERE submitted_at IS NOT NULL",
]
# Back to 0008's index (rowid = proposal id, every proposal).
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS proposal_search_au", "DROP TRIGGER IF EXISTS proposal_search_ad",
    "DROP TRIGGER IF EXISTS proposal_search_ai", "DROP TABLE IF EXISTS proposal_search",
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

# Covering indexes: each query they serve reads the index alone, not the wide rows.
INDEXES = [
    # The board's filters checked on each match of a search (search.newest_matching_all).
    ('ix_proposals_search_rows', 'proposals',
     ['id', 'institution_id', 'submitted_at', 'kind', 'state', 'theme_id', 'org_unit_id']),
    # The dashboard's figures on a period's proposals.
    ('ix_proposals_dashboard', 'proposals',
     ['institution_id', 'submitted_at', 'state', 'author_id', 'theme_id', 'org_unit_id', 'id']),
    # Approved hours of a set of agents (HR report and export), of an institution (dashboard).
    # The id last: PostgreSQL's indexes do not hold it, and the corrections are found by it.
    ('ix_time_entries_user_approved', 'time_entries',
     ['user_id', 'status', 'day', 'project_id', 'minutes', 'id']),
    ('ix_time_entries_institution_approved', 'time_entries',
     ['institution_id', 'status', 'day', 'user_id', 'minutes', 'id']),
    # A proposal's first answer (dashboard).
    ('ix_decisions_proposal_answer', 'decisions', ['proposal_id', 'kind', 'outcome', 'published_at']),
]


# Plain create_index, not batch mode: a table rebuilt by batch mode would lose its triggers.
def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
