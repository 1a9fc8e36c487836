"""health score component `champion`: the share of key contacts active in the last 14 days

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 01:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pendo_health_scores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('champion', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('pendo_health_scores', schema=None) as batch_op:
        batch_op.drop_column('champion')
