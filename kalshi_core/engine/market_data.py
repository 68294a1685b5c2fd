"""Market data on one interface, polled or streamed (ARCHITECTURE §4).

Strategies and validators read a market's book from ``context.orderbook`` whichever way it
came. :class:`MarketData` answers from a live stream (a :class:`MarketFeed`, the ``kalshi-ws``
data source) when it has the book, and over REST otherwise; when the stream goes down it falls
back to polling, and back again when it returns, with a log line and a
``market_data_switched`` signal (the ``kalshi_market_data_switches_total`` metric) for each
switch. Own fills and order changes are reconciled over REST every cycle either way; a
streamed fill or order state REST still disagrees with after ``GRACE_CYCLES`` cycles is logged
and counted (``unconfirmed_fills``, ``unconfirmed_orders``).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from typing import Protocol

import attrs

from kalshi_core import signals
from kalshi_core.gateway import Gateway
from kalshi_core.models import Market, Order, OrderBook, OrderStatus
from kalshi_core.money import DOLLAR

log = logging.getLogger(__name__)

POLL, STREAM = "poll", "stream"
GRACE_CYCLES = 2  # cycles a streamed fill or order state may wait for REST before it is reported


def with_book_quote(market: Market, book: OrderBook) -> Market:
    """``market`` quoted at its book's top (what the exchange's listing derives it from)."""
    bid, no_bid = book.best_yes_bid, book.best_no_bid
    yes_bid = bid.price if bid else 0
    yes_ask = DOLLAR - no_bid.price if no_bid else DOLLAR
    return attrs.evolve(
        market,
        yes_bid=yes_bid,
        yes_bid_size=bid.count if bid else 0,
        yes_ask=yes_ask,
        yes_ask_size=no_bid.count if no_bid else 0,
        no_bid=DOLLAR - yes_ask if no_bid else 0,
        no_ask=DOLLAR - yes_bid if bid else DOLLAR,
    )


class FeedChanges(Protocol):
    @property
    def moved(self) -> frozenset[str]:
        """Markets whose book changed."""

    @property
    def fill_ids(self) -> frozenset[str]:
        """Our own fills the feed reported."""

    @property
    def orders(self) -> tuple[Order, ...]:
        """Our orders as the feed's latest ``user_order`` of each left them."""


@attrs.define
class Unconfirmed:
    """Stream reports waiting for REST to agree, by key: one that REST has not confirmed
    after ``GRACE_CYCLES`` cycles (reactions between cycles do not count) expires."""

    waiting: dict[str, int] = attrs.field(factory=dict)

    def expect(self, key: str) -> None:
        self.waiting.setdefault(key, 0)

    def confirm(self, key: str) -> None:
        self.waiting.pop(key, None)

    def age(self) -> list[str]:
        """One cycle passed: the keys whose grace is over (no longer waited for)."""
        expired = []
        for key in sorted(self.waiting):
            self.waiting[key] += 1
            if self.waiting[key] >= GRACE_CYCLES:
                del self.waiting[key]
                expired.append(key)
        return expired


class MarketFeed(Protocol):
    """A streamed view of the venue's books (``kalshi_core.client.stream_feed``)."""

    @property
    def live(self) -> bool:
        """Connected and subscribed: its books can be trusted."""

    async def watch(self, tickers: Collection[str]) -> None:
        """Stream exactly these markets from now on."""

    async def catch_up(self) -> FeedChanges:
        """Apply everything the venue sent up to now."""

    def book(self, ticker: str) -> OrderBook | None:
        """The streamed book, or None when the stream has no trustworthy one."""

    async def wait_update(self, seconds: float) -> bool:
        """Until an update arrives (True) or ``seconds`` pass (False)."""


@attrs.define
class MarketData:
    """The engine's market data: REST polls only (``feed`` None), or the stream with polling
    as its fallback. Counts how each book was served (``polled`` / ``streamed``)."""

    gateway: Gateway
    feed: MarketFeed | None = None
    streaming: bool = False
    switches: int = 0
    polled: int = 0
    streamed: int = 0
    unconfirmed_fills: int = 0  # streamed fills REST never showed within the grace cycles
    unconfirmed_orders: int = 0  # streamed order states REST disagreed with past the grace
    _fills: Unconfirmed = attrs.field(factory=Unconfirmed)
    _confirmed: set[str] = attrs.field(factory=set)
    _orders: dict[str, Order] = attrs.field(factory=dict)  # streamed, not yet agreed by REST
    _order_waits: Unconfirmed = attrs.field(factory=Unconfirmed)

    @property
    def mode(self) -> str:
        return STREAM if self.streaming else POLL

    async def orderbook(self, ticker: str) -> OrderBook:
        """The market's book: the stream's when it has it, else one REST read."""
        if self.streaming and self.feed is not None:
            book = self.feed.book(ticker)
            if book is not None:
                self.streamed += 1
                return book
        self.polled += 1
        return await self.gateway.orderbook(ticker)

    def quoted(self, markets: Iterable[Market]) -> list[Market]:
        """``markets`` with the stream's top of book as their quote where it has one (the
        listing's own quote otherwise, and always while polling)."""
        if not self.streaming or self.feed is None:
            return list(markets)
        out = []
        for market in markets:
            book = self.feed.book(market.ticker)
            out.append(market if book is None else with_book_quote(market, book))
        return out

    async def refresh(self, tickers: Collection[str]) -> frozenset[str]:
        """Stream ``tickers`` and apply what arrived; the markets that moved (none polled)."""
        if self.feed is None:
            return frozenset()
        await self.feed.watch(tickers)
        changes = await self.feed.catch_up()
        for fill_id in changes.fill_ids - self._confirmed:
            self._fills.expect(fill_id)
        for order in changes.orders:
            self._orders[order.order_id] = order
            self._order_waits.expect(order.order_id)
        self._follow(self.feed.live)
        return changes.moved if self.streaming else frozenset()

    def confirm_fills(self, reconciled: Iterable[str], *, cycle: bool = True) -> list[str]:
        """After a REST reconciliation (the record of fills): the streamed fills it confirmed
        are settled; one still unseen after ``GRACE_CYCLES`` cycles is logged, counted and
        returned."""
        self._confirmed.update(reconciled)
        for fill_id in sorted(self._confirmed & self._fills.waiting.keys()):
            self._fills.confirm(fill_id)
        missing = self._fills.age() if cycle else []
        if missing:
            self.unconfirmed_fills += len(missing)
            log.warning(
                "market data: the stream reported fills REST does not show after %d cycles: %s",
                GRACE_CYCLES,
                ", ".join(missing),
            )
        return missing

    def confirm_orders(self, resting: Iterable[Order], *, cycle: bool = True) -> list[str]:
        """After REST's read of our resting orders: a streamed order state REST agrees with
        (resting on both, or off the book on both) is settled; one REST still contradicts
        after ``GRACE_CYCLES`` cycles is logged, counted and returned."""
        on_book = {order.order_id for order in resting}
        for order_id, order in sorted(self._orders.items()):
            if (order.status is OrderStatus.RESTING) == (order_id in on_book):
                self._order_waits.confirm(order_id)
        stale = self._order_waits.age() if cycle else []
        for order_id in [o for o in self._orders if o not in self._order_waits.waiting]:
            del self._orders[order_id]
        if stale:
            self.unconfirmed_orders += len(stale)
            log.warning(
                "market data: the stream's order states disagree with REST after %d cycles: %s",
                GRACE_CYCLES,
                ", ".join(stale),
            )
        return stale

    async def wait_update(self, seconds: float) -> bool:
        """Until the stream brings something (False at once when polling)."""
        if self.feed is None or not self.streaming:
            return False
        return await self.feed.wait_update(seconds)

    def _follow(self, live: bool) -> None:
        if live == self.streaming:
            return
        self.streaming = live
        self.switches += 1
        if live:
            log.info("market data: the stream is live; books come from it")
            reason = "the stream is live"
        else:
            log.warning("market data: the stream is down; polling over REST until it is back")
            reason = "the stream is down"
        signals.market_data_switched.send(self, mode=self.mode, reason=reason)
