"""visitor settled recency: each visitor's last active and last seen day up to the settled day (issue 14)

A daily metrics run grouped 86 days of visitor days before its first computed day (18 s of a
20,000-account daily run). Those days are settled (a daily run no longer re-reads them), so each metrics
run now keeps their grouped rows for the next one (pendo_core/usage/recency.py).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 05:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pendo_visitor_settled',
    sa.Column('account_id', sa.String(length=512), nullable=False),
    sa.Column('visitor_id', sa.String(length=512), nullable=False),
    sa.Column('last_active', sa.Date(), nullable=True),
    sa.Column('last_seen', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'visitor_id', name=op.f('pk_pendo_visitor_settled'))
    )


def downgrade() -> None:
    op.drop_table('pendo_visitor_settled')
