"""Two worker processes trading on one PostgreSQL (the multi-worker harness: real local
exchange, real engines, market leases, each worker its own markets) while the dashboard reads
that database: the live stream shows both workers' fills as they come."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import attrs
import httpx
import pytest

from tests.dashboard.conftest import options, served
from tests.multiworker.harness import client_arguments, serve_exchange, start_worker
from tests.multiworker.support import GO, READY, RELEASE, RELEASED, ApiKey, market_tickers
from tests.multiworker.support import open_database as open_url

MARKETS = 12
CYCLES = 4
WORKERS = ("worker-a", "worker-b")


@attrs.define
class Shown:
    """The fills section as the live stream last sent it (it sends a part only when changed)."""

    fills: str = ""
    changed: asyncio.Event = attrs.field(factory=asyncio.Event)

    async def follow(self, http: httpx.AsyncClient) -> None:
        async with http.stream("GET", "/events") as stream:
            async for line in stream.aiter_lines():
                if line.startswith("data: "):
                    fills = json.loads(line.removeprefix("data: ")).get("fills")
                    self.fills = fills or self.fills
                    self.changed.set()

    async def until_all(self, tickers: set[str]) -> str:
        while not all(ticker in self.fills for ticker in tickers):
            self.changed.clear()
            await self.changed.wait()
        return self.fills


@pytest.mark.slow
async def test_the_dashboard_follows_two_workers_on_one_postgres(
    postgres_database_url: str, trader_key: ApiKey, tmp_path: Path
) -> None:
    tickers = market_tickers(MARKETS)
    database = open_url(postgres_database_url)
    try:
        async for http in served(database, options(tmp_path, rows=200)):
            async with serve_exchange(tickers, CYCLES * 2, trader_key) as exchange:
                common = [*client_arguments(exchange, trader_key), "--cycles", str(CYCLES)]
                common += ["--max-markets", str(MARKETS // 2)]
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
                shown = Shown()
                watching = asyncio.create_task(shown.follow(http))
                try:
                    assert [await w.line() for w in workers] == [READY] * 2
                    for worker in workers:
                        await worker.send(GO)
                    lines = await asyncio.gather(*(w.line() for w in workers))
                    traded = [set(json.loads(line)["tickers"]) for line in lines]
                    assert all(traded), "a worker traded nothing: nothing to see"
                    fills = await asyncio.wait_for(shown.until_all(traded[0] | traded[1]), 300)
                    assert "<tbody>" in fills
                    for worker in workers:
                        await worker.send(RELEASE)
                        assert await worker.line() == RELEASED
                finally:
                    watching.cancel()
                    for worker in workers:
                        worker.stop()
    finally:
        await database.close()
