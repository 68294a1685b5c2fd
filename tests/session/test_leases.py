"""A run on its own in-process exchange never contends for market leases: other runs'
leases on the same database (live or killed) change nothing it scans or stores."""

from __future__ import annotations

import os
import shutil
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


Row = tuple[object, ...]


def stored_rows(path: Path, run_id: str) -> tuple[list[Row], list[Row]]:
    """Run ``run_id``'s orders and fills."""
    with sqlite3.connect(path) as db:
        orders = db.execute(
            "select * from orders where run_id = ? order by client_order_id", (run_id,)
        ).fetchall()
        fills = db.execute("select * from fills where run_id = ? order by fill_id", (run_id,))
        return orders, fills.fetchall()


def without_ids(orders: list[Row], fills: list[Row]) -> tuple[list[Row], list[Row]]:
    """What a run did, less the ids derived from its run id (row ids, client and exchange
    order ids, decision ids, fill ids, the payload quoting them)."""
    return (
        sorted(row[4:19] + row[20:22] for row in orders),
        sorted(row[3:12] for row in fills),
    )


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


async def test_other_runs_leases_and_orders_change_nothing_a_run_on_its_own_exchange_does(
    trading: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run alone, then the same run on a database holding that first run's rows (orders
    still resting, as a run trading beside it leaves them) and other workers' leases on every
    market it traded: it scans and stores the same, and leaves the other run's rows alone."""
    alone = await Session(App.create(), SessionOptions(cycles=CYCLES)).run()
    first = stored_rows(trading / "run.sqlite3", f"{alone_run_id(trading)}")
    orders, fills = first
    traded = sorted({str(row[5]) for row in orders})  # the orders' tickers
    assert fills
    assert len(traded) > 1
    assert any(row[4] == "resting" for row in orders)  # another run's order on its own book
    shared = trading / "shared.sqlite3"
    shutil.copy(trading / "run.sqlite3", shared)
    monkeypatch.setenv("KALSHI_DATABASE__URL", f"sqlite+aiosqlite:///{shared}")
    owners = await claim_for_others(traded)
    session = Session(App.create(), SessionOptions(cycles=CYCLES))
    report = await session.run()
    assert report.markets_scanned == alone.markets_scanned
    assert report.leased_elsewhere == 0
    assert without_ids(*stored_rows(shared, session.run_id)) == without_ids(*first)
    assert stored_rows(shared, alone_run_id(trading)) == first  # untouched
    with sqlite3.connect(shared) as db:
        held = db.execute("select worker_id, ticker from market_leases").fetchall()
    assert sorted(held) == sorted((o, t) for o, tickers in owners.items() for t in tickers)


def alone_run_id(directory: Path) -> str:
    with sqlite3.connect(directory / "run.sqlite3") as db:
        (run_id,) = db.execute("select run_id from runs").fetchone()
    return str(run_id)
