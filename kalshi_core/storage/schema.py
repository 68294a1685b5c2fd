"""SQLAlchemy 2.0 models: one table per stored aggregate, and the indexes of the hot queries.

Only :mod:`kalshi_core.storage.repositories` reads or writes these rows; the rest of
kalshi-core sees the attrs domain objects of :mod:`kalshi_core.models`. Money, prices and
counts are ``BIGINT`` fixed-point units; times are :class:`~kalshi_core.storage.types.UTCDateTime`.

The Alembic revisions in ``migrations/versions`` create exactly this schema (a test compares
them). Hot queries and the index each one uses:

* open positions                    -> ``ix_positions_open`` (partial: ``position <> 0``)
* resting orders of a market        -> ``ix_orders_ticker_state``
* decisions of a market in a window -> ``ix_decisions_ticker_created``
* AI spend since the start of today -> ``ix_ai_spend_created_cost`` (covering)
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kalshi_core.storage.types import ID, MONEY, UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TICKER = String(128)
KEY = String(128)
NAME = String(200)
ENUM = String(32)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class MarketSnapshotRow(Base):
    """A market's quote at one moment; ``payload`` holds the whole Market as JSON."""

    __tablename__ = "market_snapshots"
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    ticker: Mapped[str] = mapped_column(TICKER)
    event_ticker: Mapped[str] = mapped_column(TICKER)
    status: Mapped[str] = mapped_column(ENUM)
    captured_time: Mapped[datetime] = mapped_column(UTCDateTime())
    yes_bid: Mapped[int] = mapped_column(MONEY)
    yes_ask: Mapped[int] = mapped_column(MONEY)
    last_price: Mapped[int] = mapped_column(MONEY)
    volume: Mapped[int] = mapped_column(MONEY)
    open_interest: Mapped[int] = mapped_column(MONEY)
    payload: Mapped[str] = mapped_column(Text)
    __table_args__ = (Index("ix_market_snapshots_ticker_captured", "ticker", "captured_time"),)


class ForecastRow(Base):
    __tablename__ = "forecasts"
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    ticker: Mapped[str] = mapped_column(TICKER)
    model: Mapped[str] = mapped_column(NAME)
    probability: Mapped[int] = mapped_column(Integer)
    confidence: Mapped[int | None] = mapped_column(Integer)
    stderr: Mapped[int | None] = mapped_column(Integer)  # basis points; NULL: not known
    reasoning: Mapped[str] = mapped_column(Text)
    prompt_hash: Mapped[str | None] = mapped_column(KEY)
    input_tokens: Mapped[int] = mapped_column(MONEY)
    output_tokens: Mapped[int] = mapped_column(MONEY)
    cost: Mapped[int] = mapped_column(MONEY)
    created_time: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (Index("ix_forecasts_ticker_created", "ticker", "created_time"),)


class DecisionRow(Base):
    __tablename__ = "decisions"
    decision_id: Mapped[str] = mapped_column(KEY, primary_key=True)
    run_id: Mapped[str] = mapped_column(KEY, default="", server_default="", index=True)
    ticker: Mapped[str] = mapped_column(TICKER)
    created_time: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted: Mapped[bool] = mapped_column(Boolean)
    forecast_id: Mapped[int | None] = mapped_column(ID, ForeignKey("forecasts.id"))
    __table_args__ = (Index("ix_decisions_ticker_created", "ticker", "created_time"),)


class VerdictRow(Base):
    """Every validator's verdict on a decision, with its reason, in the order given."""

    __tablename__ = "verdicts"
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    decision_id: Mapped[str] = mapped_column(
        KEY, ForeignKey("decisions.decision_id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer)
    validator: Mapped[str] = mapped_column(NAME)
    accepted: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("decision_id", "position"),)


class OrderIntentRow(Base):
    """An order intent a decision produced (before sizing and execution)."""

    __tablename__ = "order_intents"
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    decision_id: Mapped[str] = mapped_column(
        KEY, ForeignKey("decisions.decision_id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer)
    ticker: Mapped[str] = mapped_column(TICKER)
    side: Mapped[str] = mapped_column(ENUM)
    action: Mapped[str] = mapped_column(ENUM)
    price: Mapped[int] = mapped_column(MONEY)
    count: Mapped[int] = mapped_column(MONEY)
    strategy: Mapped[str] = mapped_column(NAME)
    time_in_force: Mapped[str] = mapped_column(ENUM)
    post_only: Mapped[bool] = mapped_column(Boolean)
    reduce_only: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    expected_value: Mapped[int] = mapped_column(MONEY)
    __table_args__ = (UniqueConstraint("decision_id", "position"),)


class OrderRow(Base):
    """Our order from intent to final state; ``exchange_payload`` is the venue's last word."""

    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(KEY, default="", server_default="", index=True)
    client_order_id: Mapped[str] = mapped_column(KEY, unique=True)
    order_id: Mapped[str | None] = mapped_column(KEY, unique=True)
    decision_id: Mapped[str | None] = mapped_column(KEY)
    state: Mapped[str] = mapped_column(ENUM)
    ticker: Mapped[str] = mapped_column(TICKER)
    side: Mapped[str] = mapped_column(ENUM)
    action: Mapped[str] = mapped_column(ENUM)
    price: Mapped[int] = mapped_column(MONEY)
    count: Mapped[int] = mapped_column(MONEY)
    strategy: Mapped[str] = mapped_column(NAME)
    time_in_force: Mapped[str] = mapped_column(ENUM)
    post_only: Mapped[bool] = mapped_column(Boolean)
    reduce_only: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    expected_value: Mapped[int] = mapped_column(MONEY)
    fill_count: Mapped[int] = mapped_column(MONEY)
    remaining_count: Mapped[int] = mapped_column(MONEY)
    error: Mapped[str] = mapped_column(Text)
    exchange_payload: Mapped[str | None] = mapped_column(Text)
    created_time: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_time: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (Index("ix_orders_ticker_state", "ticker", "state"),)


class FillRow(Base):
    __tablename__ = "fills"
    fill_id: Mapped[str] = mapped_column(KEY, primary_key=True)
    run_id: Mapped[str] = mapped_column(KEY, default="", server_default="", index=True)
    order_id: Mapped[str] = mapped_column(KEY, index=True)
    client_order_id: Mapped[str | None] = mapped_column(KEY)
    ticker: Mapped[str] = mapped_column(TICKER)
    outcome_side: Mapped[str] = mapped_column(ENUM)
    book_side: Mapped[str] = mapped_column(ENUM)
    count: Mapped[int] = mapped_column(MONEY)
    yes_price: Mapped[int] = mapped_column(MONEY)
    no_price: Mapped[int] = mapped_column(MONEY)
    is_taker: Mapped[bool] = mapped_column(Boolean)
    fee_cost: Mapped[int] = mapped_column(MONEY)
    created_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    __table_args__ = (Index("ix_fills_ticker_created", "ticker", "created_time"),)


class PositionRow(Base):
    __tablename__ = "positions"
    ticker: Mapped[str] = mapped_column(TICKER, primary_key=True)
    position: Mapped[int] = mapped_column(MONEY)
    market_exposure: Mapped[int] = mapped_column(MONEY)
    total_traded: Mapped[int] = mapped_column(MONEY)
    realized_pnl: Mapped[int] = mapped_column(MONEY)
    fees_paid: Mapped[int] = mapped_column(MONEY)
    last_updated_ts: Mapped[datetime | None] = mapped_column(UTCDateTime())
    __table_args__ = (
        Index(
            "ix_positions_open",
            "ticker",
            sqlite_where=text("position <> 0"),
            postgresql_where=text("position <> 0"),
        ),
    )


class SettlementRow(Base):
    __tablename__ = "settlements"
    # One settlement per market per run: a second run on one database keeps its own.
    run_id: Mapped[str] = mapped_column(KEY, primary_key=True, default="", server_default="")
    ticker: Mapped[str] = mapped_column(TICKER, primary_key=True)
    event_ticker: Mapped[str] = mapped_column(TICKER)
    market_result: Mapped[str] = mapped_column(ENUM)
    yes_count: Mapped[int] = mapped_column(MONEY)
    no_count: Mapped[int] = mapped_column(MONEY)
    yes_total_cost: Mapped[int] = mapped_column(MONEY)
    no_total_cost: Mapped[int] = mapped_column(MONEY)
    revenue: Mapped[int] = mapped_column(MONEY)
    fee_cost: Mapped[int] = mapped_column(MONEY)
    settled_time: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class DailyPnlRow(Base):
    __tablename__ = "daily_pnl"
    # One row per day per run: a run's day-start value never comes from another run.
    run_id: Mapped[str] = mapped_column(KEY, primary_key=True, default="", server_default="")
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    realized_pnl: Mapped[int] = mapped_column(MONEY)
    unrealized_pnl: Mapped[int] = mapped_column(MONEY)
    fees: Mapped[int] = mapped_column(MONEY)
    ai_cost: Mapped[int] = mapped_column(MONEY)
    updated_time: Mapped[datetime] = mapped_column(UTCDateTime())


class AiSpendRow(Base):
    __tablename__ = "ai_spend"
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(KEY, default="", server_default="", index=True)
    created_time: Mapped[datetime] = mapped_column(UTCDateTime())
    model: Mapped[str] = mapped_column(NAME)
    purpose: Mapped[str] = mapped_column(NAME)
    ticker: Mapped[str | None] = mapped_column(TICKER)
    input_tokens: Mapped[int] = mapped_column(MONEY)
    output_tokens: Mapped[int] = mapped_column(MONEY)
    cost: Mapped[int] = mapped_column(MONEY)
    __table_args__ = (Index("ix_ai_spend_created_cost", "created_time", "cost"),)


class AuditEventRow(Base):
    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(KEY, default="", server_default="", index=True)
    created_time: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    ticker: Mapped[str | None] = mapped_column(TICKER)
    message: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    __table_args__ = (Index("ix_audit_events_kind_created", "kind", "created_time"),)


class MarketLeaseRow(Base):
    """Which worker owns a market until when (see docs/adr/0001-market-ownership.md)."""

    __tablename__ = "market_leases"
    ticker: Mapped[str] = mapped_column(TICKER, primary_key=True)
    worker_id: Mapped[str | None] = mapped_column(KEY, index=True)
    expires_time: Mapped[datetime] = mapped_column(UTCDateTime())


class RunRow(Base):
    """One run of `kalshi-core run` (or a backtest): its id and what it was a function of.

    ``fingerprint`` hashes the settings, data and seed; the same command on a fresh database
    therefore gets the same run id (``<fingerprint>-1``), and a repeat on the same database the
    next number, so runs never mix."""

    __tablename__ = "runs"
    run_id: Mapped[str] = mapped_column(KEY, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(KEY, index=True)
    venue: Mapped[str] = mapped_column(String(64))
    # The venue's time when the run started (recorded time on recorded history): a stored row
    # never depends on the wall clock.
    started_time: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


TABLES = tuple(Base.metadata.sorted_tables)
TABLE_NAMES = tuple(sorted(table.name for table in TABLES))
