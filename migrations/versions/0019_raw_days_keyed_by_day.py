"""raw day tables keyed day first, with an (account, day) index for the reads by account (issue 14)

The visitor, page and feature days were keyed (account, day, ...) with an index on the day. Each window
put its days inside every account's run of keys, where a full index page splits into two half-full ones:
after a 90-day backfill of 2,000 accounts the three keys took 1,111 MB, 652 MB once rebuilt. Keyed
(day, account, ...), and asked of Pendo in that order (a `sort` after the group), a window's rows land
at the end of the key, in order, and its pages fill: 655 MB on the same world after the backfill and a
daily run, beside 105 MB of the new index. The reads by account go through that index on (account, day);
the day index is no longer needed (the key leads with the day). Rebuilding reads each table once.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 13:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

# table: (its key after this revision, before it)
KEYS = {
    'pendo_visitor_days': (['day', 'account_id', 'visitor_id'], ['account_id', 'day', 'visitor_id']),
    'pendo_page_days': (['day', 'account_id', 'page_id'], ['account_id', 'day', 'page_id']),
    'pendo_feature_visitor_days': (['day', 'account_id', 'feature_id', 'visitor_id'],
                                   ['account_id', 'day', 'feature_id', 'visitor_id']),
}


def _rekey(*, day_first: bool) -> None:
    """Each table keyed day first with an (account, day) index, or back to account first with a day index."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SET LOCAL maintenance_work_mem = '512MB'")  # each index is built by one sort
    for table, (after, before) in KEYS.items():
        by_day, by_account = (f'ix_{table}_day', ['day']), (f'ix_{table}_account_day', ['account_id', 'day'])
        gone, made = (by_day, by_account) if day_first else (by_account, by_day)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(gone[0])
            batch_op.drop_constraint(f'pk_{table}', type_='primary')
            batch_op.create_primary_key(f'pk_{table}', after if day_first else before)
            batch_op.create_index(made[0], made[1], unique=False)


def upgrade() -> None:
    _rekey(day_first=True)


def downgrade() -> None:
    _rekey(day_first=False)
