"""HTTP order round-trip latency of the local exchange, next to the in-process venue.

Run: ``python benchmarks/bench_http.py [--orders N]``

Places and cancels N resting orders with the real :class:`kalshi_core.client.KalshiClient`
(signed RSA-PSS requests over loopback HTTP to ``LocalExchange``), timing each call, then does
the same operations directly on an identical in-process :class:`Venue` as the reference.
Prints p50 / p99 / mean per operation. Timing is wall-clock (``time.perf_counter``).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kalshi_core.client import KalshiClient, OrderRequest, RateLimiter, Signer
from kalshi_core.clock import ManualClock
from kalshi_core.exchange import Venue, VenueOrder
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.models import BookSide, Market, MarketStatus
from kalshi_core.money import CONTRACT, DOLLAR

START = datetime(2026, 1, 1, tzinfo=UTC)
TICKER = "KXBENCH-26JAN01-T50"


def make_venue() -> Venue:
    venue = Venue(ManualClock(START))
    venue.list_market(
        Market(
            ticker=TICKER,
            event_ticker="KXBENCH-26JAN01",
            status=MarketStatus.ACTIVE,
            open_time=START - timedelta(days=1),
            close_time=START + timedelta(days=30),
        )
    )
    return venue


def price_of(index: int) -> int:
    return 1000 + (index % 40) * 100  # resting bids only: nothing crosses


async def http_round_trips(orders: int, key_dir: Path) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"place": [], "cancel": []}
    async with LocalExchange.running(venue=make_venue(), key_dir=key_dir) as ex:
        assert ex.private_key_path is not None
        signer = Signer.from_file(ex.api_key_id, ex.private_key_path)
        limiter = RateLimiter.for_rates(1_000_000, 1_000_000)
        async with KalshiClient(ex.base_url, signer=signer, rate_limiter=limiter) as client:
            await client.get_exchange_status()  # warm the connection pool
            for index in range(orders):
                request = OrderRequest(
                    ticker=TICKER,
                    book_side=BookSide.BID,
                    price=price_of(index),
                    count=CONTRACT,
                    client_order_id=f"bench-{index}",
                )
                started = time.perf_counter()
                ack = await client.create_order(request)
                placed = time.perf_counter()
                await client.cancel_order(ack.order_id)
                times["place"].append(placed - started)
                times["cancel"].append(time.perf_counter() - placed)
    return times


def venue_round_trips(orders: int) -> dict[str, list[float]]:
    venue = make_venue()
    venue.deposit("dev", 10_000 * DOLLAR)
    times: dict[str, list[float]] = {"place": [], "cancel": []}
    for index in range(orders):
        request = VenueOrder(
            account="dev",
            ticker=TICKER,
            side=BookSide.BID,
            price=price_of(index),
            count=CONTRACT,
            client_order_id=f"bench-{index}",
        )
        started = time.perf_counter()
        order = venue.place_order(request)
        placed = time.perf_counter()
        venue.cancel("dev", order.order_id)
        times["place"].append(placed - started)
        times["cancel"].append(time.perf_counter() - placed)
    return times


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def row(label: str, values: list[float]) -> str:
    micros = [v * 1e6 for v in values]
    return (
        f"{label:<22} {quantile(micros, 0.5):>10.1f} {quantile(micros, 0.99):>10.1f} "
        f"{statistics.fmean(micros):>10.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as key_dir:
        http = asyncio.run(http_round_trips(args.orders, Path(key_dir)))
    local = venue_round_trips(args.orders)
    print(f"{args.orders} orders placed and cancelled, one at a time; latency in microseconds")
    print(f"{'operation':<22} {'p50':>10} {'p99':>10} {'mean':>10}")
    for op in ("place", "cancel"):
        print(row(f"HTTP {op}", http[op]))
        print(row(f"in-process {op}", local[op]))
    ratio = statistics.median(http["place"]) / statistics.median(local["place"])
    print(f"HTTP place p50 is {ratio:,.0f}x the in-process venue's")


if __name__ == "__main__":
    main()
