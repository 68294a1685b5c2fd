"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kalshi_core.storage.types


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table('ai_spend',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('created_time', kalshi_core.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('ticker', sa.String(length=128), nullable=True),
    sa.Column('input_tokens', sa.BigInteger(), nullable=False),
    sa.Column('output_tokens', sa.BigInteger(), nullable=False),
    sa.Column('cost', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ai_spend'))
    )
    with op.batch_alter_table('ai_spend', schema=None) as batch_op:
        batch_op.create_index('ix_ai_spend_created_cost', ['created_time', 'cost'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('created_time', kalshi_core.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('ticker', sa.String(length=128), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_created_time'), ['created_time'], unique=False)
        batch_op.create_index('ix_audit_events_kind_created', ['kind', 'created_time'], unique=False)

    op.create_table('daily_pnl',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('realized_pnl', sa.BigInteger(), nullable=False),
    sa.Column('unrealized_pnl', sa.BigInteger(), nullable=False),
    sa.Column('fees', sa.BigInteger(), nullable=False),
    sa.Column('ai_cost', sa.BigInteger(), nullable=False),
    sa.Column('updated_time', kalshi_core.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_daily_pnl'))
    )
    op.create_table('fills',
    sa.Column('fill_id', sa.String(length=128), nullable=False),
    sa.Column('order_id', sa.String(length=128), nullable=False),
    sa.Column('client_order_id', sa.String(length=128), nullable=True),
    sa.Column('ticker', sa.String(length=128), nullable=False),
    sa.Column('outcome_side', sa.String(length=32), nullable=False),
    sa.Column('book_side', sa.String(length=32), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.Column('yes_price', sa.BigInteger(), nullable=False),
    sa.Column('no_price', sa.BigInteger(), nullable=False),
    sa.Column('is_taker', sa.Boolean(), nullable=False),
    sa.Column('fee_cost', sa.BigInteger(), nullable=False),
    sa.Column('created_time', kalshi_core.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('fill_id', name=op.f('pk_fills'))
    )
    with op.batch_alter_table('fills', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fills_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_fills_ticker_created', ['ticker', 'created_time'], unique=False)

    op.create_table('forecasts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ticker', sa.String(length=128), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('probability', sa.Integer(), nullable=False),
    sa.Column('confidence', sa.Integer(), nullable=True),
    sa.Column('reasoning', sa.Text(), nullable=False),
    sa.Column('prompt_hash', sa.String(length=128), nullable=True),
    sa.Column('input_tokens', sa.BigInteger(), nullable=False),
    sa.Column('output_tokens', sa.BigInteger(), nullable=False),
    sa.Column('cost', sa.BigInteger(), nullable=False),
    sa.Column('created_time', kalshi_core.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forecasts'))
    )
    with op.batch_alter_table('forecasts', schema=None) as batch_op:
        batch_op.create_index('ix_forecasts_ticker_created', ['ticker', 'created_time'], unique=False)

    op.create_table('market_leases',
    sa.Column('ticker', sa.String(length=128), nullable=False),
    sa.Column('worker_id', sa.String(length=128), nullable=True),
    sa.Column('expires_time', kalshi_core.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('ticker', name=op.f('pk_market_leases'))
    )
    with op.batch_alter_table('market_leases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_market_leases_worker_id'), ['worker_id'], unique=False)

    op.create_table('market_snapshots',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ticker', sa.String(length=128), nullable=False),
    sa.Column('event_ticker', sa.String(length=128), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('captured_time', kalshi_core.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('yes_bid', sa.BigInteger(), nullable=False),
    sa.Column('yes_ask', sa.BigInteger(), nullable=False),
    sa.Column('last_price', sa.BigInteger(), nullable=False),
    sa.Column('volume', sa.BigInteger(), nullable=False),
    sa.Column('open_interest', sa.BigInteger(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_market_snapshots'))
    )
    with op.batch_alter_table('market_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_market_snapshots_ticker_captured', ['ticker', 'captured_time'], unique=False)

    op.create_table('orders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('client_order_id', sa.String(length=128), nullable=False),
    sa.Column('order_id', sa.String(length=128), nullable=True),
    sa.Column('decision_id', sa.String(length=128), nullable=True),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('ticker', sa.String(length=128), nullable=False),
    sa.Column('side', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.Column('strategy', sa.String(length=200), nullable=False),
    sa.Column('time_in_force', sa.String(length=32), nullable=False),
    sa.Column('post_only', sa.Boolean(), nullable=False),
    sa.Column('reduce_only', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('expected_value', sa.BigInteger(), nullable=False),
    sa.Column('fill_count', sa.BigInteger(), nullable=False),
    sa.Column('remaining_count', sa.BigInteger(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('exchange_payload', sa.Text(), nullable=True),
    sa.Column('created_time', kalshi_core.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_time', kalshi_core.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('client_order_id', name=op.f('uq_orders_client_order_id')),
    sa.UniqueConstraint('order_id', name=op.f('uq_orders_order_id'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_ticker_state', ['ticker', 'state'], unique=False)

    op.create_table('positions',
    sa.Column('ticker', sa.String(length=128), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('market_exposure', sa.BigInteger(), nullable=False),
    sa.Column('total_traded', sa.BigInteger(), nullable=False),
    sa.Column('realized_pnl', sa.BigInteger(), nullable=False),
    sa.Column('fees_paid', sa.BigInteger(), nullable=False),
    sa.Column('last_updated_ts', kalshi_core.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('ticker', name=op.f('pk_positions'))
    )
    with op.batch_alter_table('positions', schema=None) as batch_op:
        batch_op.create_index('ix_positions_open', ['ticker'], unique=False, sqlite_where=sa.text('position <> 0'), postgresql_where=sa.text('position <> 0'))

    op.create_table('settlements',
    sa.Column('ticker', sa.String(length=128), nullable=False),
    sa.Column('event_ticker', sa.String(length=128), nullable=False),
    sa.Column('market_result', sa.String(length=32), nullable=False),
    sa.Column('yes_count', sa.BigInteger(), nullable=False),
    sa.Column('no_count', sa.BigInteger(), nullable=False),
    sa.Column('yes_total_cost', sa.BigInteger(), nullable=False),
    sa.Column('no_total_cost', sa.BigInteger(), nullable=False),
    sa.Column('revenue', sa.BigInteger(), nullable=False),
    sa.Column('fee_cost', sa.BigInteger(), nullable=False),
    sa.Column('settled_time', kalshi_core.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('ticker', name=op.f('pk_settlements'))
    )
    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_settlements_settled_time'), ['settled_time'], unique=False)

    op.create_table('decisions',
    sa.Column('decision_id', sa.String(length=128), nullable=False),
    sa.Column('ticker', sa.String(length=128), nullable=False),
    sa.Column('created_time', kalshi_core.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('accepted', sa.Boolean(), nullable=False),
    sa.Column('forecast_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['forecast_id'], ['forecasts.id'], name=op.f('fk_decisions_forecast_id_forecasts')),
    sa.PrimaryKeyConstraint('decision_id', name=op.f('pk_decisions'))
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index('ix_decisions_ticker_created', ['ticker', 'created_time'], unique=False)

    op.create_table('order_intents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('decision_id', sa.String(length=128), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('ticker', sa.String(length=128), nullable=False),
    sa.Column('side', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.Column('strategy', sa.String(length=200), nullable=False),
    sa.Column('time_in_force', sa.String(length=32), nullable=False),
    sa.Column('post_only', sa.Boolean(), nullable=False),
    sa.Column('reduce_only', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('expected_value', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.decision_id'], name=op.f('fk_order_intents_decision_id_decisions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_intents')),
    sa.UniqueConstraint('decision_id', 'position', name=op.f('uq_order_intents_decision_id_position'))
    )
    op.create_table('verdicts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('decision_id', sa.String(length=128), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('validator', sa.String(length=200), nullable=False),
    sa.Column('accepted', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.decision_id'], name=op.f('fk_verdicts_decision_id_decisions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verdicts')),
    sa.UniqueConstraint('decision_id', 'position', name=op.f('uq_verdicts_decision_id_position'))
    )


def downgrade() -> None:
    op.drop_table('verdicts')
    op.drop_table('order_intents')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_decisions_ticker_created')

    op.drop_table('decisions')
    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_settlements_settled_time'))

    op.drop_table('settlements')
    with op.batch_alter_table('positions', schema=None) as batch_op:
        batch_op.drop_index('ix_positions_open', sqlite_where=sa.text('position <> 0'), postgresql_where=sa.text('position <> 0'))

    op.drop_table('positions')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_ticker_state')

    op.drop_table('orders')
    with op.batch_alter_table('market_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_market_snapshots_ticker_captured')

    op.drop_table('market_snapshots')
    with op.batch_alter_table('market_leases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_market_leases_worker_id'))

    op.drop_table('market_leases')
    with op.batch_alter_table('forecasts', schema=None) as batch_op:
        batch_op.drop_index('ix_forecasts_ticker_created')

    op.drop_table('forecasts')
    with op.batch_alter_table('fills', schema=None) as batch_op:
        batch_op.drop_index('ix_fills_ticker_created')
        batch_op.drop_index(batch_op.f('ix_fills_order_id'))

    op.drop_table('fills')
    op.drop_table('daily_pnl')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_kind_created')
        batch_op.drop_index(batch_op.f('ix_audit_events_created_time'))

    op.drop_table('audit_events')
    with op.batch_alter_table('ai_spend', schema=None) as batch_op:
        batch_op.drop_index('ix_ai_spend_created_cost')

    op.drop_table('ai_spend')
