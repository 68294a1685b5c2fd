"""The :class:`~kalshi_core.gateway.Gateway` over the Kalshi HTTP client: the ``paper`` venue
(the local exchange) and the ``kalshi`` venue (Kalshi itself) trade through it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from kalshi_core.client import BatchOrderResult, CancelAck, KalshiClient, OrderAck, OrderRequest
from kalshi_core.clock import Clock
from kalshi_core.errors import ExchangeError
from kalshi_core.models import (
    Balance,
    Fill,
    Market,
    MarketStatus,
    Order,
    OrderBook,
    OrderStatus,
    Position,
    Series,
    Settlement,
)

MARKETS_PAGE = 1000
#: Asked from this long before the previous listing began: ``min_updated_ts`` is in whole
#: seconds, and an update in the second the listing began may not be in it.
LISTING_MARGIN = timedelta(seconds=1)


class ClientGateway:
    """A :class:`Gateway` over :class:`KalshiClient`; each method is one paginated read or
    one write, so a steady-state cycle costs a handful of API calls.

    With ``full_listing_every`` N above 1 the open markets are listed in full once every N
    listings; in between only the markets updated since the last listing are asked for
    (``min_updated_ts``, one page at steady state whatever the number of markets) and merged
    into the held list: a market no longer open leaves it, a new or changed one replaces its
    old copy. Kalshi's ``updated_time`` is the market's last change; a change that does not
    move it is caught by the next full listing."""

    def __init__(
        self, client: KalshiClient, *, full_listing_every: int = 1, clock: Clock | None = None
    ) -> None:
        if full_listing_every < 1:
            raise ValueError(f"full_listing_every must be at least 1, got {full_listing_every}")
        self.client = client
        self.full_listing_every = full_listing_every
        self.clock = clock  # the exchange's time: each listing asks from its predecessor's
        self._held: dict[str, Market] = {}
        self._listings = 0
        self._since: datetime | None = None

    async def open_markets(self) -> list[Market]:
        incremental = self._since is not None and self._listings % self.full_listing_every
        started = self.clock.now() - LISTING_MARGIN if self.clock is not None else None
        self._listings += 1
        if not incremental:
            listed = self.client.iter_markets(status="open", limit=MARKETS_PAGE)
            self._held = {m.ticker: m async for m in listed}
        else:
            await self._merge_updated()
        self._since = started or self._latest_update()
        return list(self._held.values())

    def _latest_update(self) -> datetime | None:
        """Without a clock: the latest ``updated_time`` held (markets updated in that second
        come again next time: the filter is inclusive, in seconds)."""
        stamps = [m.updated_time for m in self._held.values() if m.updated_time is not None]
        return max([*stamps, self._since] if self._since else stamps, default=None)

    async def _merge_updated(self) -> None:
        """Merge the markets updated since the last listing (the filter takes no status)."""
        assert self._since is not None
        updated = self.client.iter_markets(min_updated_ts=self._since, limit=MARKETS_PAGE)
        async for market in updated:
            if market.status is MarketStatus.ACTIVE:
                self._held[market.ticker] = market
            else:
                self._held.pop(market.ticker, None)

    async def balance(self) -> Balance:
        return await self.client.get_balance()

    async def positions(self) -> list[Position]:
        return [p async for p in self.client.iter_positions(limit=MARKETS_PAGE)]

    async def all_positions(self) -> list[Position]:
        return [p async for p in self.client.iter_positions(settlement_status="all")]

    async def resting_orders(self) -> list[Order]:
        orders = self.client.iter_orders(status=OrderStatus.RESTING.value, limit=MARKETS_PAGE)
        return [o async for o in orders]

    async def fills(self, since: datetime | None = None) -> list[Fill]:
        """Our fills, only those at or after ``since`` when given (one page in steady state)."""
        filters = {"min_ts": int(since.timestamp())} if since else {}
        return [f async for f in self.client.iter_fills(limit=MARKETS_PAGE, **filters)]

    async def settlements(self) -> list[Settlement]:
        return [s async for s in self.client.iter_settlements(limit=MARKETS_PAGE)]

    async def find_order(self, client_order_id: str, ticker: str) -> Order | None:
        return await self.client.find_order(client_order_id, ticker=ticker)

    async def orderbook(self, ticker: str) -> OrderBook:
        return await self.client.get_orderbook(ticker)

    async def series(self, series_ticker: str) -> Series | None:
        try:
            return await self.client.get_series(series_ticker)
        except ExchangeError as error:
            if error.status == 404:
                return None
            raise

    async def place(self, requests: Sequence[OrderRequest]) -> list[BatchOrderResult]:
        return await self.client.batch_create_orders(requests)

    async def place_one(self, request: OrderRequest) -> OrderAck:
        return await self.client.create_order(request)

    async def cancel(self, order_id: str) -> CancelAck:
        return await self.client.cancel_order(order_id)
