"""Identical concurrent GETs share one request; different ones do not."""

from __future__ import annotations

import asyncio

from kalshi_core.client import KalshiClient

from .server import FakeKalshi


async def _held(fake: FakeKalshi) -> asyncio.Event:
    hold = asyncio.Event()
    fake.hold = hold
    fake.received.clear()
    return hold


async def test_concurrent_identical_gets_share_one_request(
    client: KalshiClient, fake: FakeKalshi
) -> None:
    hold = await _held(fake)
    tasks = [asyncio.create_task(client.get_market("KXTEST-26-M01")) for _ in range(10)]
    await fake.received.wait()  # the one request is at the server, held there
    assert client.transport.in_flight == 1
    hold.set()
    markets = await asyncio.gather(*tasks)
    assert {m.ticker for m in markets} == {"KXTEST-26-M01"}
    assert fake.hits[("GET", "/markets/KXTEST-26-M01")] == 1
    assert client.metrics.coalesced["GET /markets/{ticker}"] == 9
    assert client.transport.in_flight == 0


async def test_different_params_are_not_coalesced(client: KalshiClient, fake: FakeKalshi) -> None:
    pages = await asyncio.gather(client.get_markets(limit=1), client.get_markets(limit=2))
    assert [len(p.items) for p in pages] == [1, 2]
    assert fake.hits[("GET", "/markets")] == 2


async def test_a_cancelled_waiter_does_not_cancel_the_others(
    client: KalshiClient, fake: FakeKalshi
) -> None:
    hold = await _held(fake)
    first = asyncio.create_task(client.get_balance())
    second = asyncio.create_task(client.get_balance())
    await fake.received.wait()
    first.cancel()
    hold.set()
    balance = await second
    assert balance.balance == 12345 * 100
    assert first.cancelled()
    assert fake.hits[("GET", "/portfolio/balance")] == 1


async def test_a_shared_failure_reaches_every_waiter(
    client: KalshiClient, fake: FakeKalshi
) -> None:
    results = await asyncio.gather(
        *(client.get_market("MISSING") for _ in range(3)), return_exceptions=True
    )
    assert all(getattr(r, "status", None) == 404 for r in results)
    assert fake.hits[("GET", "/markets/MISSING")] == 1


async def test_sequential_gets_are_not_cached(client: KalshiClient, fake: FakeKalshi) -> None:
    await client.get_market("KXTEST-26-M01")
    await client.get_market("KXTEST-26-M01")
    assert fake.hits[("GET", "/markets/KXTEST-26-M01")] == 2
