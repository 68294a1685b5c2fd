"""The cache's effect on a steady trading cycle over thousands of open markets, in one run.

Run: ``KALSHI_TEST_REDIS_URL=redis://127.0.0.1:6379/0 python benchmarks/bench_cache.py
[--markets 5000] [--cycles 20] [--workers 4] [--markets-ttl S] [--account-ttl S]`` (needs
kalshi-plugin-redis installed).

Setup as ``bench_cycle.py``: a local exchange in a separate process on 127.0.0.1 listing
``--markets`` open markets (see ``cycle_exchange.py``), engines built exactly as
``kalshi-core run`` builds them (``build_engine``: the cache wiring included) on the real HTTP
client, a fresh SQLite database per scenario. Workers are engines with their own client, cache
instance, database connection and ``worker_id``, running their cycles concurrently in this
process; with several workers each leases ``markets / workers`` markets (``run.max_markets``).

Scenarios, each one warm-up round and ``--cycles`` measured rounds (a round = one cycle of
every worker): 1 and N workers, each without the cache (every TTL 0) and with Redis
(default TTLs, a fresh key namespace). Figures: exchange reads (GET calls) per round, split
into market data and account reads; the cache hit rate over the measured rounds; the round's
wall time. Then the ``llm`` forecaster against a local OpenAI-compatible server (the test
suite's recorded answers): one worker for ``--cycles`` cycles, a restart, one more cycle;
model calls made, and calls repeated for a market whose price bucket had been asked before.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
from cycle_exchange import ExchangeInfo, serving_exchange
from cycle_timing import api_calls

from kalshi_core.app import App
from kalshi_core.cache.forecaster import CachingForecaster
from kalshi_core.client import KalshiClient, Signer
from kalshi_core.clock import SystemClock
from kalshi_core.engine.cycle import Engine
from kalshi_core.engine.session import build_engine, open_database
from kalshi_core.models import Forecast, Market
from kalshi_core.protocols import Forecaster, PipelineContext
from kalshi_core.storage.database import Database
from kalshi_core.venues.base import OpenVenue, WallTime
from kalshi_core.venues.client_gateway import ClientGateway

ROOT = Path(__file__).resolve().parents[1]
MARKET_DATA = ("GET /markets", "GET /series", "GET /events", "GET /exchange")
NO_CACHE_TTLS = {
    "markets_ttl_seconds": 0,
    "orderbook_ttl_seconds": 0,
    "series_ttl_seconds": 0,
    "status_ttl_seconds": 0,
    "forecast_ttl_seconds": 0,
}

# ---- settings -------------------------------------------------------------------------------


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f'"{k}" = {toml_value(v)}' for k, v in value.items()) + "}"
    return repr(value)


def write_settings(path: Path, sections: dict[str, dict[str, Any]]) -> Path:
    lines = []
    for section, values in sections.items():
        lines.append(f"[default.{section}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@attrs.frozen(kw_only=True)
class Scenario:
    name: str
    workers: int
    cached: bool
    llm: bool = False
    markets_ttl: float | None = None  # None: the default markets_ttl_seconds
    account_ttl: float | None = None  # None: the default account_ttl_seconds (0: not shared)

    def sections(
        self, directory: Path, markets: int, redis_url: str, openai_url: str
    ) -> dict[str, dict[str, Any]]:
        database = directory / f"{self.name.replace(' ', '-')}.sqlite3"
        cache: dict[str, Any] = {"backend": "memory", **NO_CACHE_TTLS}
        if self.cached:
            namespace = f"kc-bench-{uuid.uuid4().hex[:8]}"
            cache = {"backend": "redis", "url": redis_url, "namespace": namespace}
            if self.markets_ttl is not None:
                cache["markets_ttl_seconds"] = self.markets_ttl
            if self.account_ttl is not None:
                cache["account_ttl_seconds"] = self.account_ttl
        sections: dict[str, dict[str, Any]] = {
            "database": {"url": f"sqlite+aiosqlite:///{database}"},
            "run": {"max_markets": markets // self.workers if self.workers > 1 else 0},
            "cache": cache,
        }
        if self.llm:
            sections["forecast"] = {"models": ["llm"]}
            sections["forecasters.llm"] = {
                "base_url": openai_url,
                "api_key": "sk-bench-local",
                "model": "good",
                "prices": {"good": {"input": "0.15", "output": "0.60"}},
                "daily_budget_dollars": 100_000.0,
                "timeout_seconds": 10.0,
            }
        return sections


# ---- what is measured -----------------------------------------------------------------------


class RecordingForecaster:
    """Passes through to the model; notes which (market, price bucket) each call was for."""

    def __init__(self, inner: Forecaster, bucket: int, asked: Counter[tuple[str, int]]) -> None:
        self.inner = inner
        self.name = inner.name
        self.bucket = bucket
        self.asked = asked

    async def forecast(self, market: Market, context: PipelineContext) -> Forecast | None:
        mid = market.mid if market.mid is not None else -1
        self.asked[(market.ticker, mid // self.bucket)] += 1
        return await self.inner.forecast(market, context)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@attrs.define
class Worker:
    engine: Engine
    client: KalshiClient
    database: Database

    @property
    def cache_stats(self) -> dict[str, float]:
        cache = getattr(self.engine.gateway, "cache", None)  # through the look-ahead guard
        return cache.stats.snapshot() if cache is not None else {}


@attrs.frozen(kw_only=True)
class ScenarioResult:
    scenario: Scenario
    reads: list[int]
    market_reads: list[int]
    seconds: list[float]
    hits: float
    lookups: float
    market_hits: float
    market_lookups: float
    model_calls: int = 0
    repeated_calls: int = 0
    calls_after_restart: int = 0
    by_endpoint: Counter[str] = attrs.field(factory=Counter)

    @property
    def reads_per_cycle(self) -> float:
        return statistics.mean(self.reads)

    @property
    def market_reads_per_cycle(self) -> float:
        return statistics.mean(self.market_reads)

    @property
    def hit_rate(self) -> float:
        return self.hits / self.lookups if self.lookups else 0.0

    @property
    def market_hit_rate(self) -> float:
        return self.market_hits / self.market_lookups if self.market_lookups else 0.0


def reads_of(calls: Counter[str]) -> tuple[int, int]:
    """(all GET calls, market-data GET calls) in a per-endpoint count."""
    gets = {label: n for label, n in calls.items() if label.startswith("GET ")}
    market = sum(n for label, n in gets.items() if label.startswith(MARKET_DATA))
    return sum(gets.values()), market


def cache_totals(workers: Sequence[Worker], kind: str = "") -> tuple[float, float]:
    """(hits, lookups) over every worker's cache, of one kind or (``""``) of all kinds."""
    hits = misses = 0.0
    for worker in workers:
        for name, value in worker.cache_stats.items():
            if kind and not name.endswith(f".{kind}"):
                continue
            hits += value if name.startswith("hits.") else 0.0
            misses += value if name.startswith("misses.") else 0.0
    return hits, hits + misses


# ---- running --------------------------------------------------------------------------------


@contextlib.contextmanager
def environment(**variables: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


async def start_worker(
    app: App, info: ExchangeInfo, asked: Counter[tuple[str, int]] | None = None
) -> Worker:
    signer = Signer.from_file(info.api_key_id, info.private_key_path)
    client: KalshiClient = app.build(
        "data_sources", "kalshi", base_url=info.base_url, signer=signer
    )
    await client.__aenter__()
    database = await open_database(app)
    clock = SystemClock()
    venue = OpenVenue(
        gateway=ClientGateway(client), clock=clock, description="bench", time=WallTime(clock)
    )
    engine = build_engine(app, venue, database, f"bench-{uuid.uuid4().hex[:8]}")
    if asked is not None:
        for forecaster in engine.pipeline.forecasters:
            if isinstance(forecaster, CachingForecaster):
                forecaster.inner = RecordingForecaster(
                    forecaster.inner, forecaster.price_bucket, asked
                )
    return Worker(engine=engine, client=client, database=database)


async def stop_worker(worker: Worker) -> None:
    await worker.engine.release()
    cache = getattr(worker.engine.gateway, "cache", None)
    if cache is not None:
        await cache.close()
    for forecaster in worker.engine.pipeline.forecasters:
        closer = getattr(forecaster, "aclose", None)
        if closer is not None:
            await closer()
    await worker.client.aclose()
    await worker.database.close()


async def run_round(workers: Sequence[Worker]) -> tuple[Counter[str], float]:
    before = [w.client.metrics.snapshot() for w in workers]
    started = time.perf_counter()
    await asyncio.gather(*(w.engine.run_cycle() for w in workers))
    seconds = time.perf_counter() - started
    calls: Counter[str] = Counter()
    for worker, snapshot in zip(workers, before, strict=True):
        calls.update(api_calls(snapshot, worker.client.metrics.snapshot()))
    return calls, seconds


async def run_scenario(
    scenario: Scenario, settings: Path, info: ExchangeInfo, cycles: int
) -> ScenarioResult:
    app = App.create(settings_file=settings)
    app.check()
    asked: Counter[tuple[str, int]] = Counter()
    workers = [await start_worker(app, info, asked) for _ in range(scenario.workers)]
    try:
        await run_round(workers)  # warm-up: every market new
        hits0, lookups0 = cache_totals(workers)
        market_hits0, market_lookups0 = cache_totals(workers, "markets")
        reads, market_reads, seconds = [], [], []
        by_endpoint: Counter[str] = Counter()
        for _ in range(cycles):
            calls, took = await run_round(workers)
            by_endpoint.update({k: n for k, n in calls.items() if k.startswith("GET ")})
            total, market = reads_of(calls)
            reads.append(total)
            market_reads.append(market)
            seconds.append(took)
        hits1, lookups1 = cache_totals(workers)
        market_hits1, market_lookups1 = cache_totals(workers, "markets")
    finally:
        for worker in workers:
            await stop_worker(worker)
    after_restart = await calls_after_restart(app, info, asked) if scenario.llm else 0
    return ScenarioResult(
        scenario=scenario,
        reads=reads,
        market_reads=market_reads,
        seconds=seconds,
        hits=hits1 - hits0,
        lookups=lookups1 - lookups0,
        market_hits=market_hits1 - market_hits0,
        market_lookups=market_lookups1 - market_lookups0,
        model_calls=sum(asked.values()),
        repeated_calls=sum(n - 1 for n in asked.values()),
        calls_after_restart=after_restart,
        by_endpoint=by_endpoint,
    )


async def calls_after_restart(app: App, info: ExchangeInfo, asked: Counter[tuple[str, int]]) -> int:
    """Model calls of one more cycle by a restarted worker (a new process would start from an
    empty memory: only a shared cache remembers)."""
    before = sum(asked.values())
    restarted = await start_worker(app, info, asked)
    try:
        await run_round([restarted])
    finally:
        await stop_worker(restarted)
    return sum(asked.values()) - before


@contextlib.asynccontextmanager
async def openai_server() -> AsyncIterator[str]:
    """The test suite's OpenAI-compatible server (recorded answers) on a free 127.0.0.1 port."""
    import uvicorn  # noqa: PLC0415

    sys.path.insert(0, str(ROOT))
    from tests.forecasting.openai_server import FakeOpenAI  # noqa: PLC0415

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    fake = FakeOpenAI()
    config = uvicorn.Config(fake, lifespan="off", log_level="critical", access_log=False)
    ready = asyncio.Event()

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            ready.set()

    server = Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    waiting = asyncio.create_task(ready.wait())
    await asyncio.wait({serving, waiting}, return_when=asyncio.FIRST_COMPLETED)
    if not ready.is_set():
        raise RuntimeError("the local OpenAI-compatible server did not start")
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        fake.release.set()
        server.should_exit = True
        await serving
        sock.close()


# ---- report ---------------------------------------------------------------------------------


def print_report(results: Sequence[ScenarioResult], markets: int, cycles: int) -> None:
    print(f"\nbench_cache: {markets} open markets, {cycles} steady-state rounds per scenario\n")
    header = f"{'scenario':<34}{'reads/round':>12}{'market':>8}{'account':>9}"
    print(header + f"{'hit rate':>10}{'(list)':>8}{'round s':>9}{'p90 s':>8}")
    for r in results:
        print(scenario_line(r))
    print()
    for cached in (False, True):
        print_ratio([r for r in results if r.scenario.cached is cached and not r.scenario.llm])
    print("\nreads per round by endpoint:")
    for r in results:
        if not r.scenario.llm:
            print(f"  {r.scenario.name}: {endpoint_line(r)}")
    for r in results:
        if r.scenario.llm:
            print(
                f"{r.scenario.name}: {r.model_calls} model calls, {r.repeated_calls} repeated "
                f"for an unchanged market, {r.calls_after_restart} after the restart"
            )


def scenario_line(r: ScenarioResult) -> str:
    account = r.reads_per_cycle - r.market_reads_per_cycle
    p90 = sorted(r.seconds)[max(0, math.ceil(0.9 * len(r.seconds)) - 1)]
    return (
        f"{r.scenario.name:<34}{r.reads_per_cycle:>12.2f}{r.market_reads_per_cycle:>8.2f}"
        f"{account:>9.2f}{r.hit_rate:>10.1%}{r.market_hit_rate:>8.1%}"
        f"{statistics.median(r.seconds):>9.3f}{p90:>8.3f}"
    )


def endpoint_line(r: ScenarioResult) -> str:
    rounds = len(r.reads) or 1
    parts = [f"{label[4:]} {n / rounds:.2f}" for label, n in sorted(r.by_endpoint.items())]
    return ", ".join(parts) or "none"


def print_ratio(results: Sequence[ScenarioResult]) -> None:
    """N workers against one, for the scenarios of one cache setting."""
    one = [r for r in results if r.scenario.workers == 1]
    many = [r for r in results if r.scenario.workers > 1]
    if not (one and many):
        return
    ratio = many[0].reads_per_cycle / one[0].reads_per_cycle
    label = "with Redis" if many[0].scenario.cached else "without cache"
    print(
        f"{many[0].scenario.workers} workers vs 1, {label}: {ratio:.2f}x all reads; "
        f"market-data reads {many[0].market_reads_per_cycle:.2f} vs "
        f"{one[0].market_reads_per_cycle:.2f} per round"
    )


@attrs.frozen
class Ttls:
    """The Redis scenarios' TTLs given on the command line (``None``: the defaults)."""

    markets_ttl: float | None = None
    account_ttl: float | None = None

    def note(self) -> str:
        given = [f"{k}_seconds = {v:g}" for k, v in attrs.asdict(self).items() if v is not None]
        return f"(Redis scenarios with {', '.join(given)})" if given else ""


async def benchmark(markets: int, cycles: int, workers: int, redis_url: str, ttls: Ttls) -> None:
    ttl = attrs.asdict(ttls)
    scenarios = [
        Scenario(name="1 worker, no cache", workers=1, cached=False),
        Scenario(name="1 worker, Redis", workers=1, cached=True, **ttl),
        Scenario(name=f"{workers} workers, no cache", workers=workers, cached=False),
        Scenario(name=f"{workers} workers, Redis", workers=workers, cached=True, **ttl),
        Scenario(name="llm, 1 worker, no cache", workers=1, cached=False, llm=True),
        Scenario(name="llm, 1 worker, Redis", workers=1, cached=True, llm=True, **ttl),
    ]
    results = []
    with tempfile.TemporaryDirectory(prefix="kalshi-bench-cache-") as temp:
        directory = Path(temp)
        with (
            environment(KALSHI_LOAD_PLUGINS="builtin,redis"),
            serving_exchange(markets, directory / "keys") as info,
        ):
            async with openai_server() as openai_url:
                for scenario in scenarios:
                    sections = scenario.sections(directory, markets, redis_url, openai_url)
                    settings = write_settings(directory / "settings.toml", sections)
                    print(f"running: {scenario.name}", flush=True)
                    results.append(await run_scenario(scenario, settings, info, cycles))
    print_report(results, markets, cycles)
    print(ttls.note())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--markets", type=int, default=5000, help="open markets listed")
    parser.add_argument("--cycles", type=int, default=20, help="measured rounds per scenario")
    parser.add_argument("--workers", type=int, default=4, help="workers in the shared scenario")
    parser.add_argument("--redis-url", default=os.environ.get("KALSHI_TEST_REDIS_URL", ""))
    parser.add_argument(
        "--markets-ttl", type=float, default=None, help="cache.markets_ttl_seconds with Redis"
    )
    parser.add_argument(
        "--account-ttl", type=float, default=None, help="cache.account_ttl_seconds with Redis"
    )
    args = parser.parse_args()
    if not args.redis_url:
        parser.error("need a Redis: --redis-url or KALSHI_TEST_REDIS_URL (a throwaway server)")
    if args.markets < 1 or args.cycles < 1 or args.workers < 2:
        parser.error("need at least 1 market, 1 cycle and 2 workers")
    asyncio.run(
        benchmark(
            args.markets,
            args.cycles,
            args.workers,
            args.redis_url,
            Ttls(args.markets_ttl, args.account_ttl),
        )
    )


if __name__ == "__main__":
    main()
