"""day digests: per stream and day, the stored rows' count and hash sum (issue 14)

A daily run re-reads LOOKBACK_DAYS days, and most come back as stored. With each day's digest kept when
its window is written, a re-read day whose answer has the same digest is neither sent to the store nor
compared with its stored rows (pendo_core/pendo/sync/digests.py).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 20:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pendo_day_digests',
    sa.Column('stream', sa.String(length=40), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('rows', sa.BigInteger(), nullable=False),
    sa.Column('digest', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('stream', 'day', name=op.f('pk_pendo_day_digests'))
    )


def downgrade() -> None:
    op.drop_table('pendo_day_digests')
