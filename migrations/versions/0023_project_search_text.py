"""The portfolio's search compares words with project titles lowercase and accent-free

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01 17:00:00

The search's words are lowercase and accent-free (incubator.text.normalise), the titles
were compared through lower() only: « élodie » never found « Immersion de Élodie … »
(an immersion's title names its visitor, whom its offer's text does not). The column
holds the title as the words are (set with the title, Project._title_searchable); here
filled for the projects already there.
"""
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def _normalise(text):
    # incubator.text.normalise, copied: a migration does not change when the code does.
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def upgrade():
    op.add_column('projects', sa.Column('search_text', sa.String(length=200), nullable=False, server_default=''))
    connection = op.get_bind()
    projects = sa.table('projects', sa.column('id', sa.Integer), sa.column('title', sa.String),
                        sa.column('search_text', sa.String))
    rows = connection.execute(sa.select(projects.c.id, projects.c.title)).all()
    for start in range(0, len(rows), 1000):
        connection.execute(projects.update().where(projects.c.id == sa.bindparam('project_id'))
                           .values(search_text=sa.bindparam('normalised')),
                           [{"project_id": pid, "normalised": _normalise(title)} for pid, title in rows[start:start + 1000]])


def downgrade():
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35 and later): batch mode would rebuild the
    # table, which the foreign keys pointing at projects forbid.
    op.drop_column('projects', 'search_text')
