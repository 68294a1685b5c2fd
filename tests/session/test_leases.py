"""A run on its own in-process exchange never contends for market leases: other runs'
leases on the same database (live or killed) change nothing it scans or stores."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kalshi_core.app import App
from kalshi_core.engine.session import Session, SessionOptions, open_database

from .test_run import trading  # noqa: F401  (the fixture)

CYCLES = 120  # enough recorded hours to trade (as in test_run.py)


def dead_pid() -> int:
    """The pid of a process that has exited and been waited for (so it no longer exists)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def stored_rows(path: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with sqlite3.connect(path) as db:
        orders = db.execute("select * from orders order by client_order_id").fetchall()
        fills = db.execute("select * from fills order by fill_id").fetchall()
    return orders, fills


async def claim_for_others(tickers: list[str]) -> dict[str, frozenset[str]]:
    """Lease ``tickers`` in the configured database: half to a running process's default
    worker id (another run still trading), half to a killed one's."""
    host = socket.gethostname()
    half = len(tickers) // 2
    owners = {
        f"{host}:{os.getppid()}": frozenset(tickers[:half]),
        f"{host}:{dead_pid()}": frozenset(tickers[half:]),
    }
    database = await open_database(App.create())
    try:
        for owner, held in owners.items():
            assert await database.leases.claim(held, owner) == held
    finally:
        await database.close()
    return owners


async def test_other_runs_leases_change_nothing_a_run_on_its_own_exchange_does(
    trading: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alone = await Session(App.create(), SessionOptions(cycles=CYCLES)).run()
    orders, fills = stored_rows(trading / "run.sqlite3")
    traded = sorted({str(row[5]) for row in orders})  # the orders' tickers
    assert orders
    assert fills
    assert len(traded) > 1
    shared = trading / "shared.sqlite3"
    monkeypatch.setenv("KALSHI_DATABASE__URL", f"sqlite+aiosqlite:///{shared}")
    owners = await claim_for_others(traded)
    report = await Session(App.create(), SessionOptions(cycles=CYCLES)).run()
    assert report.markets_scanned == alone.markets_scanned
    assert report.leased_elsewhere == 0
    assert stored_rows(shared) == (orders, fills)
    with sqlite3.connect(shared) as db:
        held = db.execute("select worker_id, ticker from market_leases").fetchall()
    assert sorted(held) == sorted((o, t) for o, tickers in owners.items() for t in tickers)
