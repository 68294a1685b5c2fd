"""Cache-aside for the venue's market data, in front of any gateway.

Only what is safe to share is cached: the open-market list, single markets, order books,
series, events and the exchange status. Balance, positions, resting orders, fills and
settlements always go to the venue: reconciliation must see the venue's truth, and writes
pass straight through. Our own orders, cancels and fills (blinker signals) drop the cached
book and market of that ticker before the next read, on every worker sharing the backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from kalshi_core import signals
from kalshi_core.cache import kinds
from kalshi_core.cache.store import SharedCache
from kalshi_core.client.types import EventDetail, ExchangeStatus
from kalshi_core.errors import ConfigError
from kalshi_core.gateway import BatchOrderResult, CancelAck, Gateway, OrderAck, OrderRequest
from kalshi_core.models import (
    Balance,
    Fill,
    Market,
    Order,
    OrderBook,
    Position,
    Series,
    Settlement,
)

OPEN = "open"
_OWN_TRADING = (signals.order_placed, signals.order_canceled, signals.order_filled)


class CachingGateway:
    """A :class:`~kalshi_core.engine.gateway.Gateway` whose market-data reads are cached.

    ``reader`` answers the reads the gateway does not have (single markets, events, the
    exchange status): the :class:`~kalshi_core.client.KalshiClient` in paper and live trading.
    ``invalidate_lists`` also drops the shared open-market list after our own trading (off by
    default: the list is at most ``cache.markets_ttl_seconds`` old, and our orders and
    positions are never read from the cache).
    """

    def __init__(
        self,
        inner: Gateway,
        cache: SharedCache,
        *,
        reader: Any = None,
        invalidate_lists: bool = False,
    ) -> None:
        self.inner = inner
        self.cache = cache
        self.reader = reader
        self.invalidate_lists = invalidate_lists
        for signal in _OWN_TRADING:
            signal.connect(self._on_own_trading)  # weak: goes away with the gateway

    @property
    def client(self) -> Any:
        """The wrapped gateway's HTTP client, if any (monitoring exports its call counters)."""
        return getattr(self.inner, "client", None)

    def _on_own_trading(self, sender: object, **details: Any) -> None:
        ticker = getattr(sender, "ticker", None)
        if not isinstance(ticker, str):
            return
        stale = [f"{kind.name}:{ticker}" for kind in kinds.PER_TICKER]
        if self.invalidate_lists:
            stale.append(f"{kinds.MARKETS.name}:{OPEN}")
        self.cache.invalidate_later(stale)

    def _reader(self, method: str) -> Any:
        found = getattr(self.reader, method, None)
        if found is None:
            raise ConfigError(
                f"CachingGateway.{method} needs a reader with {method}() (the Kalshi client); "
                f"got {type(self.reader).__name__}"
            )
        return found

    # ---- cached market data ----

    async def open_markets(self) -> list[Market]:
        markets = await self.cache.fetch(kinds.MARKETS, OPEN, self.inner.open_markets)
        return list(markets)  # the caller may sort or filter its own copy

    async def market(self, ticker: str) -> Market:
        return await self.cache.fetch(
            kinds.MARKET, ticker, lambda: self._reader("get_market")(ticker)
        )

    async def orderbook(self, ticker: str) -> OrderBook:
        return await self.cache.fetch(kinds.ORDERBOOK, ticker, lambda: self.inner.orderbook(ticker))

    async def series(self, series_ticker: str) -> Series | None:
        """The series' terms; an unknown series (``None``) is asked again next time."""
        return await self.cache.fetch(
            kinds.SERIES, series_ticker, lambda: self.inner.series(series_ticker)
        )

    async def event(self, event_ticker: str) -> EventDetail:
        load = self._reader("get_event")
        return await self.cache.fetch(kinds.EVENT, event_ticker, lambda: load(event_ticker))

    async def exchange_status(self) -> ExchangeStatus:
        return await self.cache.fetch(kinds.STATUS, "", self._reader("get_exchange_status"))

    # ---- always from the venue ----

    async def balance(self) -> Balance:
        return await self.inner.balance()

    async def positions(self) -> list[Position]:
        return await self.inner.positions()

    async def all_positions(self) -> list[Position]:
        return await self.inner.all_positions()

    async def resting_orders(self) -> list[Order]:
        return await self.inner.resting_orders()

    async def fills(self, since: datetime | None = None) -> list[Fill]:
        return await self.inner.fills(since)

    async def settlements(self) -> list[Settlement]:
        return await self.inner.settlements()

    async def find_order(self, client_order_id: str, ticker: str) -> Order | None:
        return await self.inner.find_order(client_order_id, ticker)

    async def place(self, requests: Sequence[OrderRequest]) -> list[BatchOrderResult]:
        return await self.inner.place(requests)

    async def place_one(self, request: OrderRequest) -> OrderAck:
        return await self.inner.place_one(request)

    async def cancel(self, order_id: str) -> CancelAck:
        return await self.inner.cancel(order_id)
