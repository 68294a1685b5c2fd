"""Streamed market data against polling, in one run.

Run: ``python benchmarks/bench_stream.py [--orders N] [--cycles N]``

1. **Update latency**: an order placed over signed HTTP on the local exchange until the engine's
   :class:`~kalshi_core.client.stream_feed.StreamingSource` has applied its delta, p50/p99 (the
   feed sends a book delta as the venue changes; its ``tick_seconds`` timer only paces the
   ticker and trade channels, shown at two settings). Reference in the same run: one REST
   ``GET /orderbook`` round trip (what a poller pays per market per look).
2. **API calls per cycle**: the same paper session (the market maker, here reading the book
   as a depth-aware strategy does: ``wants_orderbook = True``) once with
   ``run.market_data = "poll"`` and once with ``"stream"``, counting the client's requests by
   endpoint. Both runs store the same orders and fills (checked).

Timing is wall-clock (``time.perf_counter``); nothing here is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_http import TICKER, make_venue

from kalshi_core.app import App
from kalshi_core.client import KalshiClient, OrderRequest, RateLimiter, Signer
from kalshi_core.client.stream import stream_url
from kalshi_core.client.stream_feed import StreamingSource
from kalshi_core.engine.report import SessionReport
from kalshi_core.engine.session import Session, SessionOptions
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.models import BookSide
from kalshi_core.money import CONTRACT
from kalshi_core.storage.database import Database
from kalshi_core.strategies.market_maker import MarketMakerStrategy
from kalshi_core.venues.base import VenueRun

RUN_FROM = datetime(2026, 1, 2, 13, 0, tzinfo=UTC)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def seen(source: StreamingSource, price: int) -> None:
    """Until the streamed book shows a bid at ``price``."""
    while True:
        await source.wait_update(1.0)
        source.drain()
        book = source.book(TICKER)
        if book is not None and any(level.price == price for level in book.yes):
            return


async def latencies(orders: int, tick: float, key_dir: Path) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"stream": [], "rest": []}
    async with LocalExchange.running(venue=make_venue(), key_dir=key_dir) as ex:
        ex.app.feed.tick_seconds = tick
        assert ex.private_key_path is not None
        signer = Signer.from_file(ex.api_key_id, ex.private_key_path)
        limiter = RateLimiter.for_rates(1_000_000, 1_000_000)
        async with (
            KalshiClient(ex.base_url, signer=signer, rate_limiter=limiter) as client,
            StreamingSource(stream_url(ex.base_url), signer, heartbeat_seconds=0) as source,
        ):
            await source.wait_live(10)
            await source.watch([TICKER])
            await source.catch_up()
            for index in range(orders):
                price = 100 + index * 100 % 9_800
                request = OrderRequest(
                    ticker=TICKER,
                    book_side=BookSide.BID,
                    price=price,
                    count=CONTRACT,
                    client_order_id=f"bench-{tick}-{index}",
                )
                started = time.perf_counter()
                placed = await client.create_order(request)
                await seen(source, price)
                out["stream"].append(time.perf_counter() - started)
                started = time.perf_counter()
                await client.get_orderbook(TICKER)
                out["rest"].append(time.perf_counter() - started)
                await client.cancel_order(placed.order_id)
    return out


class CountingSession(Session):
    """Keeps the client's request counts and the stored rows as the run ends."""

    calls: Counter[str]

    async def _report(
        self, venue: VenueRun, database: Database, start: int, reason: str
    ) -> SessionReport:
        client: Any = getattr(venue.gateway, "client", None)
        self.calls = Counter()
        for (endpoint, _status), count in client.transport.metrics.calls.items():
            self.calls[endpoint] += count
        return await super()._report(venue, database, start, reason)


async def session_calls(mode: str, cycles: int, folder: Path) -> tuple[Counter[str], Any]:
    os.environ["KALSHI_RUN__MARKET_DATA"] = mode
    os.environ["KALSHI_DATABASE__URL"] = f"sqlite+aiosqlite:///{folder / f'{mode}.sqlite3'}"
    options = SessionOptions(cycles=cycles, start=RUN_FROM, run_id="bench-stream")
    session = CountingSession(App.create(), options)
    report = await session.run()
    return session.calls, report


def configure(folder: Path) -> None:
    for name in [n for n in os.environ if n.startswith("KALSHI_")]:
        del os.environ[name]
    os.environ.update(
        {
            "KALSHI_LOAD_PLUGINS": "builtin",
            "XDG_DATA_HOME": str(folder / "data"),
            "KALSHI_RUN__CYCLE_SECONDS": "600",
            "KALSHI_STRATEGIES__ENABLED": '["market_maker"]',
            "KALSHI_STRATEGIES__MARKET_MAKER__FAIR_VALUE": "mid",
            "KALSHI_PIPELINE__VALIDATORS": '["market_status"]',
            "KALSHI_MONITORING__ENABLED": "false",
        }
    )
    MarketMakerStrategy.wants_orderbook = True  # type: ignore[attr-defined]


def print_latency(tick: float, times: dict[str, list[float]]) -> None:
    stream, rest = times["stream"], times["rest"]
    print(
        f"feed timer {tick:>5.2f} s   order placed -> delta applied: "
        f"p50 {pct(stream, 0.5) * 1e3:7.1f} ms"
        f"  p99 {pct(stream, 0.99) * 1e3:7.1f} ms   (REST GET orderbook: p50 "
        f"{statistics.median(rest) * 1e3:5.1f} ms, n={len(stream)})"
    )


def print_calls(cycles: int, polled: Counter[str], streamed: Counter[str]) -> None:
    print(f"\nAPI calls per cycle, {cycles} paper cycles (market maker reading the book):")
    for endpoint in sorted(polled.keys() | streamed.keys()):
        a, b = polled[endpoint] / cycles, streamed[endpoint] / cycles
        print(f"  {endpoint:<40} poll {a:6.2f}   stream {b:6.2f}")
    total_a, total_b = sum(polled.values()) / cycles, sum(streamed.values()) / cycles
    print(f"  {'total':<40} poll {total_a:6.2f}   stream {total_b:6.2f}")
    print(f"  saved by streaming: {total_a - total_b:.2f} calls per cycle")


async def main(orders: int, cycles: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for tick in (0.25, 0.02):
            print_latency(tick, await latencies(orders, tick, folder / f"keys-{tick}"))
        configure(folder)
        polled, poll_report = await session_calls("poll", cycles, folder)
        streamed, stream_report = await session_calls("stream", cycles, folder)
        print_calls(cycles, polled, streamed)
        same = (poll_report.orders_placed, poll_report.fills_venue) == (
            stream_report.orders_placed,
            stream_report.fills_venue,
        )
        print(
            f"  orders {poll_report.orders_placed} / {stream_report.orders_placed}, fills "
            f"{poll_report.fills_venue} / {stream_report.fills_venue}: "
            + ("the same" if same else "DIFFERENT")
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--cycles", type=int, default=40)
    args = parser.parse_args()
    asyncio.run(main(args.orders, args.cycles))
