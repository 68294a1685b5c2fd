"""Latency of the storage hot queries at realistic table sizes, on SQLite and PostgreSQL.

    python benchmarks/bench_storage.py --decisions 100000 --orders 10000 --repeat 2000

The issue's target is 1M decisions / 100k orders with p99 < 2 ms on SQLite. PostgreSQL is
measured too when ``KALSHI_TEST_POSTGRES_URL`` is set (its schema is dropped and recreated).
Rows are bulk-inserted with Core (the repositories would take far longer to fill 1M rows);
the measured calls go through the repositories, exactly as the engine makes them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from kalshi_core.builtin.sqlite_storage import SQLiteBackend
from kalshi_core.storage import migrate
from kalshi_core.storage.database import Database
from kalshi_core.storage.schema import AiSpendRow, DecisionRow, OrderRow, PositionRow

try:
    from kalshi_plugin_postgres.plugin import PostgresBackend
except ImportError:  # the plugin is optional: benchmark SQLite only
    PostgresBackend = None  # type: ignore[assignment,misc]

START = datetime(2026, 1, 1, tzinfo=UTC)
MARKETS = 2_000
BATCH = 5_000


def ticker(i: int) -> str:
    return f"KXBENCH-26-M{i % MARKETS:05d}"


def decision_rows(n: int) -> list[dict[str, Any]]:
    return [
        {
            "decision_id": f"d-{i}",
            "ticker": ticker(i),
            "created_time": START + timedelta(seconds=i),
            "accepted": i % 3 == 0,
            "forecast_id": None,
        }
        for i in range(n)
    ]


def order_rows(n: int) -> list[dict[str, Any]]:
    states = ["executed", "canceled", "canceled", "executed", "resting"]
    return [
        {
            "client_order_id": f"c-{i}",
            "order_id": f"o-{i}",
            "decision_id": f"d-{i}",
            "state": states[i % len(states)],
            "ticker": ticker(i),
            "side": "yes",
            "action": "buy",
            "price": 4200,
            "count": 100,
            "strategy": "bench",
            "time_in_force": "good_till_canceled",
            "post_only": False,
            "reduce_only": False,
            "reason": "",
            "expected_value": 0,
            "fill_count": 0,
            "remaining_count": 100,
            "error": "",
            "exchange_payload": None,
            "created_time": START + timedelta(seconds=i),
            "updated_time": START + timedelta(seconds=i),
        }
        for i in range(n)
    ]


def other_rows(n: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    positions = [
        {
            "ticker": ticker(i),
            "position": 100 if i % 20 == 0 else 0,
            "market_exposure": 0,
            "total_traded": 0,
            "realized_pnl": 0,
            "fees_paid": 0,
            "last_updated_ts": START,
        }
        for i in range(MARKETS)
    ]
    spend = [
        {
            "created_time": START + timedelta(seconds=i * 10),
            "model": "m",
            "purpose": "forecast",
            "ticker": None,
            "input_tokens": 0,
            "output_tokens": 0,
            "cost": 3,
        }
        for i in range(n // 10)
    ]
    return positions, spend


async def fill(engine: AsyncEngine, n_decisions: int, n_orders: int) -> None:
    positions, spend = other_rows(n_decisions)
    tables = [
        (DecisionRow, decision_rows(n_decisions)),
        (OrderRow, order_rows(n_orders)),
        (PositionRow, positions),
        (AiSpendRow, spend),
    ]
    for model, rows in tables:
        for start in range(0, len(rows), BATCH):
            async with engine.begin() as connection:
                await connection.execute(insert(model), rows[start : start + BATCH])
    async with engine.begin() as connection:
        await connection.execute(text("ANALYZE"))


async def measure(call: Callable[[], Awaitable[object]], repeat: int) -> tuple[float, float]:
    for _ in range(min(50, repeat)):
        await call()
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return statistics.median(samples), p99


def hot_calls(db: Database, n_decisions: int) -> dict[str, Callable[[], Awaitable[object]]]:
    rng = random.Random(7)
    end = START + timedelta(seconds=n_decisions)

    def window() -> Awaitable[object]:
        until = START + timedelta(seconds=rng.randrange(3600, n_decisions + 3600))
        return db.decisions.for_market(
            ticker(rng.randrange(MARKETS)), until - timedelta(hours=6), until, 50
        )

    return {
        "open positions": db.positions.open,
        "resting orders by market": lambda: db.orders.live_for_market(
            ticker(rng.randrange(MARKETS))
        ),
        "decisions by market+time": window,
        "AI spend today": lambda: db.ai_spend.total_since(end - timedelta(days=1)),
    }


async def bench(name: str, engine: AsyncEngine, args: argparse.Namespace) -> list[tuple[str, ...]]:
    await migrate.upgrade(engine)
    began = time.perf_counter()
    await fill(engine, args.decisions, args.orders)
    print(f"{name}: filled in {time.perf_counter() - began:.1f} s")
    db = Database(engine)
    rows = []
    for label, call in hot_calls(db, args.decisions).items():
        p50, p99 = await measure(call, args.repeat)
        rows.append((name, label, f"{p50:.3f}", f"{p99:.3f}"))
    await db.close()
    return rows


async def reset_postgres(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))


async def main(args: argparse.Namespace) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
        rows += await bench("sqlite", SQLiteBackend().create_engine(url, {}), args)
    pg_url = os.environ.get("KALSHI_TEST_POSTGRES_URL")
    if pg_url and PostgresBackend is not None:
        engine = PostgresBackend().create_engine(pg_url, {})
        await reset_postgres(engine)
        rows += await bench("postgres", engine, args)
    print(f"\n{args.decisions:,} decisions, {args.orders:,} orders, {args.repeat} calls each")
    print(f"{'backend':<10}{'hot query':<28}{'p50 ms':>10}{'p99 ms':>10}")
    for backend, label, p50, p99 in rows:
        print(f"{backend:<10}{label:<28}{p50:>10}{p99:>10}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=1_000)
    asyncio.run(main(parser.parse_args()))
