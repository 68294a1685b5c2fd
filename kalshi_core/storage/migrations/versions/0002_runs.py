"""runs: one row per run, its fingerprint and venue; run_id on the rows a run writes

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kalshi_core.storage.types


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | None = None
depends_on: str | None = None


# Tables whose rows say which run wrote them, and those keyed by run (one row per run).
RUN_TABLES = ('orders', 'fills', 'decisions', 'ai_spend', 'audit_events')
RUN_KEYED = {'settlements': 'ticker', 'daily_pnl': 'day'}


def upgrade() -> None:
    op.create_table('runs',
    sa.Column('run_id', sa.String(length=128), nullable=False),
    sa.Column('fingerprint', sa.String(length=128), nullable=False),
    sa.Column('venue', sa.String(length=64), nullable=False),
    sa.Column('started_time', kalshi_core.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('run_id', name=op.f('pk_runs'))
    )
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_runs_fingerprint'), ['fingerprint'], unique=False)


    for table in RUN_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('run_id', sa.String(length=128), server_default='', nullable=False))
            batch_op.create_index(batch_op.f(f'ix_{table}_run_id'), ['run_id'], unique=False)
    for table, key in RUN_KEYED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('run_id', sa.String(length=128), server_default='', nullable=False))
            batch_op.drop_constraint(f'pk_{table}', type_='primary')
            batch_op.create_primary_key(f'pk_{table}', ['run_id', key])


def downgrade() -> None:
    for table, key in RUN_KEYED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'pk_{table}', type_='primary')
            batch_op.create_primary_key(f'pk_{table}', [key])
            batch_op.drop_column('run_id')
    for table in RUN_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_run_id'))
            batch_op.drop_column('run_id')
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_runs_fingerprint'))
    op.drop_table('runs')
