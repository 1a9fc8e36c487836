"""the Portfolio's per-day totals as a read model (issue 14)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 23:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pendo_portfolio_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('usage_customers', sa.Integer(), nullable=False),
    sa.Column('dau', sa.BigInteger(), nullable=True),
    sa.Column('wau', sa.BigInteger(), nullable=True),
    sa.Column('mau', sa.BigInteger(), nullable=True),
    sa.Column('scored', sa.Integer(), nullable=False),
    sa.Column('overall', sa.Float(), nullable=True),
    sa.Column('breadth', sa.Float(), nullable=True),
    sa.Column('red', sa.Integer(), nullable=True),
    sa.Column('yellow', sa.Integer(), nullable=True),
    sa.Column('green', sa.Integer(), nullable=True),
    sa.Column('insufficient', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_pendo_portfolio_days'))
    )


def downgrade() -> None:
    op.drop_table('pendo_portfolio_days')
