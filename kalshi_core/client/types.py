"""Request and response types of the client that the domain model does not cover.

Response types carry wire metadata (``dollars``, ``count_fp``...), so :mod:`kalshi_core.wire`
converts them exactly like the domain model. Requests are formatted by hand in
:mod:`kalshi_core.client.client` because their wire names differ per endpoint.
"""

# The wire helpers (dollars(), count_fp(), ...) return attrs.field() with metadata; ruff
# mistakes them for call-time defaults.
# ruff: noqa: RUF009

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

import attrs

from kalshi_core.gateway import (  # the domain's order family, on the wire too
    ItemError,
)
from kalshi_core.models import (
    Event,
    Market,
    WireKind,
    count_fp,
    dollars,
    timestamp,
)
from kalshi_core.money import Count, Money, Price

T = TypeVar("T")


@attrs.frozen(kw_only=True)
class AmendAck:
    order_id: str
    client_order_id: str | None = None
    fill_count: Count | None = count_fp("fill_count", default=None)
    remaining_count: Count | None = count_fp("remaining_count", default=None)
    average_fill_price: Price | None = dollars("average_fill_price", default=None)
    average_fee_paid: Money | None = dollars("average_fee_paid", default=None)
    ts: datetime | None = timestamp("ts_ms", kind=WireKind.EPOCH_MS, default=None)


@attrs.frozen(kw_only=True)
class DecreaseAck:
    order_id: str
    client_order_id: str | None = None
    remaining_count: Count = count_fp("remaining_count", default=0)
    ts: datetime | None = timestamp("ts_ms", kind=WireKind.EPOCH_MS, default=None)


@attrs.frozen(kw_only=True)
class BatchCancelResult:
    order_id: str
    client_order_id: str | None = None
    reduced_by: Count = count_fp("reduced_by", default=0)
    ts: datetime | None = timestamp("ts_ms", kind=WireKind.EPOCH_MS, default=None)
    error: ItemError | None = None


@attrs.frozen(kw_only=True)
class ExchangeStatus:
    exchange_active: bool
    trading_active: bool
    exchange_estimated_resume_time: datetime | None = timestamp(default=None)


@attrs.frozen(kw_only=True)
class LocalClock:
    """The local exchange's clock (``GET /local/clock``, not a Kalshi route): its time, whether a
    client steps it, and whether its recorded history is over."""

    now: datetime = timestamp()
    stepped: bool = False
    finished: bool = False
    speed: float = 0.0  # recorded seconds per wall second when not stepped


@attrs.frozen(kw_only=True)
class PriceOHLC:
    """Open/low/high/close of a price; all ``None`` for a period without trades."""

    open: Price | None = dollars("open_dollars", default=None)
    low: Price | None = dollars("low_dollars", default=None)
    high: Price | None = dollars("high_dollars", default=None)
    close: Price | None = dollars("close_dollars", default=None)


@attrs.frozen(kw_only=True)
class Candlestick:
    end_period: datetime = timestamp("end_period_ts", kind=WireKind.EPOCH_S)
    yes_bid: PriceOHLC = PriceOHLC()
    yes_ask: PriceOHLC = PriceOHLC()
    price: PriceOHLC = PriceOHLC()
    volume: Count = count_fp("volume_fp", default=0)
    open_interest: Count = count_fp("open_interest_fp", default=0)


@attrs.frozen(kw_only=True)
class HistoricalCutoff:
    """``GET /historical/cutoff``: data older than these times is served by /historical."""

    market_settled: datetime = timestamp("market_settled_ts")
    trades_created: datetime = timestamp("trades_created_ts")
    orders_updated: datetime = timestamp("orders_updated_ts")


@attrs.frozen(kw_only=True)
class Page(Generic[T]):
    """One page of a cursor-paginated list; ``cursor == ""`` on the last page."""

    items: tuple[T, ...]
    cursor: str = ""


@attrs.frozen(kw_only=True)
class EventDetail:
    event: Event
    markets: tuple[Market, ...] = ()
