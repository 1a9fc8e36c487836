"""page read paths at 5,000 customers (issue 14): covering index on the daily metrics, customer snapshots

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 23:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_pendo_usage_metrics_day_customer', 'pendo_usage_metrics',
                    ['metric_date', 'customer_id', 'dau', 'wau', 'mau', 'active_visitors'], unique=False)
    op.create_table('pendo_customer_snapshots',
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('in_measures', sa.Boolean(), nullable=False),
    sa.Column('in_week', sa.Boolean(), nullable=False),
    sa.Column('in_weeks', sa.Boolean(), nullable=False),
    sa.Column('dau', sa.Integer(), nullable=True),
    sa.Column('wau', sa.Integer(), nullable=True),
    sa.Column('mau', sa.Integer(), nullable=True),
    sa.Column('active_visitors', sa.Integer(), nullable=True),
    sa.Column('week_sum', sa.BigInteger(), nullable=True),
    sa.Column('week_n', sa.Integer(), nullable=False),
    sa.Column('recent_sum', sa.BigInteger(), nullable=True),
    sa.Column('recent_n', sa.Integer(), nullable=False),
    sa.Column('prior_sum', sa.BigInteger(), nullable=True),
    sa.Column('prior_n', sa.Integer(), nullable=False),
    sa.Column('week_dau', sa.Float(), nullable=True),
    sa.Column('week_wau', sa.Float(), nullable=True),
    sa.Column('sessions', sa.BigInteger(), nullable=True),
    sa.Column('minutes', sa.BigInteger(), nullable=True),
    sa.Column('page_views', sa.BigInteger(), nullable=True),
    sa.Column('feature_events', sa.BigInteger(), nullable=True),
    sa.Column('usage_weeks', sa.Text(), nullable=True),
    sa.Column('last_active', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('as_of', 'customer_id', name=op.f('pk_pendo_customer_snapshots'))
    )


def downgrade() -> None:
    op.drop_table('pendo_customer_snapshots')
    op.drop_index('ix_pendo_usage_metrics_day_customer', table_name='pendo_usage_metrics')
