"""customer contacts (stakeholders)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 07:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('customer_contacts',
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.customer_id'],
                            name=op.f('fk_customer_contacts_customer_id_customers')),
    sa.PrimaryKeyConstraint('customer_id', 'email', name=op.f('pk_customer_contacts'))
    )
    with op.batch_alter_table('customer_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_contacts_email'), ['email'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('customer_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_contacts_email'))

    op.drop_table('customer_contacts')
