"""The test process's side: serve a local exchange, start worker processes and talk to them,
and check the database against the exchange."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import attrs
import pytest

from kalshi_core.clock import SystemClock
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.exchange.venue import Venue
from kalshi_core.models import Order, OrderStatus
from kalshi_core.money import DOLLAR
from kalshi_core.storage.database import Database
from kalshi_core.storage.records import OrderState, StoredOrder
from tests.multiworker.support import (
    DATABASE_URL_ENV,
    MAKER,
    ROOT,
    TRADER,
    ApiKey,
    list_active,
    quote,
    stored_orders,
)

#: Only a guard against a hung worker, not a speed check: a report line comes after the
#: worker's whole run (about 10 s alone), which took over 120 s with coverage on a 2-core
#: machine running several suites at once.
LINE_TIMEOUT = 600.0
STATE_OF_STATUS = {
    OrderStatus.RESTING: OrderState.RESTING,
    OrderStatus.EXECUTED: OrderState.EXECUTED,
    OrderStatus.CANCELED: OrderState.CANCELED,
}


@contextlib.asynccontextmanager
async def serve_exchange(
    tickers: Sequence[str], depth: int, key: ApiKey
) -> AsyncIterator[LocalExchange]:
    """A local exchange on 127.0.0.1 with ``tickers`` active and quoted ``depth`` contracts deep
    by a maker, and the trader account reachable with ``key``."""
    venue = Venue(SystemClock())
    list_active(venue, tickers)
    venue.deposit(MAKER, 10_000_000 * DOLLAR)
    for ticker in tickers:
        quote(venue, ticker, depth)
    exchange = LocalExchange(venue)
    exchange.add_account(key.key_id, TRADER, key.public_pem, 100_000 * DOLLAR)
    async with exchange.serving("127.0.0.1", 0):
        yield exchange


@attrs.define
class Worker:
    """One worker process, spoken to line by line over its stdin and stdout."""

    name: str
    process: asyncio.subprocess.Process
    stderr_path: Path

    def _stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")[-4000:]

    async def line(self) -> str:
        assert self.process.stdout is not None
        raw = await asyncio.wait_for(self.process.stdout.readline(), LINE_TIMEOUT)
        if not raw:
            code = await self.process.wait()
            pytest.fail(
                f"worker {self.name} exited ({code}) without a line; stderr:\n{self._stderr()}"
            )
        return raw.decode().strip()

    async def send(self, word: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(word.encode() + b"\n")
        await self.process.stdin.drain()

    async def exit_code(self) -> int:
        return await asyncio.wait_for(self.process.wait(), LINE_TIMEOUT)

    def stop(self) -> None:
        """Kill a worker the test is giving up on (its own process, by its pid)."""
        if self.process.returncode is None:
            self.process.kill()


async def start_worker(
    module: str, arguments: Sequence[str], database_url: str, log_dir: Path, name: str
) -> Worker:
    """``python -m tests.multiworker.<module> ...`` from the repository root."""
    stderr_path = log_dir / f"{name}.stderr"
    with stderr_path.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            f"tests.multiworker.{module}",
            *arguments,
            cwd=ROOT,
            env={**os.environ, DATABASE_URL_ENV: database_url},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
        )
    return Worker(name, process, stderr_path)


def client_arguments(exchange: LocalExchange, key: ApiKey) -> list[str]:
    return [
        "--base-url",
        exchange.base_url,
        "--key-id",
        key.key_id,
        "--key-file",
        str(key.private_key_path),
    ]


def _stored_view(order: StoredOrder) -> tuple[OrderState, int, int]:
    return (order.state, order.fill_count, order.remaining_count)


async def assert_consistent(database: Database, venue: Venue, tickers: Sequence[str]) -> None:
    """The database tells the same story as the exchange: one order per client_order_id on the
    exchange, each stored once with the venue's id, state and counts; the same fills; and no
    order left in a pending state."""
    on_venue = venue.orders(TRADER)
    duplicates = [c for c, n in Counter(o.client_order_id for o in on_venue).items() if n > 1]
    assert duplicates == [], "client_order_ids placed more than once on the exchange"
    stored = await stored_orders(database)
    assert [o.client_order_id for o in stored if o.state.value.startswith("pending")] == []
    _assert_orders_match(stored, on_venue)
    stored_fills = [f for t in tickers for f in await database.fills.for_market(t)]
    assert sorted(f.fill_id for f in stored_fills) == sorted(f.fill_id for f in venue.fills(TRADER))


def _assert_orders_match(stored: Sequence[StoredOrder], on_venue: Sequence[Order]) -> None:
    """Each exchange order stored once, with the venue's id, state and counts."""
    by_id = {o.client_order_id: o for o in stored}
    assert len(by_id) == len(stored)
    placed = {o.client_order_id: o.order_id for o in stored if o.order_id}
    assert placed == {o.client_order_id: o.order_id for o in on_venue}
    mismatched = [
        (order.client_order_id, venue_view, stored_view)
        for order in on_venue
        if (venue_view := (STATE_OF_STATUS[order.status], order.fill_count, order.remaining_count))
        != (stored_view := _stored_view(by_id[order.client_order_id]))
    ]
    assert mismatched == [], (
        f"{len(mismatched)} orders differ (id, venue, stored): {mismatched[:5]}"
    )
