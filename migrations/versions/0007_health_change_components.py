"""health score components that measure change: breadth_change, attrition, sustained_trend

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 16:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

COLUMNS = ('breadth_change', 'attrition', 'sustained_trend')


def upgrade() -> None:
    with op.batch_alter_table('pendo_health_scores', schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('pendo_health_scores', schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
