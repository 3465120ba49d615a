"""Password reset, invitations and activation sheets: account tokens (hashed), throttled
requests, and an identifier for agents without a professional address (email optional)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 16:00:00

"""
import re

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

EMAIL_NOT_NULL = re.compile(r'(\b"?email"?\s+VARCHAR\(254\))\s+NOT NULL', re.IGNORECASE)


def _sqlite_email_nullable(nullable):
    """SQLite cannot alter a column, and recreating `users` (Alembic's batch mode) would
    drop a table that every other table references. Dropping (or restoring) a NOT NULL
    constraint is the one change SQLite documents as safe to make in the stored schema
    (https://www.sqlite.org/lang_altertable.html, "otheralter"), in the migration's
    transaction."""
    bind = op.get_bind()
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'").scalar()
    if nullable:
        changed = EMAIL_NOT_NULL.sub(r'\1', sql, count=1)
    else:
        changed = re.sub(r'(\b"?email"?\s+VARCHAR\(254\))(?!\s+NOT NULL)', r'\1 NOT NULL', sql, count=1,
                         flags=re.IGNORECASE)
    if changed == sql:
        raise RuntimeError("users.email: the column definition was not found in the SQLite schema")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'users'", (changed,))
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_email_nullable(True)
    else:
        op.alter_column('users', 'email', existing_type=sa.String(length=254), nullable=True)
    op.add_column('users', sa.Column('login_id', sa.String(length=64), nullable=True))
    op.create_index('uq_users_login_id', 'users', ['login_id'], unique=True)

    op.create_table('account_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=12), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("purpose IN ('reset', 'invitation', 'sheet')", name=op.f('ck_account_tokens_purpose')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_account_tokens_created_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_account_tokens_token_hash'))
    )
    op.create_index('ix_account_tokens_user_purpose', 'account_tokens', ['user_id', 'purpose', 'created_at'],
                    unique=False)
    op.create_table('account_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('key', sa.String(length=254), nullable=False),
    sa.Column('ip_address', sa.String(length=45), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_requests'))
    )
    op.create_index('ix_account_requests_key_at', 'account_requests', ['kind', 'key', 'requested_at'], unique=False)
    op.create_index('ix_account_requests_ip_at', 'account_requests', ['kind', 'ip_address', 'requested_at'],
                    unique=False)


def downgrade():
    op.drop_index('ix_account_requests_ip_at', table_name='account_requests')
    op.drop_index('ix_account_requests_key_at', table_name='account_requests')
    op.drop_table('account_requests')
    op.drop_index('ix_account_tokens_user_purpose', table_name='account_tokens')
    op.drop_table('account_tokens')
    # Agents without an address get one that cannot receive mail (reserved domain).
    op.execute("UPDATE users SET email = 'sans-adresse-' || id || '@sans-adresse.invalid' WHERE email IS NULL")
    op.drop_index('uq_users_login_id', table_name='users')
    with op.batch_alter_table('users', recreate='never') as batch_op:
        batch_op.drop_column('login_id')
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_email_nullable(False)
    else:
        op.alter_column('users', 'email', existing_type=sa.String(length=254), nullable=False)
