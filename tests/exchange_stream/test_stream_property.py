"""The property: whatever orders are placed, canceled and crossed on the local exchange, a
client kept from the WebSocket feed agrees with REST, across dropped connections and lost
messages.

Each example lists two fresh markets and runs a random program of steps against the venue,
the way the exchange's members (``mm``, ``taker``) and the streaming account itself trade:

* after every step the client's :class:`LocalBook` of each market equals ``GET .../orderbook``;
* the client gets every ``user_order``, ``market_position`` and ``market_lifecycle_v2``
  change exactly once and in order: each equals what the venue did (its listener records
  the reference), the last order and position of each equal REST, and the lifecycle events
  are the ones the program caused;
* a ``drop`` step closes the socket server-side; the client reconnects and resubscribes
  (fresh snapshots, new sids) and nothing is missed or repeated;
* a ``lose`` step makes the feed lose one book delta; the client sees the ``seq`` gap on the
  next delta and asks for a fresh snapshot.

Real WebSocket connections to the real local server; the test waits on messages (the
``list_subscriptions`` barrier), never on time.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from typing import Any

import attrs
import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from kalshi_core.client import KalshiClient
from kalshi_core.client.stream import (
    KalshiStream,
    LifecycleUpdate,
    LocalBook,
    OrderbookDelta,
    OrderbookSnapshot,
    PositionUpdate,
    SequenceGap,
    StreamError,
    Update,
    UserOrderUpdate,
)
from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import Venue
from kalshi_core.exchange.changes import Change, Filled, OrderChanged, PositionChanged
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.gateway import OrderRequest
from kalshi_core.models import BookSide, MarketResult, MarketStatus, Order, TimeInForce
from kalshi_core.money import CENT, CONTRACT

from .conftest import MM, TAKER, MakeStream, make_market, order

_MARKETS = itertools.count(1)
_CLIENT_IDS = itertools.count(1)
GTC, IOC = TimeInForce.GOOD_TILL_CANCELED, TimeInForce.IMMEDIATE_OR_CANCEL

PLACE = st.tuples(
    st.just("place"),
    st.sampled_from(["dev", MM, TAKER]),
    st.integers(0, 1),  # which market
    st.sampled_from([BookSide.BID, BookSide.ASK]),
    st.integers(30, 70),  # price in cents
    st.integers(1, 4),  # contracts
    st.sampled_from([GTC, GTC, IOC]),
)
STEPS = st.one_of(
    PLACE,
    PLACE,
    PLACE,
    PLACE.map(lambda step: ("rest_place", *step[2:])),  # the streaming account, over HTTP
    st.tuples(st.just("cancel"), st.integers(0, 50)),
    st.tuples(st.just("cross"), st.integers(0, 50)),
    st.tuples(st.just("place_cancel"), st.integers(0, 1)),
    st.tuples(st.just("pause"), st.integers(0, 1)),
    st.tuples(st.just("drop")),
    st.tuples(st.just("lose")),
)


@attrs.define
class Reference:
    """What the venue did for the streaming account in this example's markets."""

    account: str
    tickers: tuple[str, ...]
    orders: list[Order] = attrs.field(factory=list)
    positions: list[tuple[str, int]] = attrs.field(factory=list)

    def __call__(self, change: Change) -> None:
        if isinstance(change, OrderChanged | Filled) and self._ours(change.order):
            self.orders.append(change.order)
        if isinstance(change, Filled) and self._ours(change.order):
            self.positions.append((change.position.ticker, change.position.position))
        settled = isinstance(change, PositionChanged) and change.account_id == self.account
        if settled and change.position.ticker in self.tickers:
            self.positions.append((change.position.ticker, change.position.position))

    def _ours(self, order: Order) -> bool:
        return order.user_id == self.account and order.ticker in self.tickers


@attrs.define
class Client:
    """A client of the feed: its books and everything it received, by kind."""

    stream: KalshiStream
    tickers: tuple[str, ...]
    books: dict[str, LocalBook] = attrs.field(factory=dict)
    book_sid: int = 0
    orders: list[Order] = attrs.field(factory=list)
    positions: list[tuple[str, int]] = attrs.field(factory=list)
    lifecycle: list[tuple[str, str]] = attrs.field(factory=list)
    gaps: int = 0
    reconnects: int = 0

    async def subscribe(self) -> None:
        await self.stream.subscribe("user_orders")
        await self.stream.subscribe("market_positions")
        await self.stream.subscribe("market_lifecycle_v2")

    async def watch_books(self) -> None:
        self.books = {t: LocalBook(t) for t in self.tickers}
        self.book_sid = await self.stream.subscribe("orderbook_delta", self.tickers)

    async def pump(self) -> None:
        """Apply everything the server sent before now; a gap asks for a fresh snapshot."""
        await self.stream.list_subscriptions()
        while True:
            try:
                updates = self.stream.drain()
            except SequenceGap as gap:
                lost = gap.sid  # only book deltas are ever lost here
                self.gaps += 1
                self._stale()
                await self.stream.update_subscription(lost, "get_snapshot")
                continue
            for update in updates:
                self.apply(update)
            return

    def _stale(self) -> None:
        for ticker in self.tickers:
            self.books[ticker] = LocalBook(ticker)  # not ready until its snapshot

    def apply(self, update: Update) -> None:
        if isinstance(update, OrderbookSnapshot | OrderbookDelta):
            book = self.books[update.market_ticker]
            if book.ready or isinstance(update, OrderbookSnapshot):
                book.apply(update)
        elif isinstance(update, UserOrderUpdate):
            self.orders.append(update.order)
        elif isinstance(update, PositionUpdate):
            self.positions.append((update.market_ticker, update.position))
        elif isinstance(update, LifecycleUpdate):
            self.lifecycle.append((update.market_ticker, update.event_type))

    async def reconnect_after_drop(self) -> None:
        """Read to the server's close, then connect and subscribe again."""
        with contextlib.suppress(StreamError):
            while True:
                self.apply(await self.stream.receive())
        sids = await self.stream.reconnect()
        self.book_sid = sids[self.book_sid]
        self.books = {t: LocalBook(t) for t in self.tickers}
        self.reconnects += 1


@attrs.define
class Program:
    """Runs one example's steps on the venue, remembering resting orders and what it caused."""

    exchange: LocalExchange
    rest: KalshiClient
    tickers: tuple[str, ...]
    resting: list[tuple[str, str]] = attrs.field(factory=list)
    lifecycle: list[tuple[str, str]] = attrs.field(factory=list)
    losses: int = 0

    @property
    def venue(self) -> Venue:
        return self.exchange.venue

    def account(self, name: str) -> str:
        return self.exchange.account_id if name == "dev" else name

    def place(self, who: str, market: int, side: BookSide, cents: int, n: int, tif: Any) -> None:
        request = order(side, cents * CENT, n, self.tickers[market], account=who, tif=tif)
        with contextlib.suppress(ExchangeError):  # a paused market, or too little money
            placed = self.venue.place_order(request)
            if placed.remaining_count:
                self.resting.append((who, placed.order_id))

    async def rest_place(self, market: int, side: BookSide, cents: int, n: int, tif: Any) -> None:
        request = OrderRequest(
            ticker=self.tickers[market],
            book_side=side,
            price=cents * CENT,
            count=n * CONTRACT,
            client_order_id=f"prop-{next(_CLIENT_IDS)}",
            time_in_force=tif,
        )
        with contextlib.suppress(ExchangeError):  # a paused market, or too little money
            ack = await self.rest.create_order(request)
            if ack.remaining_count:
                self.resting.append((self.exchange.account_id, ack.order_id))

    async def cancel(self, index: int) -> None:
        """Cancel a resting order: the streaming account's over HTTP, the others' directly."""
        if self.resting:
            who, order_id = self.resting.pop(index % len(self.resting))
            with contextlib.suppress(ExchangeError):  # it may have filled meanwhile
                if who == self.exchange.account_id:
                    await self.rest.cancel_order(order_id)
                else:
                    self.venue.cancel(who, order_id)

    def cross(self, index: int) -> None:
        """Another member takes a resting order at its price with an IOC."""
        if not self.resting:
            return
        who, order_id = self.resting[index % len(self.resting)]
        state = self.venue.order_state(order_id)
        other = TAKER if who != TAKER else MM
        side = BookSide.ASK if state.side is BookSide.BID else BookSide.BID
        count = max(1, state.remaining // 100)
        with contextlib.suppress(ExchangeError):
            request = order(side, state.price, count, state.ticker, account=other, tif=IOC)
            self.venue.place_order(request)

    def place_cancel(self, market: int) -> None:
        """An order placed and canceled at once: two deltas, never none."""
        with contextlib.suppress(ExchangeError):  # a paused market
            placed = self.venue.place_order(
                order(BookSide.BID, 20 * CENT, 2, self.tickers[market], account=MM)
            )
            self.venue.cancel(MM, placed.order_id)

    def lose(self) -> None:
        """The feed loses the delta of a placement; the cancel's delta shows the gap."""
        for market, ticker in enumerate(self.tickers):
            if self.venue.market(ticker).status is MarketStatus.ACTIVE:
                self.exchange.app.feed.lose_messages(1)
                self.place_cancel(market)
                self.losses += 1
                return

    def pause(self, market: int) -> None:
        ticker = self.tickers[market]
        active = self.venue.market(ticker).status is MarketStatus.ACTIVE
        self.venue.set_status(ticker, MarketStatus.INACTIVE if active else MarketStatus.ACTIVE)
        self.lifecycle.append((ticker, "deactivated" if active else "activated"))

    def settle(self) -> None:
        """The end of an example: both markets determined (closing early) and settled."""
        for ticker, result in zip(self.tickers, (MarketResult.YES, MarketResult.NO), strict=True):
            self.venue.determine(ticker, result)
            self.venue.finalize(ticker)
            self.lifecycle += [
                (ticker, "close_date_updated"),
                (ticker, "determined"),
                (ticker, "settled"),
            ]


async def run_step(program: Program, client: Client, step: tuple[Any, ...]) -> None:
    kind, *args = step
    if kind == "place":
        who, market, side, cents, count, tif = args
        program.place(program.account(who), market, side, cents, count, tif)
    elif kind == "rest_place":
        await program.rest_place(*args)
    elif kind == "cancel":
        await program.cancel(*args)
    elif kind == "drop":
        program.exchange.app.feed.drop_connections()
        await client.reconnect_after_drop()
    else:
        getattr(program, kind)(*args)


async def assert_books_equal_rest(client: Client, rest: KalshiClient) -> None:
    for ticker, book in client.books.items():
        assert book.ready, ticker
        assert book.orderbook() == await rest.get_orderbook(ticker), ticker


async def assert_latest_equal_rest(client: Client, rest: KalshiClient) -> None:
    latest = {o.order_id: o for o in client.orders}
    for order_id, seen in latest.items():
        now = await rest.get_order(order_id)
        assert (seen.status, seen.fill_count, seen.remaining_count) == (
            now.status,
            now.fill_count,
            now.remaining_count,
        )
    for ticker, held in dict(client.positions).items():
        (position,) = (await rest.get_positions(ticker=ticker)).items
        assert held == position.position, ticker


async def check_program(
    exchange: LocalExchange, make_stream: MakeStream, rest: KalshiClient, steps: list[Any]
) -> Client:
    """Run ``steps`` on two fresh markets and check the property; returns the client."""
    venue = exchange.venue
    number = next(_MARKETS)
    tickers = (f"KXPROP-26MAR01-A{number}", f"KXPROP-26MAR01-B{number}")
    reference = Reference(exchange.account_id, tickers)
    venue.listeners.append(reference)
    try:
        async with make_stream() as stream:
            watcher = Client(stream, tickers)
            await watcher.subscribe()
            for ticker in tickers:
                venue.list_market(make_market(ticker))
            await watcher.watch_books()
            created = [(t, "created") for t in tickers]
            program = Program(exchange, rest, tickers, lifecycle=created)
            await watcher.pump()
            for step in steps:
                await run_step(program, watcher, step)
                await watcher.pump()
                await assert_books_equal_rest(watcher, rest)
            await assert_latest_equal_rest(watcher, rest)
            program.settle()
            await watcher.pump()
    finally:
        venue.listeners.remove(reference)
    assert watcher.orders == reference.orders
    assert watcher.positions == reference.positions
    assert watcher.lifecycle == program.lifecycle
    assert watcher.gaps == program.losses
    assert watcher.reconnects == sum(step[0] == "drop" for step in steps)
    return watcher


@settings(
    max_examples=int(os.environ.get("STREAM_EXAMPLES", "25")),  # more for a longer search
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(steps=st.lists(STEPS, min_size=1, max_size=14))
async def test_the_feed_agrees_with_rest_for_any_program(
    exchange: LocalExchange, make_stream: MakeStream, client: KalshiClient, steps: list[Any]
) -> None:
    await check_program(exchange, make_stream, client, steps)


async def test_a_program_that_trades_drops_and_loses_is_not_vacuous(
    exchange: LocalExchange, make_stream: MakeStream, client: KalshiClient
) -> None:
    steps: list[Any] = [
        ("place", "dev", 0, BookSide.BID, 50, 3, GTC),  # rests
        ("cross", 0),  # the taker sells into it: fills and a position
        ("drop",),
        ("place", "dev", 1, BookSide.ASK, 60, 2, GTC),
        ("lose",),
        ("place", MM, 1, BookSide.BID, 60, 1, IOC),  # takes part of our ask
        ("cancel", 0),
        ("rest_place", 0, BookSide.BID, 35, 1, GTC),  # over HTTP; the close cancels it
        ("pause", 1),
    ]
    watcher = await check_program(exchange, make_stream, client, steps)
    statuses = [o.status.value for o in watcher.orders]
    assert statuses.count("canceled") == 2
    assert "executed" in statuses
    assert [p for _, p in watcher.positions][-2:] == [0, 0]  # both settled flat
    assert len(watcher.positions) >= 4  # two fills, two settlements
    assert (watcher.gaps, watcher.reconnects) == (1, 1)
