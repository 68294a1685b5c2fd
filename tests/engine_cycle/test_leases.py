"""Market leases held by other workers: a dead one's taken over at once, a live one's
markets skipped and reported, none at all for a venue in this process (real SQLite)."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys

import pytest

from kalshi_core.clock import ManualClock
from kalshi_core.engine.ownership import provably_dead
from kalshi_core.exchange.venue import Venue
from kalshi_core.storage.database import Database

from .conftest import TICKERS, make_engine

HOST = socket.gethostname()


def dead_pid() -> int:
    """The pid of a process that has exited and been waited for (so it no longer exists)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_only_a_default_id_of_this_host_with_no_such_process_is_provably_dead() -> None:
    gone = dead_pid()
    assert provably_dead(f"{HOST}:{gone}")
    assert not provably_dead(f"{HOST}:{os.getppid()}")  # alive
    assert not provably_dead(f"{HOST}:{os.getpid()}")  # this process
    assert not provably_dead(f"elsewhere-{HOST}:{gone}")  # another host: nothing proven
    assert not provably_dead("bot-a")  # a configured id: nothing proven
    assert not provably_dead(f"{HOST}:not-a-pid")


async def test_a_killed_workers_leases_are_taken_over_at_once(
    venue: Venue, database: Database, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    dead = f"{HOST}:{dead_pid()}"
    assert await database.leases.claim(TICKERS, dead) == frozenset(TICKERS)  # then it died
    engine = make_engine(venue, database, clock)
    with caplog.at_level(logging.WARNING):
        report = await engine.run_cycle()
    assert report.markets == len(TICKERS)
    assert report.leased_elsewhere == 0
    assert await database.leases.owned(engine.worker_id) == frozenset(TICKERS)
    assert await database.leases.owned(dead) == frozenset()
    assert f"taking over {len(TICKERS)} market lease(s) of worker {dead}" in caplog.text


async def test_markets_leased_by_a_live_worker_are_skipped_and_reported(
    venue: Venue, database: Database, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    live = f"{HOST}:{os.getppid()}"  # a process that is running: its leases hold
    held = frozenset(TICKERS[:2])
    assert await database.leases.claim(held, live) == held
    engine = make_engine(venue, database, clock)
    with caplog.at_level(logging.WARNING):
        first = await engine.run_cycle()
        second = await engine.run_cycle()
    assert first.markets == second.markets == len(TICKERS) - len(held)
    assert first.leased_elsewhere == second.leased_elsewhere == len(held)
    assert engine.leased_elsewhere == {live: len(held)}
    warnings = [r.getMessage() for r in caplog.records if "skipped: leased by" in r.getMessage()]
    assert warnings == [
        f"2 market(s) skipped: leased by other worker(s) {live} (2) until "
        "their leases expire (run.lease_seconds) unless renewed"
    ]
    assert await database.leases.owned(live) == held  # never taken from a live worker


async def test_an_engine_on_an_in_process_venue_neither_reads_nor_writes_leases(
    venue: Venue, database: Database, clock: ManualClock
) -> None:
    other = "bot-b"
    assert await database.leases.claim(TICKERS, other) == frozenset(TICKERS)
    engine = make_engine(venue, database, clock, shared_venue=False)
    report = await engine.run_cycle()
    assert report.markets == len(TICKERS)
    assert report.leased_elsewhere == 0
    await engine.release()
    assert await database.leases.owned(engine.worker_id) == frozenset()
    assert await database.leases.owned(other) == frozenset(TICKERS)  # untouched
