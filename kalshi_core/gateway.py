"""The venue as the engine sees it, in domain terms: the :class:`Gateway` protocol and its one
order-request / acknowledgement family.

Every venue (Kalshi over HTTP, the local exchange over HTTP, the in-process simulator) is adapted
to this protocol in :mod:`kalshi_core.venues`; the engine, strategies and validators know only
these types. The wire metadata on the fields lets the client's one converter read Kalshi's JSON
into them directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import attrs

from kalshi_core.models import (
    Balance,
    BookSide,
    Fill,
    Market,
    Order,
    OrderBook,
    Position,
    SelfTradePrevention,
    Series,
    Settlement,
    TimeInForce,
    WireKind,
    count_fp,
    dollars,
    timestamp,
)
from kalshi_core.money import Count, Money, Price


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
    order_group_id: str | None = None

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


class Gateway(Protocol):
    """The venue as the engine sees it."""

    async def open_markets(self) -> list[Market]: ...

    async def balance(self) -> Balance: ...

    async def positions(self) -> list[Position]: ...

    async def all_positions(self) -> list[Position]:
        """Every market traded, settled ones included (the session report)."""
        ...

    async def resting_orders(self) -> list[Order]: ...

    async def fills(self, since: datetime | None = None) -> list[Fill]: ...

    async def settlements(self) -> list[Settlement]: ...

    async def find_order(self, client_order_id: str, ticker: str) -> Order | None: ...

    async def orderbook(self, ticker: str) -> OrderBook:
        """The market's order book as the venue shows it now."""
        ...

    async def series(self, series_ticker: str) -> Series | None:
        """The series' terms (category, fee type and multiplier); ``None`` if unknown."""
        ...

    async def place(self, requests: Sequence[OrderRequest]) -> list[BatchOrderResult]: ...

    async def place_one(self, request: OrderRequest) -> OrderAck: ...

    async def cancel(self, order_id: str) -> CancelAck: ...
