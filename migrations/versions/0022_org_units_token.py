"""The institution's units change a token: the HR report reuses its unit tree until then

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 06:50:00

Every insert, update or delete on org_units, by any path (the services, the CSV import,
the directory, a bulk load), draws a new random token on its institution, by trigger.
incubator/engagement/units.py keeps each institution's unit tree in the process with the
token it was read under, and reads the tree again when the token differs: a thousand
units read and arranged at each HR page were its largest cost that grew with the
institution (issue 21). A random token, not a counter: a rolled-back change or a restored
backup gives back the token of the units it gives back, never one a process has seen for
other units.
"""
from alembic import op
import sqlalchemy as sa

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

SQLITE_TOKEN = "lower(hex(randomblob(12)))"
SQLITE_UP = [
    f"CREATE TRIGGER org_units_token_ai AFTER INSERT ON org_units BEGIN "
    f"UPDATE institutions SET org_units_token = {SQLITE_TOKEN} WHERE id = new.institution_id; END",
    f"CREATE TRIGGER org_units_token_au AFTER UPDATE ON org_units BEGIN "
    f"UPDATE institutions SET org_units_token = {SQLITE_TOKEN} WHERE id IN (old.institution_id, new.institution_id); END",
    f"CREATE TRIGGER org_units_token_ad AFTER DELETE ON org_units BEGIN "
    f"UPDATE institutions SET org_units_token = {SQLITE_TOKEN} WHERE id = old.institution_id; END",
    f"UPDATE institutions SET org_units_token = {SQLITE_TOKEN}",
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS org_units_token_ai", "DROP TRIGGER IF EXISTS org_units_token_au",
               "DROP TRIGGER IF EXISTS org_units_token_ad"]

POSTGRES_TOKEN = "md5(random()::text || clock_timestamp()::text)"
POSTGRES_UP = [
    f"""CREATE FUNCTION org_units_token() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE institutions SET org_units_token = {POSTGRES_TOKEN} WHERE id = OLD.institution_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE institutions SET org_units_token = {POSTGRES_TOKEN} WHERE id = NEW.institution_id;
    END IF;
    RETURN NULL;
END $$""",
    "CREATE TRIGGER org_units_token AFTER INSERT OR UPDATE OR DELETE ON org_units "
    "FOR EACH ROW EXECUTE FUNCTION org_units_token()",
    f"UPDATE institutions SET org_units_token = {POSTGRES_TOKEN}",
]
POSTGRES_DOWN = ["DROP TRIGGER IF EXISTS org_units_token ON org_units", "DROP FUNCTION IF EXISTS org_units_token()"]


def upgrade():
    op.add_column('institutions', sa.Column('org_units_token', sa.String(length=32), server_default='',
                                            nullable=False))
    for statement in SQLITE_UP if op.get_bind().dialect.name == 'sqlite' else POSTGRES_UP:
        op.execute(statement)


def downgrade():
    for statement in SQLITE_DOWN if op.get_bind().dialect.name == 'sqlite' else POSTGRES_DOWN:
        op.execute(statement)
    op.drop_column('institutions', 'org_units_token')
