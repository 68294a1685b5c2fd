"""The trading engine's cycle over thousands of open markets on the local exchange.

Run: ``python benchmarks/bench_cycle.py [--markets 5000] [--cycles 4]``; several sizes,
``--markets 500,5000,20000``, print each size's report and then a scaling table: steady-state
cycle time, time per market and API calls per cycle, each size against the smallest (linear
scaling keeps the per-market column flat).

Measures what the trading-engine issue asks for: API calls per cycle (target: 10 or fewer in
steady state), pipeline latency per market excluding the model call (target: p99 under 2 ms)
and the whole cycle's time, broken down by step. Setup: a local exchange (no replay) in a
separate process on 127.0.0.1 listing ``--markets`` active markets across ``markets / 10``
events, quoted by a maker account and partly traded (see ``cycle_exchange.py``); an engine
built exactly as ``kalshi-core run`` builds it (``App.create()`` with the built-in plugins
only, default settings, ``build_engine``) over a ``ClientGateway`` on the real HTTP client
signed with the exchange's dev key; a migrated SQLite database in a temporary directory.

The first cycle warms up (every market is new: forecasts, orders, decisions stored); the
following cycles are the steady state. Reference figures measured in the same run (listing
the markets through the client, one pure-Python validator pass, one SQLite transaction) let
the numbers be compared across machines.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
from cycle_exchange import ExchangeInfo, serving_exchange
from cycle_report import References, print_report
from cycle_timing import (
    CycleResult,
    GcPauses,
    PhaseClock,
    TimedEngine,
    TimedForecaster,
    TimedGateway,
    TimedPipeline,
    api_calls,
)
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from kalshi_core.app import App
from kalshi_core.client import KalshiClient, Signer
from kalshi_core.client.transport import Call
from kalshi_core.clock import SystemClock
from kalshi_core.engine.cycle import Engine
from kalshi_core.engine.pipeline_steps import screen_market
from kalshi_core.engine.session import build_engine, open_database, settle_gc
from kalshi_core.models import Market
from kalshi_core.money import DOLLAR
from kalshi_core.protocols import PipelineContext, Portfolio
from kalshi_core.storage.database import Database
from kalshi_core.venues.base import OpenVenue, WallTime
from kalshi_core.venues.client_gateway import MARKETS_PAGE, ClientGateway
from kalshi_core.wire import many_from_wire

# ---- setup ----------------------------------------------------------------------------------


def make_app(directory: Path) -> App:
    """Default settings, built-in plugins only, the database in ``directory``."""
    os.environ["KALSHI_LOAD_PLUGINS"] = "builtin"
    os.environ["KALSHI_DATABASE__URL"] = f"sqlite+aiosqlite:///{directory / 'bench.sqlite3'}"
    app = App.create()
    app.check()
    return app


def make_client(app: App, info: ExchangeInfo) -> KalshiClient:
    """The ``kalshi`` data source as ``kalshi-core run`` builds it (default rate-limit tier)."""
    signer = Signer.from_file(info.api_key_id, info.private_key_path)
    client: KalshiClient = app.build(
        "data_sources", "kalshi", base_url=info.base_url, signer=signer
    )
    return client


def instrument(engine: Engine, client: KalshiClient, full_listing_every: int = 1) -> TimedEngine:
    """The engine ``build_engine`` made, with timing shims around its steps (same behaviour)."""
    phases = PhaseClock()
    pipeline = TimedPipeline(
        validators=engine.pipeline.validators,
        forecasters=[TimedForecaster(f) for f in engine.pipeline.forecasters],
        strategies=engine.pipeline.strategies,
    )
    fields = {(f.alias or f.name): getattr(engine, f.name) for f in attrs.fields(Engine) if f.init}
    gateway = TimedGateway(client, phases, full_listing_every=full_listing_every)
    fields.update(gateway=gateway, pipeline=pipeline, phases=phases)
    return TimedEngine(**fields)


async def stored_decisions(database: Database) -> int:
    async with database.sessions() as session:
        return int((await session.scalar(text("SELECT count(*) FROM decisions"))) or 0)


# ---- the cycles -----------------------------------------------------------------------------


async def run_cycles(engine: TimedEngine, client: KalshiClient, cycles: int) -> list[CycleResult]:
    with GcPauses().installed() as pauses:
        return [await run_cycle(engine, client, pauses) for _ in range(cycles)]


async def run_cycle(engine: TimedEngine, client: KalshiClient, pauses: GcPauses) -> CycleResult:
    before = client.metrics.snapshot()
    rows_before = await stored_decisions(engine.database)
    pauses.take()
    started = time.perf_counter()
    report = await engine.run_cycle()
    seconds = time.perf_counter() - started
    gc_pauses = pauses.take()
    after = client.metrics.snapshot()
    return CycleResult(
        report=report,
        seconds=seconds,
        phases=engine.phases.take(),
        calls=api_calls(before, after),
        rate_limit_wait=after["rate_limit_wait_seconds"] - before["rate_limit_wait_seconds"],
        latencies=engine.pipeline_latencies.take(),
        decisions_stored=await stored_decisions(engine.database) - rows_before,
        gc_pauses=gc_pauses,
    )


# ---- references -----------------------------------------------------------------------------


async def list_reference(client: KalshiClient) -> tuple[float, int, list[Market]]:
    """Listing every open market through the client, best of three: the floor for ingest."""
    best, calls, markets = float("inf"), 0, []
    for _ in range(3):
        before = client.metrics.snapshot()
        started = time.perf_counter()
        markets = [m async for m in client.iter_markets(status="open", limit=MARKETS_PAGE)]
        best = min(best, time.perf_counter() - started)
        calls = sum(api_calls(before, client.metrics.snapshot()).values())
    return best, calls, markets


async def convert_reference(client: KalshiClient) -> float:
    """Turning the listing's JSON into ``Market`` objects (cattrs), without the HTTP."""
    pages: list[Any] = []
    cursor = ""
    while True:
        params: tuple[tuple[str, str], ...] = (("status", "open"), ("limit", str(MARKETS_PAGE)))
        if cursor:
            params = (*params, ("cursor", cursor))
        call = Call(method="GET", path="/markets", endpoint="GET /markets", params=params)
        pages.append(await client.transport.get(call))
        cursor = pages[-1].get("cursor") or ""
        if not cursor:
            break
    started = time.perf_counter()
    for page in pages:
        many_from_wire(page, Market, where="GET /markets", key="markets")
    return time.perf_counter() - started


def validator_reference(engine: Engine, markets: Sequence[Market]) -> tuple[float, list[float]]:
    """One candidate-stage pass of the engine's validators over every market, pure Python,
    as on a first cycle (nothing analysed before, empty portfolio)."""
    context = PipelineContext(
        now=engine.clock.now(), portfolio=Portfolio(cash=10_000 * DOLLAR), last_analysis={}
    )
    validators = engine.pipeline.validators
    per_market = []
    started = time.perf_counter()
    for market in markets:
        begun = time.perf_counter()
        screen_market(market, validators, context)
        per_market.append(time.perf_counter() - begun)
    return time.perf_counter() - started, per_market


async def transaction_reference(database: Database, rounds: int = 200) -> float:
    """Median seconds of one empty write transaction (BEGIN; SELECT 1; COMMIT) on SQLite."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        async with database.sessions.begin() as session:
            await session.execute(text("SELECT 1"))
        times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2]


async def references(app: App, info: ExchangeInfo, engine: Engine) -> References:
    async with make_client(app, info) as client:
        list_seconds, list_calls, markets = await list_reference(client)
        convert_seconds = await convert_reference(client)
    total, per_market = validator_reference(engine, markets)
    return References(
        list_seconds=list_seconds,
        list_calls=list_calls,
        convert_seconds=convert_seconds,
        validator_total_seconds=total,
        validator_per_market=per_market,
        transaction_seconds=await transaction_reference(engine.database),
    )


# ---- main -----------------------------------------------------------------------------------


async def benchmark(markets: int, cycles: int, full_listing_every: int = 1) -> list[CycleResult]:
    with tempfile.TemporaryDirectory(prefix="kalshi-bench-") as temp:
        directory = Path(temp)
        app = make_app(directory)
        with serving_exchange(markets, directory / "keys") as info:
            database = await open_database(app)
            try:
                async with make_client(app, info) as client:
                    clock = SystemClock()
                    venue = OpenVenue(
                        gateway=ClientGateway(client, full_listing_every=full_listing_every),
                        clock=clock,
                        description="bench",
                        time=WallTime(clock),
                    )
                    built = build_engine(app, venue, database, "bench")
                    engine = instrument(built, client, full_listing_every)
                    settle_gc()  # as `kalshi-core run` does once the engine is built
                    results = await run_cycles(engine, client, cycles)
                    await engine.release()
                refs = await references(app, info, engine)
            finally:
                await database.close()
    print_report(app, info, results, refs)
    return results


def _steady(results: Sequence[CycleResult]) -> tuple[float, float]:
    """(median steady-state cycle seconds, mean API calls per steady cycle)."""
    steady = results[1:]
    seconds = sorted(r.seconds for r in steady)
    calls = [sum(r.calls.values()) for r in steady]
    return seconds[len(seconds) // 2], sum(calls) / len(calls)


def print_scaling(by_size: dict[int, list[CycleResult]]) -> None:
    """One row per size: how cycle time and calls grow with the open markets."""
    table = Table(title="cycle scaling (steady state: cycles after the first)")
    for column in ("markets", "cycle s", "ms / market", "x markets", "x cycle time", "calls"):
        table.add_column(column, justify="right")
    smallest = min(by_size)
    base_seconds, _ = _steady(by_size[smallest])
    for markets in sorted(by_size):
        seconds, calls = _steady(by_size[markets])
        table.add_row(
            f"{markets:,}",
            f"{seconds:.3f}",
            f"{1000 * seconds / markets:.3f}",
            f"{markets / smallest:.1f}",
            f"{seconds / base_seconds:.1f}",
            f"{calls:.1f}",
        )
    Console().print(table)


async def benchmark_sizes(sizes: Sequence[int], cycles: int, full_listing_every: int) -> None:
    by_size = {markets: await benchmark(markets, cycles, full_listing_every) for markets in sizes}
    if len(by_size) > 1:
        print_scaling(by_size)


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--markets {text!r}: expected N or N,N,...") from None
    if any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"--markets {text!r}: every size must be at least 1")
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--markets", type=_sizes, default=[5000], help="open markets listed (N or N,N,...)"
    )
    parser.add_argument("--cycles", type=int, default=4, help="cycles run (the first warms up)")
    parser.add_argument(
        "--full-listing-every",
        type=int,
        default=1,
        help="run.full_listing_every: a full listing every N cycles, min_updated_ts between",
    )
    args = parser.parse_args()
    if args.cycles < 2:
        parser.error("need at least 2 cycles (one warm-up, one steady state)")
    asyncio.run(benchmark_sizes(args.markets, args.cycles, args.full_listing_every))


if __name__ == "__main__":
    main()
