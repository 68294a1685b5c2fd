"""A market-data stream the engine can lean on: one :class:`KalshiStream` kept alive.

:class:`StreamingSource` owns one WebSocket connection and a *set* of watched markets
(:meth:`StreamingSource.watch`). Each market gets its own ``orderbook_delta`` subscription, so a
gap in a ``seq`` names exactly one market, whose book is then resynced from a fresh snapshot
(``update_subscription`` / ``get_snapshot``); ``trade``, ``fill`` and ``user_orders`` share one
subscription each.

* **Reconnects**: a dropped connection (or a heartbeat that goes unanswered) marks every book
  stale; the source reconnects after an exponential backoff with full jitter (a seeded RNG and
  an injectable sleep, so tests do not wait) and subscribes to every watched market again.
* **Back-pressure**: a pump task reads the connection (it never waits for the consumer) into a
  bounded queue. When the queue is full the update is dropped, counted and logged, and its
  market marked stale: nothing is applied on top of a book that missed a delta, and a snapshot
  is asked for once the consumer has made room. Never silent loss.
* **Heartbeats**: every ``heartbeat_seconds`` a ``list_subscriptions`` command must be answered
  within ``reply_timeout``; one that is not closes the connection (and so reconnects).

The consumer (the engine) calls :meth:`drain` to apply what arrived, or :meth:`catch_up` to
apply everything the exchange sent up to now (a command's reply follows every data message
queued before it); :meth:`book` gives a market's book, or ``None`` while it is stale.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Collection, Iterable
from typing import Any

import attrs

from kalshi_core.client.auth import Signer
from kalshi_core.client.stream import (
    FillUpdate,
    KalshiStream,
    LocalBook,
    OrderbookDelta,
    OrderbookSnapshot,
    SequenceGap,
    StreamError,
    TradeUpdate,
    Update,
    UserOrderUpdate,
)
from kalshi_core.errors import ExchangeError, WireFormatError
from kalshi_core.models import Order, OrderBook

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
SHARED_CHANNELS = ("trade", "fill", "user_orders")  # one subscription each, for every market
CATCH_UP_ROUNDS = 5  # barrier + drain + resync rounds one catch_up makes at most


@attrs.frozen
class Backoff:
    """Exponential backoff with full jitter: attempt ``n`` waits ``U(0, min(cap, base·f^n))``."""

    base: float = 0.5
    factor: float = 2.0
    cap: float = 30.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0.0, min(self.cap, self.base * self.factor**attempt))


@attrs.define
class FeedStats:
    """What the source did; every dropped message is counted here (and logged)."""

    connects: int = 0
    disconnects: int = 0
    failed_connects: int = 0
    heartbeat_failures: int = 0
    gaps: int = 0
    overflows: int = 0  # updates dropped because the bounded queue was full
    superseded: int = 0  # deltas of a stale book skipped: the snapshot asked for covers them
    resyncs: int = 0  # snapshots asked for (after a gap, an overflow or a bad delta)
    bad_messages: int = 0
    applied: int = 0


@attrs.frozen
class FeedChanges:
    """What one :meth:`StreamingSource.catch_up` applied."""

    moved: frozenset[str] = frozenset()  # markets whose book changed
    trades: tuple[TradeUpdate, ...] = ()
    fills: tuple[FillUpdate, ...] = ()
    orders: tuple[Order, ...] = ()  # our orders as the last ``user_order`` of each left them

    @property
    def fill_ids(self) -> frozenset[str]:
        """Our fills the feed reported (REST reconciliation confirms each)."""
        return frozenset(fill.trade_id for fill in self.fills)


class _Connection(KalshiStream):
    """The stream plus a count of data messages received and not yet read (for barriers)."""

    def queued(self) -> int:
        return self._updates.qsize()


class StreamingSource:
    """See the module docstring. Use as ``async with`` (or :meth:`start` / :meth:`close`)."""

    def __init__(
        self,
        url: str,
        signer: Signer,
        *,
        allow_remote: bool = False,
        queue_size: int = 10_000,
        heartbeat_seconds: float = 15.0,
        reply_timeout: float = 5.0,
        backoff: Backoff | None = None,
        seed: int = 0,
        sleep: Sleep = asyncio.sleep,
        tick: Callable[[], None] | None = None,
    ) -> None:
        self.url, self._signer, self._allow_remote = url, signer, allow_remote
        self.heartbeat_seconds, self.reply_timeout = heartbeat_seconds, reply_timeout
        self.backoff = backoff or Backoff()
        self._rng = random.Random(seed)
        self._sleep, self._tick = sleep, tick
        self.queue: asyncio.Queue[Update] = asyncio.Queue(queue_size)
        self.stats = FeedStats()
        self.markets: set[str] = set()
        self.stale: set[str] = set()
        self.books: dict[str, LocalBook] = {}
        self._book_sid: dict[str, int] = {}
        self._shared_sid: dict[str, int] = {}  # trade / fill -> sid
        self._resyncing: set[str] = set()
        self._stream: _Connection | None = None
        self._lock = asyncio.Lock()
        self._live = asyncio.Event()
        self._arrived = asyncio.Event()  # set by the pump after each update it handled
        self._runner: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False
        self._trades: list[TradeUpdate] = []
        self._fills: list[FillUpdate] = []
        self._orders: dict[str, Order] = {}  # order id -> its state after the latest change

    def __repr__(self) -> str:
        return f"StreamingSource(url={self.url!r}, markets={len(self.markets)})"

    async def __aenter__(self) -> StreamingSource:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def live(self) -> bool:
        """Connected, subscribed, and the connection not known to be lost."""
        return self._live.is_set()

    def start(self) -> None:
        if self._runner is None:
            self._runner = asyncio.create_task(self._run())

    async def close(self) -> None:
        self._closing = True
        self._live.clear()
        if self._stream is not None:
            await self._stream.close()
        for task in [*self._tasks, *([self._runner] if self._runner else [])]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def wait_live(self, seconds: float) -> bool:
        """Until the source is connected and subscribed (False after ``seconds``)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._live.wait(), seconds)
        return self.live

    # ---- the watched set ----

    async def watch(self, tickers: Collection[str]) -> None:
        """Watch exactly ``tickers`` from now on (subscribe the new, unsubscribe the gone)."""
        wanted = set(tickers)
        added, gone = sorted(wanted - self.markets), sorted(self.markets - wanted)
        self.markets = wanted
        for ticker in gone:
            self.books.pop(ticker, None)
            self.stale.discard(ticker)
        self.stale.update(added)
        stream = self._stream
        if stream is None or not (added or gone):
            return
        try:
            async with self._lock:
                await self._unsubscribe(stream, gone)
                await self._subscribe(stream, added)
        except (StreamError, ExchangeError, TimeoutError) as error:
            log.warning("stream: changing subscriptions failed (%s); reconnecting", error)
            await stream.close()

    async def _subscribe(self, stream: _Connection, tickers: Iterable[str]) -> None:
        tickers = list(tickers)
        for ticker in tickers:
            self._book_sid[ticker] = await stream.subscribe("orderbook_delta", [ticker])
        if not tickers:
            return
        for channel in SHARED_CHANNELS:
            sid = self._shared_sid.get(channel)
            if sid is None:
                self._shared_sid[channel] = await stream.subscribe(channel, tickers)
            else:
                await stream.update_subscription(sid, "add_markets", tickers)

    async def _unsubscribe(self, stream: _Connection, tickers: list[str]) -> None:
        sids = [self._book_sid.pop(t) for t in tickers if t in self._book_sid]
        if sids:
            await stream.unsubscribe(*sids)
        for channel in SHARED_CHANNELS:
            sid = self._shared_sid.get(channel)
            if sid is not None and tickers:
                await stream.update_subscription(sid, "delete_markets", tickers)

    # ---- the connection ----

    async def _run(self) -> None:
        attempt = 0
        while not self._closing:
            stream = await self._open()
            if stream is None:
                self.stats.failed_connects += 1
            else:
                attempt = 0
                await self._serve(stream)
            if not self.closing:
                await self._sleep(self.backoff.delay(attempt, self._rng))
                attempt += 1

    @property
    def closing(self) -> bool:
        return self._closing

    async def _open(self) -> _Connection | None:
        stream = _Connection(
            self.url,
            self._signer,
            allow_remote=self._allow_remote,
            reply_timeout=self.reply_timeout,
        )
        try:
            async with self._lock:
                await stream.connect()
                self._stream, self._book_sid, self._shared_sid = stream, {}, {}
                self.stale.update(self.markets)
                await self._subscribe(stream, sorted(self.markets))
        except (StreamError, ExchangeError, TimeoutError, OSError) as error:
            log.warning("stream: cannot connect to %s (%s)", self.url, error)
            await stream.close()
            self._stream = None
            return None
        self.stats.connects += 1
        if self.stats.connects > 1:
            log.info(
                "stream: reconnected to %s, %d markets resubscribed", self.url, len(self.markets)
            )
        self._live.set()
        return stream

    async def _serve(self, stream: _Connection) -> None:
        beat = asyncio.create_task(self._heartbeat(stream))
        try:
            await self._pump(stream)
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
            self._live.clear()
            self._stream = None
            self._resyncing.clear()
            self.stale.update(self.markets)
            self._arrived.set()
            if not self._closing:
                self.stats.disconnects += 1
                log.warning(
                    "stream: connection lost (%s); books stale until it is back",
                    stream.close_reason or "closed",
                )

    async def _heartbeat(self, stream: _Connection) -> None:
        if self.heartbeat_seconds <= 0:
            return
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                await stream.command("list_subscriptions")
            except (StreamError, TimeoutError) as error:
                self.stats.heartbeat_failures += 1
                log.warning("stream: heartbeat unanswered (%s); reconnecting", error or "timeout")
                await stream.close()
                return

    async def _pump(self, stream: _Connection) -> None:
        """Read the connection into the bounded queue; never waits for the consumer."""
        while True:
            try:
                update = await stream.receive()
            except SequenceGap as gap:
                self._on_gap(gap)
            except WireFormatError as error:
                self.stats.bad_messages += 1
                log.warning("stream: unreadable message dropped (%s)", error)
            except StreamError:
                return
            else:
                self._offer(update)
            self._arrived.set()

    # ---- back-pressure, gaps and resyncs ----

    def _on_gap(self, gap: SequenceGap) -> None:
        self.stats.gaps += 1
        ticker = next((t for t, sid in self._book_sid.items() if sid == gap.sid), None)
        if ticker is None:  # a shared channel: trades or fills between were lost
            log.warning("stream: %s; messages of that channel were lost", gap)
            self._offer(gap.update)
            return
        log.warning("stream: %s on %s; asking for a fresh snapshot", gap, ticker)
        self._mark_stale(ticker)

    def _offer(self, update: Update) -> None:
        ticker = getattr(update, "market_ticker", None)
        if isinstance(update, OrderbookSnapshot | OrderbookDelta):
            if isinstance(update, OrderbookSnapshot) and ticker in self.markets:
                self._book_sid.setdefault(ticker, update.sid)  # ahead of subscribe's return
            if ticker not in self._book_sid or self._book_sid[ticker] != update.sid:
                return  # a market no longer watched
            if isinstance(update, OrderbookDelta) and ticker in self.stale:
                self.stats.superseded += 1
                return
        try:
            self.queue.put_nowait(update)
        except asyncio.QueueFull:
            self._overflow(update, ticker)
            return
        if isinstance(update, OrderbookSnapshot):
            self.stale.discard(update.market_ticker)
            self._resyncing.discard(update.market_ticker)

    def _overflow(self, update: Update, ticker: str | None) -> None:
        self.stats.overflows += 1
        what = type(update).__name__
        if isinstance(update, OrderbookSnapshot | OrderbookDelta) and ticker is not None:
            if ticker not in self.stale:
                log.warning(
                    "stream: queue full, %s dropped; %s resyncs from a snapshot", what, ticker
                )
            self.stale.add(ticker)
            self._resyncing.discard(ticker)
            return
        log.warning(
            "stream: queue full, %s of %s dropped (fills are reconciled over REST)", what, ticker
        )

    def _mark_stale(self, ticker: str) -> None:
        self.stale.add(ticker)
        if self.queue.qsize() < self.queue.maxsize // 2 or self.queue.maxsize <= 0:
            self._spawn(self._resync(ticker))

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resync(self, ticker: str) -> None:
        stream, sid = self._stream, self._book_sid.get(ticker)
        if stream is None or sid is None or ticker in self._resyncing:
            return
        self._resyncing.add(ticker)
        self.stats.resyncs += 1
        try:
            await stream.update_subscription(sid, "get_snapshot")
        except (StreamError, TimeoutError) as error:
            self._resyncing.discard(ticker)
            log.warning("stream: snapshot of %s not sent (%s)", ticker, error)

    # ---- the consumer's side ----

    def drain(self) -> frozenset[str]:
        """Apply every queued update; return the markets whose book changed. Markets left
        stale get their snapshot asked for (the queue has room again)."""
        moved: set[str] = set()
        while True:
            try:
                update = self.queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            self._apply(update, moved)
        for ticker in sorted(self.stale & self._book_sid.keys()):
            self._spawn(self._resync(ticker))
        return frozenset(moved)

    def _apply(self, update: Update, moved: set[str]) -> None:
        self.stats.applied += 1
        if isinstance(update, TradeUpdate):
            self._trades.append(update)
        elif isinstance(update, FillUpdate):
            self._fills.append(update)
        elif isinstance(update, UserOrderUpdate):
            self._orders[update.order.order_id] = update.order
        elif isinstance(update, OrderbookSnapshot | OrderbookDelta):
            ticker = update.market_ticker
            book = self.books.setdefault(ticker, LocalBook(ticker))
            try:
                book.apply(update)
            except StreamError as error:
                log.warning("stream: %s; resyncing", error)
                self.books[ticker] = LocalBook(ticker)
                self.stale.add(ticker)
                return
            moved.add(ticker)

    def book(self, ticker: str) -> OrderBook | None:
        """The streamed book of ``ticker``, or None (not watched, not yet snapshotted, stale,
        or the connection is down)."""
        book = self.books.get(ticker)
        if not self.live or ticker in self.stale or book is None or not book.ready:
            return None
        return book.orderbook()

    async def catch_up(self) -> FeedChanges:
        """Apply everything the exchange has sent up to now (a stepped in-process exchange is
        ticked first), resyncing stale books; what changed since the last call."""
        if self._tick is not None:
            self._tick()
        moved: set[str] = set()
        for _ in range(CATCH_UP_ROUNDS):
            stream = self._stream
            if stream is None or not self.live:
                break
            try:
                await self._barrier(stream)
            except (StreamError, TimeoutError):
                break
            moved |= self.drain()
            if not self.stale & self.markets:
                break
            await self._settle_resyncs()
        trades, fills, self._trades, self._fills = self._trades, self._fills, [], []
        orders, self._orders = self._orders, {}
        return FeedChanges(frozenset(moved), tuple(trades), tuple(fills), tuple(orders.values()))

    async def _settle_resyncs(self) -> None:
        """Ask for every stale watched book's snapshot and wait for the replies (the snapshot
        follows its reply, so the next barrier brings it in)."""
        for ticker in sorted(self.stale & self.markets):
            self._spawn(self._resync(ticker))
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _barrier(self, stream: _Connection) -> None:
        """Until every data message sent before now has been through the pump."""
        await stream.command("list_subscriptions")
        while stream.queued() and self._stream is stream:
            self._arrived.clear()
            await asyncio.wait_for(self._arrived.wait(), self.reply_timeout)

    async def flushed(self) -> None:
        """Until every message the exchange sent before now is in the queue (or dropped),
        without applying any: the consumer's view stays where it was."""
        stream = self._stream
        if stream is not None and self.live:
            await self._barrier(stream)

    async def wait_update(self, seconds: float) -> bool:
        """Until an update is queued (True), or ``seconds`` pass (False)."""
        if not self.queue.empty():
            return True
        self._arrived.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._arrived.wait(), seconds)
        return not self.queue.empty()
