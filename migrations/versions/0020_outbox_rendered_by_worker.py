"""A notification's email is rendered by the delivery worker, not in the write transaction

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 06:30:00

notify() now writes the notification and an outbox row that points to it (text and html
empty); the worker renders the email when it sends it, and keeps what it sent. Rendering
two templates per recipient inside the transaction held SQLite's write lock for every
other writer (issue 21).
"""
from alembic import op
import sqlalchemy as sa

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notification_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_outbox_messages_notification_id_notifications'),
                                    'notifications', ['notification_id'], ['id'])


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_messages_notification_id_notifications'), type_='foreignkey')
        batch_op.drop_column('notification_id')
