"""The look-ahead guard: the engine's view of the venue holds nothing from the future.

:class:`LookaheadGuard` wraps the engine's :class:`~kalshi_core.gateway.Gateway` (the one place
the engine ingests markets, fills and settlements):

* markets reach validators, forecasters and strategies without a result or any settlement
  field, whatever the venue's Market objects carry (:func:`without_outcome`);
* a read that asks for data after the venue clock's now (``fills(since=...)`` later than now)
  raises :class:`~kalshi_core.errors.LookaheadError` naming the call and both times;
* with ``check_records`` (every venue on recorded or simulated time), a fill or settlement
  stamped after now is refused the same way: the venue leaked the future.

On the wall clock (a live venue) only the request check applies: Kalshi's timestamps and the
local clock are different clocks, and a live venue cannot know the future anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import attrs

from kalshi_core.client.types import EventDetail
from kalshi_core.clock import Clock
from kalshi_core.errors import LookaheadError
from kalshi_core.gateway import BatchOrderResult, CancelAck, Gateway, OrderAck, OrderRequest
from kalshi_core.models import (
    Balance,
    Fill,
    Market,
    MarketResult,
    Order,
    OrderBook,
    Position,
    Series,
    Settlement,
)

__all__ = ["LookaheadGuard", "without_outcome"]


def without_outcome(market: Market) -> Market:
    """``market`` with no result, settlement value, settlement time or expiration value."""
    if (
        market.result is MarketResult.NONE
        and market.settlement_value is None
        and market.settlement_ts is None
        and not market.expiration_value
    ):
        return market  # the usual case: nothing to strip, nothing to copy
    return attrs.evolve(
        market,
        result=MarketResult.NONE,
        settlement_value=None,
        settlement_ts=None,
        expiration_value="",
    )


def _after(now: datetime, times: Iterable[datetime | None]) -> datetime | None:
    """The latest of ``times`` after ``now``, if any."""
    late = [t for t in times if t is not None and t > now]
    return max(late) if late else None


class LookaheadGuard:
    """A Gateway that refuses the future (see the module docstring)."""

    def __init__(self, inner: Gateway, clock: Clock, *, check_records: bool = True) -> None:
        self.inner = inner
        self.clock = clock
        self.check_records = check_records

    def _refuse(self, call: str, asked: datetime, now: datetime) -> None:
        raise LookaheadError(
            f"look-ahead: {call} reads data at {asked.isoformat()}, after the venue clock's "
            f"now {now.isoformat()}"
        )

    def _check(self, call: str, now: datetime, times: Iterable[datetime | None]) -> None:
        if self.check_records:
            late = _after(now, times)
            if late is not None:
                self._refuse(call, late, now)

    @property
    def client(self) -> Any:
        """The wrapped gateway's HTTP client, if any (monitoring exports its call counters)."""
        return getattr(self.inner, "client", None)

    @property
    def cache(self) -> Any:
        """The wrapped gateway's cache, if any (monitoring exports it, the session closes it)."""
        return getattr(self.inner, "cache", None)

    async def open_markets(self) -> list[Market]:
        return [without_outcome(m) for m in await self.inner.open_markets()]

    async def market(self, ticker: str) -> Market:
        """One market, as a cached gateway reads it: without its outcome too."""
        return without_outcome(await self.inner.market(ticker))  # type: ignore[attr-defined]

    async def event(self, event_ticker: str) -> EventDetail:
        """An event and its markets, each without its outcome."""
        detail: EventDetail = await self.inner.event(event_ticker)  # type: ignore[attr-defined]
        return attrs.evolve(detail, markets=tuple(without_outcome(m) for m in detail.markets))

    async def fills(self, since: datetime | None = None) -> list[Fill]:
        now = self.clock.now()
        if since is not None and since > now:
            self._refuse(f"fills(since={since.isoformat()})", since, now)
        fills = await self.inner.fills(since)
        self._check("fills()", now, (f.created_time for f in fills))
        return fills

    async def settlements(self) -> list[Settlement]:
        now = self.clock.now()
        settlements = await self.inner.settlements()
        self._check("settlements()", now, (s.settled_time for s in settlements))
        return settlements

    async def balance(self) -> Balance:
        return await self.inner.balance()

    async def positions(self) -> list[Position]:
        return await self.inner.positions()

    async def all_positions(self) -> list[Position]:
        return await self.inner.all_positions()

    async def resting_orders(self) -> list[Order]:
        return await self.inner.resting_orders()

    async def find_order(self, client_order_id: str, ticker: str) -> Order | None:
        return await self.inner.find_order(client_order_id, ticker)

    async def orderbook(self, ticker: str) -> OrderBook:
        return await self.inner.orderbook(ticker)

    async def series(self, series_ticker: str) -> Series | None:
        return await self.inner.series(series_ticker)

    async def place(self, requests: Sequence[OrderRequest]) -> list[BatchOrderResult]:
        return await self.inner.place(requests)

    async def place_one(self, request: OrderRequest) -> OrderAck:
        return await self.inner.place_one(request)

    async def cancel(self, order_id: str) -> CancelAck:
        return await self.inner.cancel(order_id)
