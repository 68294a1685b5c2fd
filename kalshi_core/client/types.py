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

from kalshi_core.models import (
    BookSide,
    Event,
    Market,
    SelfTradePrevention,
    TimeInForce,
    WireKind,
    count_fp,
    dollars,
    timestamp,
)
from kalshi_core.money import Count, Money, Price

T = TypeVar("T")


@attrs.frozen(kw_only=True)
class OrderRequest:
    """A limit order on the YES-quoted book: ``bid`` buys YES at ``price``, ``ask`` sells it.

    ``client_order_id`` is required: it is what makes a retried submission safe.
    """

    ticker: str
    book_side: BookSide
    price: Price
    count: Count
    client_order_id: str
    time_in_force: TimeInForce = TimeInForce.GOOD_TILL_CANCELED
    self_trade_prevention_type: SelfTradePrevention = SelfTradePrevention.TAKER_AT_CROSS
    post_only: bool = False
    reduce_only: bool = False
    expiration_time: datetime | None = None
    cancel_order_on_pause: bool | None = None
    subaccount: int | None = None

    def __attrs_post_init__(self) -> None:
        if not self.client_order_id:
            raise ValueError(f"order on {self.ticker} needs a client_order_id")
        if self.count <= 0:
            raise ValueError(f"order {self.client_order_id}: count must be positive")
        if self.price <= 0:
            raise ValueError(f"order {self.client_order_id}: price must be positive")


@attrs.frozen(kw_only=True)
class OrderAck:
    """The exchange's answer to an order creation.

    ``recovered`` is true when the ack was rebuilt from a lookup after a retry found the order
    already placed; the average prices are then unknown (``None``).
    """

    order_id: str
    client_order_id: str | None = None
    fill_count: Count = count_fp("fill_count", default=0)
    remaining_count: Count = count_fp("remaining_count", default=0)
    average_fill_price: Price | None = dollars("average_fill_price", default=None)
    average_fee_paid: Money | None = dollars("average_fee_paid", default=None)
    ts: datetime | None = timestamp("ts_ms", kind=WireKind.EPOCH_MS, default=None)
    recovered: bool = False


@attrs.frozen(kw_only=True)
class CancelAck:
    """``already_canceled`` is true when a retried cancel found the order no longer resting;
    how much the lost first attempt reduced is then unknown (``reduced_by`` is ``None``)."""

    order_id: str
    client_order_id: str | None = None
    reduced_by: Count | None = count_fp("reduced_by", default=None)
    ts: datetime | None = timestamp("ts_ms", kind=WireKind.EPOCH_MS, default=None)
    already_canceled: bool = False


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
class ItemError:
    """A per-item failure inside a batch response."""

    code: str = ""
    message: str = ""


@attrs.frozen(kw_only=True)
class BatchOrderResult:
    """One item of a batch create: an ack, or ``error`` set."""

    order_id: str | None = None
    client_order_id: str | None = None
    fill_count: Count | None = count_fp("fill_count", default=None)
    remaining_count: Count | None = count_fp("remaining_count", default=None)
    average_fill_price: Price | None = dollars("average_fill_price", default=None)
    average_fee_paid: Money | None = dollars("average_fee_paid", default=None)
    ts: datetime | None = timestamp("ts_ms", kind=WireKind.EPOCH_MS, default=None)
    error: ItemError | None = None


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
class Page(Generic[T]):
    """One page of a cursor-paginated list; ``cursor == ""`` on the last page."""

    items: tuple[T, ...]
    cursor: str = ""


@attrs.frozen(kw_only=True)
class EventDetail:
    event: Event
    markets: tuple[Market, ...] = ()
