"""deactivated users, per-CSM webhooks, access log by time

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('app_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deactivated_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('csms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('webhook_ciphertext', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('webhook_hint', sa.String(length=20), nullable=True))
    with op.batch_alter_table('app_audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_app_audit_log_at', ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('app_audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_app_audit_log_at')
    with op.batch_alter_table('csms', schema=None) as batch_op:
        batch_op.drop_column('webhook_hint')
        batch_op.drop_column('webhook_ciphertext')
    with op.batch_alter_table('app_users', schema=None) as batch_op:
        batch_op.drop_column('deactivated_at')
