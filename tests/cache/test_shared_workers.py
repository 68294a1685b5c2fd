"""Three engine processes on one Redis and one PostgreSQL share one view of the market: one of
them reads the open-market list from the exchange, the others read it from Redis. Account
reads (balance, positions, orders, fills) stay per worker, and market leases still keep each
market with one worker."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.cache.conftest import redis_backend, redis_url
from tests.multiworker.conftest import trader_key  # noqa: F401
from tests.multiworker.harness import Worker, assert_consistent, client_arguments, serve_exchange
from tests.multiworker.support import (
    DATABASE_URL_ENV,
    ROOT,
    ApiKey,
    market_tickers,
    open_database,
)
from tests.multiworker.test_two_workers import converse

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

MARKETS = 30
CYCLES = 5
WORKERS = ("worker-a", "worker-b", "worker-c")
LIST_MARKETS = "GET /markets"
BALANCE = "GET /portfolio/balance"


async def start_cache_worker(
    arguments: list[str], database_url: str, log_dir: Path, name: str
) -> Worker:
    stderr_path = log_dir / f"{name}.stderr"
    with stderr_path.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.cache.cache_worker",
            *arguments,
            cwd=ROOT,
            env={**os.environ, DATABASE_URL_ENV: database_url},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
        )
    return Worker(name, process, stderr_path)


async def test_three_workers_read_the_market_list_once(
    own_postgres_url: str,
    trader_key: ApiKey,  # noqa: F811
    tmp_path: Path,
) -> None:
    url = redis_url()
    namespace = f"kc-workers-{uuid.uuid4().hex[:8]}"
    cleaner = redis_backend(url, namespace)
    tickers = market_tickers(MARKETS)
    database = open_database(own_postgres_url)
    try:
        async with serve_exchange(tickers, CYCLES * 4, trader_key) as exchange:
            common = [
                *client_arguments(exchange, trader_key),
                *("--cycles", str(CYCLES), "--redis-url", url, "--namespace", namespace),
            ]
            workers = [
                await start_cache_worker(
                    [*common, "--worker-id", name], own_postgres_url, tmp_path, name
                )
                for name in WORKERS
            ]
            try:
                reports = await converse(workers, database)
            finally:
                for worker in workers:
                    worker.stop()
            await assert_consistent(database, exchange.venue, tickers)
    finally:
        await database.close()
        await cleaner.clear(namespace=namespace)
        await cleaner.close()
    check_shared_reads(reports, tickers)


def check_shared_reads(reports: list[dict[str, Any]], tickers: list[str]) -> None:
    listed = [r["calls"].get(LIST_MARKETS, 0) for r in reports]
    assert sum(listed) == 1, f"the market list was read {listed} times (by worker)"
    hits = sum(r["cache"].get("hits.markets", 0) for r in reports)
    assert hits == len(WORKERS) * CYCLES - 1
    for report in reports:  # the account is the venue's truth: read by every worker
        assert report["calls"][BALANCE] == CYCLES + 1, report["calls"]
        assert (report["rejected"], report["unknown"]) == (0, 0), report
    traded = [set(r["tickers"]) for r in reports]
    for index, mine in enumerate(traded):
        others = set().union(*(t for n, t in enumerate(traded) if n != index))
        assert mine.isdisjoint(others), "a market was traded by two workers"
    assert set().union(*traded) == set(tickers)
