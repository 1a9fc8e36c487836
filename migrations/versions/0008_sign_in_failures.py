"""sign-in failures (back-off and lockout, issue 11)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('app_sign_in_failures',
    sa.Column('subject', sa.String(length=400), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('subject', name=op.f('pk_app_sign_in_failures'))
    )


def downgrade() -> None:
    op.drop_table('app_sign_in_failures')
