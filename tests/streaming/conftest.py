"""Fixtures: the local exchange of tests/exchange_stream (its feed ticks only when told) and a
:class:`StreamingSource` on its real WebSocket feed that ticks it on each ``catch_up``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from kalshi_core.client import Signer
from kalshi_core.client.stream import stream_url
from kalshi_core.client.stream_feed import StreamingSource
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.exchange.websocket import StreamFeed
from tests.exchange_stream import conftest as stream_fixtures

# the local exchange and its client, as tests/exchange_stream builds them
clock = stream_fixtures.clock
venue = stream_fixtures.venue
key_dir = stream_fixtures.key_dir
exchange = stream_fixtures.exchange
feed = stream_fixtures.feed
signer = stream_fixtures.signer
client = stream_fixtures.client

WAIT = 10.0  # seconds a test waits for a reconnect before it fails (never reached when fine)


class Sleeps:
    """An injected sleep: records every backoff delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.gate = asyncio.Event()
        self.gate.set()

    def hold(self) -> None:
        """Reconnects wait (inside the backoff) until :meth:`release`."""
        self.gate.clear()

    def release(self) -> None:
        self.gate.set()

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await self.gate.wait()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def make_source(
    exchange: LocalExchange, signer: Signer, sleeps: Sleeps, **options: object
) -> StreamingSource:
    options.setdefault("heartbeat_seconds", 0)
    return StreamingSource(
        stream_url(exchange.base_url),
        signer,
        tick=exchange.app.feed.tick,
        sleep=sleeps,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
async def source(
    exchange: LocalExchange, signer: Signer, sleeps: Sleeps
) -> AsyncIterator[StreamingSource]:
    async with make_source(exchange, signer, sleeps) as made:
        assert await made.wait_live(WAIT)
        yield made


async def drop_connections(feed: StreamFeed) -> None:
    """Close every client connection from the server's side."""
    feed.drop_connections()
    await asyncio.sleep(0)


def lose_next_delta(feed: StreamFeed) -> int:
    """The next book delta each client is sent is lost on the way: the server skips its
    sequence number (as a lossy network would). Returns the connections affected."""
    feed.lose_messages(1, "orderbook_delta")
    return len(feed.connections)
