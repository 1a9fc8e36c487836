"""drop ix_pendo_visitor_days_visitor: no query needs it (issue 14, store size)

Every read of pendo_visitor_days names the customer's accounts and a day range, which the primary
key (account_id, day, visitor_id) answers; a list of visitors is a filter on those rows. The index
cost a write per row in every window (4 MB on PostgreSQL, 16 MB on SQLite for the 300-account demo).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 22:40:00.000000
"""

from __future__ import annotations

from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_pendo_visitor_days_visitor', table_name='pendo_visitor_days')


def downgrade() -> None:
    op.create_index('ix_pendo_visitor_days_visitor', 'pendo_visitor_days', ['visitor_id'], unique=False)
