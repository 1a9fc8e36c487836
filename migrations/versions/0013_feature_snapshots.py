"""feature snapshots: per customer and feature, the days of use in the 30 days of the snapshot's day (issue 14)

Feature adoption ranks a customer among its segment by days of use per feature: a grouped read of
30 days of pendo_feature_usage for 1,700 customers at 5,000 (0.2 s of a cold render). The sync's
snapshot step writes the result beside the customer snapshot; readers fall back to the live query
for any other day, as for pendo_customer_snapshots.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 01:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pendo_feature_snapshots',
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('feature_id', sa.String(length=200), nullable=False),
    sa.Column('days_used', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('as_of', 'customer_id', 'feature_id', name=op.f('pk_pendo_feature_snapshots'))
    )


def downgrade() -> None:
    op.drop_table('pendo_feature_snapshots')
