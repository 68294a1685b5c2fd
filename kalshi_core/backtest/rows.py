"""Read one run's rows for its results: fills (with each order's strategy), settlements, and
the forecasts its decisions stored with the market snapshot each decision saw.

Everything is scoped to the run's id, so a database shared by several runs gives each its own
figures. Forecasts and snapshots carry no run id of their own: they are reached through the
run's decisions (a forecast is stored with its decision; the snapshot at the decision's time).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from kalshi_core.backtest.records import FillRecord, ForecastRecord, SettlementRecord
from kalshi_core.money import DOLLAR
from kalshi_core.storage.schema import (
    DecisionRow,
    FillRow,
    ForecastRow,
    MarketSnapshotRow,
    OrderRow,
    RunRow,
    SettlementRow,
)

PROBABILITY_SCALE = 10_000  # forecasts store probabilities in basis points


async def read_fills(engine: AsyncEngine, run_id: str) -> list[FillRecord]:
    """The run's fills in time order, each with the strategy of the order it filled."""
    query = (
        select(
            FillRow.ticker,
            FillRow.book_side,
            FillRow.count,
            FillRow.yes_price,
            FillRow.fee_cost,
            FillRow.is_taker,
            FillRow.created_time,
            OrderRow.strategy,
            OrderRow.created_time.label("order_time"),
        )
        .outerjoin(OrderRow, and_(OrderRow.order_id == FillRow.order_id, OrderRow.run_id == run_id))
        .where(FillRow.run_id == run_id)
        .order_by(FillRow.created_time, FillRow.fill_id)
    )
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [_fill(row) for row in rows]


def _fill(row: Any) -> FillRecord:
    return FillRecord(
        ticker=row.ticker,
        bid=row.book_side == "bid",
        count=row.count,
        yes_price=row.yes_price,
        fee=row.fee_cost,
        time=row.created_time or row.order_time,
        strategy=row.strategy or "",
        is_taker=bool(row.is_taker),
    )


async def read_settlements(engine: AsyncEngine, run_id: str) -> list[SettlementRecord]:
    query = (
        select(SettlementRow)
        .where(SettlementRow.run_id == run_id)
        .order_by(SettlementRow.settled_time, SettlementRow.ticker)
    )
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [
        SettlementRecord(
            ticker=row.ticker,
            result=row.market_result,
            yes_count=row.yes_count,
            no_count=row.no_count,
            revenue=row.revenue,
            time=row.settled_time,
        )
        for row in rows
        if row.settled_time is not None
    ]


async def read_forecasts(engine: AsyncEngine, run_id: str) -> list[ForecastRecord]:
    """Each of the run's decisions that carried a forecast, with the market's price then."""
    snapshot = and_(
        MarketSnapshotRow.ticker == DecisionRow.ticker,
        MarketSnapshotRow.captured_time == DecisionRow.created_time,
    )
    query = (
        select(
            DecisionRow.decision_id,
            DecisionRow.ticker,
            DecisionRow.created_time,
            ForecastRow.probability,
            MarketSnapshotRow.yes_bid,
            MarketSnapshotRow.yes_ask,
            MarketSnapshotRow.last_price,
        )
        .join(ForecastRow, ForecastRow.id == DecisionRow.forecast_id)
        .outerjoin(MarketSnapshotRow, snapshot)
        .where(DecisionRow.run_id == run_id)
        .order_by(DecisionRow.created_time, DecisionRow.decision_id, MarketSnapshotRow.id)
    )
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    seen: set[str] = set()
    records = []
    for row in rows:
        if row.decision_id in seen:  # a snapshot recorded twice at one time: the first
            continue
        seen.add(row.decision_id)
        records.append(
            ForecastRecord(
                ticker=row.ticker,
                time=row.created_time,
                probability=row.probability / PROBABILITY_SCALE,
                market_price=market_price(row.yes_bid, row.yes_ask, row.last_price),
            )
        )
    return records


def market_price(yes_bid: int | None, yes_ask: int | None, last: int | None) -> float | None:
    """The market's probability: the mid of a two-sided quote, else the last price."""
    if yes_bid and yes_ask and 0 < yes_bid < yes_ask < DOLLAR:
        return (yes_bid + yes_ask) / 2 / DOLLAR
    if last:
        return last / DOLLAR
    return None


async def read_span(engine: AsyncEngine, run_id: str) -> tuple[datetime | None, datetime | None]:
    """When the run started (its venue's time) and its last recorded decision."""
    async with engine.connect() as connection:
        started = await connection.scalar(
            select(RunRow.started_time).where(RunRow.run_id == run_id)
        )
        last = await connection.scalar(
            select(func.max(DecisionRow.created_time)).where(DecisionRow.run_id == run_id)
        )
    return started, last
