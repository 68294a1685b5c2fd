"""Two worker processes, each running an Engine with its own ``worker_id``, on one PostgreSQL
database and one exchange account, competing for the same ~100 markets with a strategy that
wants to trade every market every cycle.

Market leases (docs/adr/0001-market-ownership.md) must keep every market with one worker for
the whole run (leases last 60 s, far longer than the run), while the idempotent execution and
reconciliation keep the database and the exchange in agreement.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from kalshi_core.storage.database import Database
from tests.multiworker.harness import (
    Worker,
    assert_consistent,
    client_arguments,
    serve_exchange,
    start_worker,
)
from tests.multiworker.support import (
    GO,
    READY,
    RELEASE,
    RELEASED,
    TRADER,
    ApiKey,
    market_tickers,
    open_database,
)

MARKETS = 100
CYCLES = 20
WORKERS = ("worker-a", "worker-b")
DEPTH = CYCLES * 2  # more than any one market can take in the run: every order fills
#: Every lease free at the start: the workers race for all markets from their first cycle.
FREE = "free"
#: The leases already split between the workers (as after a rolling restart within the lease
#: time): each keeps trying to claim all markets every cycle and must keep getting its half
#: only, and both trade on one account at the same time.
DIVIDED = "divided"
#: Every lease free, and each worker capped at half the markets (``run.max_markets``): the
#: work is shared, neither worker starves.
SHARED = "shared"


async def converse(workers: list[Worker], database: Database) -> list[dict[str, Any]]:
    """Start the workers together, collect their reports, check who holds which lease while
    they still hold them, then let them release and exit."""
    assert [await w.line() for w in workers] == [READY] * len(workers)
    for worker in workers:
        await worker.send(GO)
    reports = [json.loads(line) for line in await asyncio.gather(*(w.line() for w in workers))]
    for report in reports:
        held = await database.leases.owned(report["worker_id"])
        assert set(report["tickers"]) <= held, "a worker traded a market it does not hold"
    for worker in workers:
        await worker.send(RELEASE)
        assert await worker.line() == RELEASED
        assert await worker.exit_code() == 0
    return reports


@pytest.mark.slow
@pytest.mark.parametrize("start", [FREE, DIVIDED, SHARED])
async def test_two_workers_never_trade_the_same_market(
    start: str, postgres_database_url: str, trader_key: ApiKey, tmp_path: Path
) -> None:
    tickers = market_tickers(MARKETS)
    database = open_database(postgres_database_url)
    try:
        halves = {WORKERS[0]: set(tickers[::2]), WORKERS[1]: set(tickers[1::2])}
        if start == DIVIDED:
            for worker_id, half in halves.items():
                assert await database.leases.claim(half, worker_id) == half
        async with serve_exchange(tickers, DEPTH, trader_key) as exchange:
            common = [*client_arguments(exchange, trader_key), "--cycles", str(CYCLES)]
            if start == SHARED:
                common += ["--max-markets", str(MARKETS // len(WORKERS))]
            workers = [
                await start_worker(
                    "engine_worker",
                    [*common, "--worker-id", name],
                    postgres_database_url,
                    tmp_path,
                    name,
                )
                for name in WORKERS
            ]
            try:
                reports = await converse(workers, database)
            finally:
                for worker in workers:
                    worker.stop()
            await assert_consistent(database, exchange.venue, tickers)
            on_venue = exchange.venue.orders(TRADER)
        for worker_id in WORKERS:
            assert await database.leases.owned(worker_id) == frozenset()
    finally:
        await database.close()

    check_reports(start, reports, tickers, len(on_venue), halves)


def check_reports(
    start: str,
    reports: list[dict[str, Any]],
    tickers: list[str],
    orders_on_venue: int,
    halves: dict[str, set[str]],
) -> None:
    """No market traded by both workers, all markets traded, every order accounted for."""
    traded = [set(r["tickers"]) for r in reports]
    assert traded[0].isdisjoint(traded[1]), "a market was traded by both workers"
    assert traded[0] | traded[1] == set(tickers), "some market was never traded"
    for report in reports:
        assert (report["rejected"], report["unknown"]) == (0, 0), report
        assert report["placed"] == report["sent"], report
    decisions = sum(r["decisions"] for r in reports)
    assert orders_on_venue == sum(r["sent"] for r in reports) == decisions
    expected = {
        FREE: (MARKETS * CYCLES, MARKETS * CYCLES),
        DIVIDED: (MARKETS * CYCLES, MARKETS * CYCLES),
        # the late worker may find every market leased in its first cycle
        SHARED: (MARKETS * (CYCLES - 1), MARKETS * CYCLES),
    }[start]
    assert expected[0] <= decisions <= expected[1]
    if start == DIVIDED:
        assert {r["worker_id"]: set(r["tickers"]) for r in reports} == halves
    if start == SHARED:
        assert [len(t) for t in traded] == [MARKETS // len(WORKERS)] * len(WORKERS)
