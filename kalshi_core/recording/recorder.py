"""The recorder: subscribes to the feed for some markets and writes what it hears to disk.

One :class:`Recorder` owns one connection at a time. Each connection starts by writing every
market's REST listing (its status), then subscribes to ``orderbook_delta`` and ``trade`` (and
``market_lifecycle_v2`` where the exchange has it) and writes each snapshot, delta, print and
lifecycle message as a record of :mod:`kalshi_core.recording.format`. A dropped connection is
written as a ``gap`` record for every market, then the recorder reconnects with exponential
backoff and jitter, resubscribes and so starts each book again from a fresh snapshot. A skipped
sequence number is a ``gap`` for its market, followed by a snapshot asked for at once.

Records carry the exchange's time: a message's own ``ts_ms`` where it has one, else the last
exchange time heard (at connection, the local exchange's published clock, else ``clock``).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from kalshi_core.client import KalshiClient
from kalshi_core.client.stream import (
    KalshiStream,
    OrderbookDelta,
    OrderbookSnapshot,
    OtherUpdate,
    SequenceGap,
    StreamError,
    TradeUpdate,
    Update,
)
from kalshi_core.clock import Clock
from kalshi_core.errors import ConfigError, ExchangeError
from kalshi_core.models import Market, PriceLevel, Trade
from kalshi_core.recording.format import (
    Record,
    RecordingWriter,
    from_ms,
    levels_json,
    market_line,
    to_ms,
    trade_line,
)

__all__ = ["Backoff", "RecordStats", "Recorder", "StopRule", "resolve_tickers"]

log = logging.getLogger(__name__)

LIFECYCLE_CHANNEL = "market_lifecycle_v2"
_UNKNOWN_CHANNEL = 8
_SYNC_EVERY = 256  # records between fsyncs within a burst
_TICKERS_PER_PAGE = 100


@attrs.frozen(kw_only=True)
class Backoff:
    """Reconnect delays: ``base * 2**attempt`` capped at ``cap``, times a jitter in [0.5, 1]."""

    base: float = 0.5
    cap: float = 30.0
    attempts: int = 0  # 0: retry for ever

    def delay(self, attempt: int, rng: random.Random) -> float:
        delay: float = min(self.cap, self.base * 2.0**attempt)
        return delay * rng.uniform(0.5, 1.0)


@attrs.frozen(kw_only=True)
class StopRule:
    """When recording ends by itself: after ``messages`` data messages (0: never)."""

    messages: int = 0


@attrs.define
class RecordStats:
    """What was recorded, per market, and the files written."""

    snapshots: Counter[str] = attrs.field(factory=Counter)
    deltas: Counter[str] = attrs.field(factory=Counter)
    trades: Counter[str] = attrs.field(factory=Counter)
    gaps: Counter[str] = attrs.field(factory=Counter)
    lifecycle: Counter[str] = attrs.field(factory=Counter)
    messages: int = 0
    connections: int = 0


async def resolve_tickers(
    client: KalshiClient,
    *,
    markets: Sequence[str] = (),
    series: Sequence[str] = (),
    categories: Sequence[str] = (),
) -> list[str]:
    """The tickers to record: ``markets`` as given, plus every open or upcoming market of
    ``series`` and of the series in ``categories`` (by REST listing)."""
    found = list(markets)
    for series_ticker in series:
        found += [
            m.ticker
            async for m in client.iter_markets(series_ticker=series_ticker)
            if _recordable(m)
        ]
    if categories:
        found += await _by_category(client, {c.lower() for c in categories})
    return list(dict.fromkeys(found))


def _recordable(market: Market) -> bool:
    return market.status.value in ("initialized", "inactive", "active")


async def _by_category(client: KalshiClient, wanted: set[str]) -> list[str]:
    by_series: dict[str, list[str]] = {}
    async for market in client.iter_markets():
        if _recordable(market):
            by_series.setdefault(market.series_ticker, []).append(market.ticker)
    found: list[str] = []
    for series_ticker, tickers in by_series.items():
        series = await client.get_series(series_ticker)
        if series.category.lower() in wanted:
            found += tickers
    return found


class Recorder:
    """See the module docstring. ``connect()`` returns a new, unopened :class:`KalshiStream`."""

    def __init__(
        self,
        *,
        client: KalshiClient,
        connect: Callable[[], KalshiStream],
        tickers: Sequence[str],
        writer: RecordingWriter,
        clock: Clock,
        backoff: Backoff | None = None,
        stop: StopRule | None = None,
        seed: int = 0,
    ) -> None:
        if not tickers:
            raise ConfigError("nothing to record: no market matched")
        self.client = client
        self.tickers = list(tickers)
        self.writer = writer
        self.stats = RecordStats()
        self._connect = connect
        self._clock = clock
        self._backoff = backoff or Backoff()
        self._stop = stop or StopRule()
        self._rng = random.Random(seed)
        self._last_ms = 0
        self._unsynced = 0
        self._stream: KalshiStream | None = None
        self._idle = asyncio.Event()  # set while the recorder waits for the next message
        self._lifecycle = True
        self._book_sids: set[int] = set()
        self._resyncing: set[str] = set()
        self.connected = asyncio.Condition()

    # ---- the loop ----

    async def run(self) -> RecordStats:
        """Record until the stop rule says so (or the task is cancelled); always closes the
        files. A failure to reconnect after ``backoff.attempts`` tries is raised."""
        attempt = 0
        try:
            while not self._done():
                started = self.stats.connections
                reason = await self._connection()
                if self._done():
                    break
                subscribed = self.stats.connections > started
                if subscribed:  # a connection that never subscribed has recorded nothing
                    self._gap(self.tickers, reason)
                attempt = 0 if subscribed else attempt + 1
                if self._backoff.attempts and attempt > self._backoff.attempts:
                    raise StreamError(f"gave up reconnecting after {attempt - 1} tries: {reason}")
                await asyncio.sleep(self._backoff.delay(attempt, self._rng))
        finally:
            self.writer.close()
        return self.stats

    def _done(self) -> bool:
        limit = self._stop.messages
        return bool(limit) and self.stats.messages >= limit

    async def _connection(self) -> str:
        """One connection's life; returns why it ended."""
        stream = self._connect()
        try:
            async with stream:
                await self._start(stream)
                await self._listen(stream)
        except (StreamError, ExchangeError, OSError) as exc:
            if _refused(exc):
                raise
            return f"{type(exc).__name__}: {exc}"
        finally:
            self._stream = None
            self.writer.sync()
        return "stopped"

    async def _start(self, stream: KalshiStream) -> None:
        await self._note_exchange_time()
        await self._write_markets()
        self._resyncing.clear()
        self._book_sids = {await stream.subscribe("orderbook_delta", self.tickers)}
        await stream.subscribe("trade", self.tickers)
        await self._subscribe_lifecycle(stream)
        self._stream = stream
        self.writer.sync()
        async with self.connected:
            self.stats.connections += 1
            self.connected.notify_all()

    async def _write_markets(self) -> None:
        """Every market's listing and status, in pages of ``GET /markets?tickers=``."""
        found: dict[str, Market] = {}
        for start in range(0, len(self.tickers), _TICKERS_PER_PAGE):
            chunk = self.tickers[start : start + _TICKERS_PER_PAGE]
            async for market in self.client.iter_markets(tickers=chunk):
                found[market.ticker] = market
        missing = [t for t in self.tickers if t not in found]
        if missing:
            raise ConfigError(f"cannot record markets the exchange does not list: {missing}")
        for ticker in self.tickers:
            self._write(market_line(found[ticker], self._now_ms()))

    async def _subscribe_lifecycle(self, stream: KalshiStream) -> None:
        if not self._lifecycle:
            return
        try:
            await stream.subscribe(LIFECYCLE_CHANNEL, self.tickers)
        except StreamError as exc:
            if exc.number != _UNKNOWN_CHANNEL:
                raise
            self._lifecycle = False
            log.info(
                "record: no %s channel here (%s): statuses come from REST", LIFECYCLE_CHANNEL, exc
            )

    async def _listen(self, stream: KalshiStream) -> None:
        while not self._done():
            self._idle.set()
            try:
                update = await stream.receive()
            except SequenceGap as gap:
                self._idle.clear()
                await self._on_sequence_gap(stream, gap)
                continue
            finally:
                self._idle.clear()
            self._handle(update)

    async def _note_exchange_time(self) -> None:
        """At connection: the local exchange's published clock, if it has one."""
        try:
            clock = await self.client.get_local_clock()
        except ExchangeError:
            clock = None
        if clock is not None:
            self._last_ms = max(self._last_ms, to_ms(clock.now))

    async def settle(self) -> None:
        """Until everything the server sent before now is written (tests, and a clean stop):
        ``list_subscriptions`` is answered after every data message queued before it."""
        stream = self._stream
        if stream is None:
            return
        await stream.list_subscriptions()
        # The reply woke this task after the recorder's (woken by the data before it): yield
        # once so the recorder drains the queue, then wait until it waits for more.
        await asyncio.sleep(0)
        await self._idle.wait()
        self.writer.sync()

    async def wait_connections(self, count: int) -> None:
        """Until ``count`` connections have been made and subscribed."""
        async with self.connected:
            await self.connected.wait_for(lambda: self.stats.connections >= count)

    # ---- records ----

    def _now_ms(self) -> int:
        if not self._last_ms:
            self._last_ms = to_ms(self._clock.now())
        return self._last_ms

    def _stamp(self, ts_ms: int | None) -> int:
        if ts_ms is not None:
            self._last_ms = max(self._last_ms, ts_ms)
        return self._now_ms()

    def _write(self, record: Record) -> None:
        self.writer.write(record)
        self._unsynced += 1
        if self._unsynced >= _SYNC_EVERY:
            self.writer.sync()
            self._unsynced = 0

    def _handle(self, update: Update) -> None:
        self.stats.messages += 1
        if isinstance(update, OrderbookSnapshot):
            self._snapshot(update)
        elif isinstance(update, OrderbookDelta):
            self._delta(update)
        elif isinstance(update, TradeUpdate):
            self._trade(update)
        elif isinstance(update, OtherUpdate) and update.type.startswith("market_lifecycle"):
            msg = update.msg
            event = str(msg.get("event_type") or update.type)
            self._lifecycle_event(str(msg.get("market_ticker") or ""), event, msg)
        elif attrs.has(type(update)) and hasattr(update, "event_type"):
            # a client that parses lifecycle messages into their own type
            msg = attrs.asdict(update, value_serializer=_plain)
            self._lifecycle_event(str(msg.get("market_ticker") or ""), str(msg["event_type"]), msg)

    def _snapshot(self, update: OrderbookSnapshot) -> None:
        ticker = update.market_ticker
        self._resyncing.discard(ticker)
        self.stats.snapshots[ticker] += 1
        self._write(
            {
                "type": "snapshot",
                "ts_ms": self._now_ms(),
                "ticker": ticker,
                "sid": update.sid,
                "seq": update.seq,
                "yes": levels_json(_levels(update.yes)),
                "no": levels_json(_levels(update.no)),
            }
        )

    def _delta(self, update: OrderbookDelta) -> None:
        if update.market_ticker in self._resyncing:
            return  # after a gap, the book restarts at its snapshot
        self.stats.deltas[update.market_ticker] += 1
        self._write(
            {
                "type": "delta",
                "ts_ms": self._stamp(update.ts_ms),
                "ticker": update.market_ticker,
                "sid": update.sid,
                "seq": update.seq,
                "side": update.side.value,
                "price": update.price,
                "delta": update.delta,
            }
        )

    def _trade(self, update: TradeUpdate) -> None:
        ts_ms = self._stamp(update.ts_ms)
        trade = Trade(
            trade_id=update.trade_id,
            ticker=update.market_ticker,
            count=update.count,
            yes_price=update.yes_price,
            no_price=update.no_price,
            taker_outcome_side=update.taker_outcome_side,
            taker_book_side=update.taker_book_side,
            created_time=from_ms(update.ts_ms) if update.ts_ms is not None else from_ms(ts_ms),
            is_block_trade=update.is_block_trade,
        )
        self.stats.trades[trade.ticker] += 1
        self._write(trade_line(trade, ts_ms))

    def _lifecycle_event(self, ticker: str, event: str, msg: dict[str, Any]) -> None:
        if not ticker:
            return
        ts = msg.get("ts_ms")
        self.stats.lifecycle[ticker] += 1
        record: dict[str, Any] = {"type": "lifecycle", "ticker": ticker, "event": event}
        clean = {k: v for k, v in msg.items() if k not in ("sid", "seq")}
        record.update(ts_ms=self._stamp(ts if isinstance(ts, int) else None), msg=clean)
        self._write(record)

    def _gap(self, tickers: Sequence[str], reason: str) -> None:
        for ticker in tickers:
            self.stats.gaps[ticker] += 1
        self._write(
            {"type": "gap", "ts_ms": self._now_ms(), "tickers": list(tickers), "reason": reason}
        )
        self.writer.sync()
        self._unsynced = 0

    async def _on_sequence_gap(self, stream: KalshiStream, gap: SequenceGap) -> None:
        """Mark the gap; a book's market waits for a fresh snapshot, asked for at once."""
        update = gap.update
        ticker = getattr(update, "market_ticker", "")
        tickers = [ticker] if ticker else self.tickers
        self._gap(tickers, f"sequence gap: {gap}")
        if gap.sid not in self._book_sids or isinstance(update, OrderbookSnapshot):
            self._handle(update)  # a print (or a snapshot) is whole even after a loss
            return
        self.stats.messages += 1
        self._resyncing.update(tickers)
        await stream.update_subscription(gap.sid, "get_snapshot", tickers)


def _plain(_: Any, __: Any, value: Any) -> Any:
    """attrs.asdict's serializer: enums as their JSON values."""
    return value.value if isinstance(value, enum.Enum) else value


def _refused(exc: Exception) -> bool:
    """An answer no reconnect changes (a 4xx other than 429: unknown market, bad key)."""
    status = getattr(exc, "status", None)
    return isinstance(status, int) and 400 <= status < 500 and status != 429


def _levels(levels: tuple[PriceLevel, ...]) -> tuple[PriceLevel, ...]:
    return tuple(level for level in levels if level.count > 0)
