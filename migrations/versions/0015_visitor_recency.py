"""visitor recency: each mapped account's visitors' last active and last seen day (issue 14)

The alert step read 90 days of visitor days grouped by customer and visitor for the champion rule
(25 s of a 20,000-account daily run); the metrics step already reads those days, so it now writes
what the rule needs (pendo_core/usage/recency.py).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 02:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pendo_visitor_recency',
    sa.Column('account_id', sa.String(length=512), nullable=False),
    sa.Column('visitor_id', sa.String(length=512), nullable=False),
    sa.Column('last_active', sa.Date(), nullable=True),
    sa.Column('last_seen', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'visitor_id', name=op.f('pk_pendo_visitor_recency'))
    )


def downgrade() -> None:
    op.drop_table('pendo_visitor_recency')
