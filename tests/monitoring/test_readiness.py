"""/readyz follows the real dependencies: the local exchange stopping and coming back."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from kalshi_core import signals
from kalshi_core.client import KalshiClient, Signer
from kalshi_core.client.transport import RetryPolicy
from kalshi_core.clock import ManualClock
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.exchange.venue import Venue
from kalshi_core.models import Balance
from kalshi_core.monitoring.health import Health
from kalshi_core.monitoring.metrics import KalshiMetrics
from kalshi_core.monitoring.server import MonitoringState, serve_monitoring
from kalshi_core.monitoring.session import probes
from kalshi_core.storage.database import Database

START = datetime(2026, 1, 2, 15, tzinfo=UTC)


class WallTimer:
    """A monotonic timer the test moves by hand."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def now(self) -> float:
        return self.seconds


class ClientVenue:
    """The one gateway call the venue probe makes, over the real HTTP client."""

    def __init__(self, client: KalshiClient) -> None:
        self.client = client

    async def balance(self) -> Balance:
        return await self.client.get_balance()


@pytest.fixture
def exchange(tmp_path: Path) -> LocalExchange:
    venue = Venue(ManualClock(START))
    return LocalExchange.create(venue=venue, key_dir=tmp_path / "keys")


async def _ready(http: httpx.AsyncClient, url: str) -> tuple[int, Any]:
    response = await http.get(f"{url}/readyz")
    return response.status_code, response.json()


@pytest.fixture
async def health(
    exchange: LocalExchange, kalshi_database: Database
) -> AsyncIterator[tuple[Health, WallTimer, KalshiClient]]:
    clock = ManualClock(START)
    wall = WallTimer()
    async with exchange.serving("127.0.0.1", 0):
        signer = Signer.from_file(exchange.api_key_id, str(exchange.private_key_path))
        client = KalshiClient(exchange.base_url, signer=signer, retry=RetryPolicy(max_attempts=1))
        engine = SimpleNamespace(gateway=ClientVenue(client), database=kalshi_database)
        made = Health(clock, timedelta(minutes=10), probes(engine), probe_timeout=5, timer=wall.now)
        with made:
            yield made, wall, client
        await client.aclose()


async def test_readyz_follows_the_exchange_and_the_cycle(
    exchange: LocalExchange, health: tuple[Health, WallTimer, KalshiClient]
) -> None:
    made, wall, _ = health
    port = int(exchange.base_url.split(":")[2].split("/")[0])
    state = MonitoringState(metrics=KalshiMetrics(made.clock), health=made)
    async with serve_monitoring({"port": 0}, state) as url, httpx.AsyncClient() as http:
        assert url is not None
        assert await _ready(http, url) == (
            503,
            {"status": "not ready", "failed": {"cycle": "no cycle completed yet"}},
        )
        signals.cycle_completed.send(object())
        assert await _ready(http, url) == (200, {"status": "ready"})

        await _stop(exchange)
        status, body = await _ready(http, url)
        assert status == 503
        assert list(body["failed"]) == ["venue"]
        assert body["failed"]["venue"].startswith("unreachable (")

        async with exchange.serving("127.0.0.1", port):
            assert await _ready(http, url) == (200, {"status": "ready"})

            wall.seconds += 660
            status, body = await _ready(http, url)
            assert status == 503
            assert body["failed"] == {"cycle": "last cycle 660s ago (limit 600s)"}


async def _stop(exchange: LocalExchange) -> None:
    """Stop serving while the test keeps the exchange object (to serve it again)."""
    exchange.stop()
    await exchange.wait_stopped()


async def test_an_unreachable_database_is_named_without_its_url() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    url = f"postgresql+asyncpg://bot:SECRET-PW@127.0.0.1:{port}/kalshi"
    database = Database(create_async_engine(url))

    class Venue:
        async def balance(self) -> None:
            return None

    try:
        engine = SimpleNamespace(gateway=Venue(), database=database)
        made = Health(ManualClock(START), timedelta(minutes=10), probes(engine))
        signals.cycle_completed.send(object())  # not subscribed: the cycle stays missing
        readiness = await made.readiness()
    finally:
        await database.close()
    assert not readiness.ready
    assert dict(readiness.failures) == {
        "database": "unreachable (StorageError)",
        "cycle": "no cycle completed yet",
    }


async def test_a_hanging_probe_times_out() -> None:
    never = asyncio.Event()

    async def hang() -> None:
        await never.wait()

    made = Health(ManualClock(START), timedelta(minutes=10), {"cache": hang}, probe_timeout=0.01)
    with made:
        signals.cycle_completed.send(object())
        readiness = await made.readiness()
    assert dict(readiness.failures) == {"cache": "no answer within 0.01s"}
