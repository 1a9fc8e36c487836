"""customers whose scores are stale over the whole range (a remap), kept across a stopped run (issue 14)

The metrics step recomputes a remapped customer's metrics over the whole reported range and the health
step then re-scores that range. A run that stopped between the two lost the list, and the next run found
the metrics already matching the new mapping: the customer's earlier days kept their old scores (and,
stopped during that recompute, their old metrics). A mapping changed while a run computed was missed the
same way. The customers are now kept here, by the mapping change and by the metrics step before it writes
their metrics, each with a version, until the health step has scored the version whose metrics were
written (pendo_core/pendo/sync/store.py).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pendo_scores_stale_customers',
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('metrics_version', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_pendo_scores_stale_customers'))
    )


def downgrade() -> None:
    op.drop_table('pendo_scores_stale_customers')
