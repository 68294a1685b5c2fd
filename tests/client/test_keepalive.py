"""Connections are reused: sequential calls share one, and a burst's connections stay open.

The exchange sees which client port each request came from; a new port is a new connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from kalshi_core.client import KalshiClient, OrderRequest, RateLimiter, Signer
from kalshi_core.client.transport import DEFAULT_LIMITS
from kalshi_core.exchange import Venue
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.models import BookSide
from kalshi_core.money import CONTRACT

from .conftest import BALANCE, TICKERS

POOL = DEFAULT_LIMITS.max_connections
BURST = 2 * POOL  # more reads than connections: the rest wait for one to be free


class Ports:
    """ASGI wrapper: the client port of every request, and a gate holding a burst until
    ``wanted`` requests are at the server at once (so the burst needs that many connections)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[int] = []
        self.wanted = 0
        self.all_arrived = asyncio.Event()
        self.gate = asyncio.Event()
        self.gate.set()

    def hold_until(self, wanted: int) -> None:
        self.seen.clear()
        self.wanted = wanted
        self.all_arrived.clear()
        self.gate.clear()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.seen.append(scope["client"][1])
            if len(self.seen) >= self.wanted:
                self.all_arrived.set()
            await self.gate.wait()
        await self.app(scope, receive, send)


@pytest.fixture
async def served(venue: Venue, key_dir: Path) -> AsyncIterator[tuple[LocalExchange, Ports]]:
    ex = LocalExchange.create(venue=venue, key_dir=key_dir, starting_balance=BALANCE)
    ports = Ports(ex.app)
    ex.app = ports  # type: ignore[assignment]  # served as given: any ASGI app will do
    async with ex.serving():
        try:
            yield ex, ports
        finally:
            ports.gate.set()


def _client(ex: LocalExchange) -> KalshiClient:
    assert ex.private_key_path is not None
    signer = Signer.from_file(ex.api_key_id, ex.private_key_path)
    limiter = RateLimiter.for_rates(10_000, 10_000)
    return KalshiClient(ex.base_url, signer=signer, rate_limiter=limiter)


async def test_sequential_reads_and_writes_share_one_connection(
    served: tuple[LocalExchange, Ports],
) -> None:
    ex, ports = served
    async with _client(ex) as client:
        for index in range(10):
            await client.get_market(TICKERS[index % len(TICKERS)])
            order = OrderRequest(
                ticker=TICKERS[0],
                book_side=BookSide.BID,
                price=100,
                count=CONTRACT,
                client_order_id=f"keepalive-{index}",
            )
            ack = await client.create_order(order)
            await client.cancel_order(ack.order_id)
    assert len(ports.seen) == 30
    assert len(set(ports.seen)) == 1


async def _burst(client: KalshiClient, ports: Ports) -> set[int]:
    """``BURST`` different reads at once, the first ``POOL`` held at the server until all of
    them are there (so the pool opens every connection it may); the ports they came from."""
    ports.hold_until(POOL)
    reads = [
        asyncio.ensure_future(client.get_orderbook(TICKERS[0], depth=depth + 1))
        for depth in range(BURST)
    ]
    await ports.all_arrived.wait()
    ports.gate.set()
    books = await asyncio.gather(*reads)
    assert {book.ticker for book in books} == {TICKERS[0]}
    assert len(ports.seen) == BURST
    return set(ports.seen)


async def test_a_burst_keeps_its_connections_for_the_next(
    served: tuple[LocalExchange, Ports],
) -> None:
    ex, ports = served
    async with _client(ex) as client:
        first = await _burst(client, ports)
        second = await _burst(client, ports)
    assert len(first) == POOL  # the pool's limit, not one connection per read
    assert second == first  # every connection kept and reused, none reopened
