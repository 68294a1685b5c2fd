"""Cache-aside for the venue's market data, in front of any gateway.

Only what is safe to share is cached: the open-market list, single markets, order books,
series, events and the exchange status. Our own orders, cancels and fills (blinker signals)
drop the cached book and market of that ticker before the next read, on every worker sharing
the backend.

The account (balance, positions, resting orders, fills) goes to the venue every time unless
``cache.account_ttl_seconds`` is set: then the workers of one account share one snapshot for
at most that long, dropped by any worker's own order, cancel or fill, so N workers cost about
one worker's account reads. Fills are shared as the list since the UTC day's start; each
worker takes those at or after its own cursor (a superset by the second, as Kalshi's
``min_ts``: reconciliation skips fills it has seen). What can make it stale is only what
happens at the venue without us (a resting order filled by someone else), for at most the TTL.
Settlements always go to the venue, and so does everything once the run is finishing
(``run_finishing``): the final reconciliation reads the venue's truth. Writes pass straight
through.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from kalshi_core import signals
from kalshi_core.cache import kinds
from kalshi_core.cache.store import Kind, SharedCache
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
ACCOUNT = "account"
ALL_FILLS = f"{ACCOUNT}:all"  # the fills of an account that has none yet (no cursor)
T = TypeVar("T")
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
        self.finishing = False
        # the shared fill lists this worker read (all: dropped by any worker's write)
        self._fill_keys: set[str] = {ALL_FILLS}
        for signal in _OWN_TRADING:
            signal.connect(self._on_own_trading)  # weak: goes away with the gateway
        signals.run_finishing.connect(self._on_finishing)

    @property
    def client(self) -> Any:
        """The wrapped gateway's HTTP client, if any (monitoring exports its call counters)."""
        return getattr(self.inner, "client", None)

    def _on_own_trading(self, sender: object, **details: Any) -> None:
        ticker = getattr(sender, "ticker", None)
        if not isinstance(ticker, str):
            return
        stale = [f"{kind.name}:{ticker}" for kind in kinds.PER_TICKER]
        # a fill seen by reconciliation changes the account too (writes drop it themselves)
        stale += [f"{kind.name}:{key}" for kind, key in self._account_keys()]
        if self.invalidate_lists:
            stale.append(f"{kinds.MARKETS.name}:{OPEN}")
        self.cache.invalidate_later(stale)

    def _on_finishing(self, sender: object, **details: Any) -> None:
        self.finishing = True

    async def _account(self, kind: Kind[T], load: Callable[[], Awaitable[T]]) -> T:
        """The shared account snapshot of ``kind``, or the venue's answer when it is off."""
        if self.finishing or self.cache.ttl(kind) <= 0:
            return await load()
        return await self.cache.fetch(kind, ACCOUNT, load)

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

    # ---- the account: a shared snapshot when cache.account_ttl_seconds > 0 ----

    async def balance(self) -> Balance:
        return await self._account(kinds.BALANCE, self.inner.balance)

    async def positions(self) -> list[Position]:
        positions: list[Position] = await self._account(kinds.POSITIONS, self.inner.positions)
        return list(positions)  # the caller may change its own copy

    async def resting_orders(self) -> list[Order]:
        resting: list[Order] = await self._account(kinds.RESTING, self.inner.resting_orders)
        return list(resting)

    # ---- always from the venue ----

    async def all_positions(self) -> list[Position]:
        return await self.inner.all_positions()

    async def fills(self, since: datetime | None = None) -> list[Fill]:
        if self.finishing or self.cache.ttl(kinds.FILLS) <= 0:
            return await self.inner.fills(since)
        if since is None:  # an account with no fill yet asks for all of them every cycle
            return await self._shared_fills(ALL_FILLS, None)
        day = since.replace(hour=0, minute=0, second=0, microsecond=0)
        shared = await self._shared_fills(f"{ACCOUNT}:{day:%Y-%m-%d}", day)
        floor = since.replace(microsecond=0)
        return [f for f in shared if f.created_time is None or f.created_time >= floor]

    async def _shared_fills(self, key: str, since: datetime | None) -> list[Fill]:
        self._fill_keys.add(key)
        return await self.cache.fetch(kinds.FILLS, key, lambda: self.inner.fills(since))

    async def settlements(self) -> list[Settlement]:
        settlements: list[Settlement] = await self._account(
            kinds.SETTLEMENTS, self.inner.settlements
        )
        return list(settlements)

    async def find_order(self, client_order_id: str, ticker: str) -> Order | None:
        return await self.inner.find_order(client_order_id, ticker)

    # ---- writes: straight through, then the shared account snapshot is dropped at once ----

    async def place(self, requests: Sequence[OrderRequest]) -> list[BatchOrderResult]:
        try:
            return await self.inner.place(requests)
        finally:
            await self._drop_account()

    async def place_one(self, request: OrderRequest) -> OrderAck:
        try:
            return await self.inner.place_one(request)
        finally:
            await self._drop_account()

    async def cancel(self, order_id: str) -> CancelAck:
        try:
            return await self.inner.cancel(order_id)
        finally:
            await self._drop_account()

    async def _drop_account(self) -> None:
        """Other workers must not read an account from before this write: dropped now, not
        at this worker's next read (a write whose outcome is unknown drops it too)."""
        for kind, key in self._account_keys():
            await self.cache.invalidate(kind, key)

    def _account_keys(self) -> list[tuple[Kind[Any], str]]:
        """(kind, key) of every shared account entry: the fills under each day's key."""
        keys: list[tuple[Kind[Any], str]] = []
        for kind in kinds.ACCOUNT:
            if self.cache.ttl(kind) > 0:
                names = sorted(self._fill_keys) if kind is kinds.FILLS else [ACCOUNT]
                keys += [(kind, name) for name in names]
        return keys
