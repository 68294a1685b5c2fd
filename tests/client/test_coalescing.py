"""Identical concurrent GETs share one request; different ones do not."""

from __future__ import annotations

import asyncio

from kalshi_core.client import KalshiClient

from .conftest import BALANCE, TICKERS, Recorder


async def test_concurrent_identical_gets_share_one_request(
    client: KalshiClient, recorder: Recorder
) -> None:
    hold = recorder.held()
    tasks = [asyncio.create_task(client.get_market(TICKERS[1])) for _ in range(10)]
    await recorder.received.wait()  # the one request is at the server, held there
    assert client.transport.in_flight == 1
    hold.set()
    markets = await asyncio.gather(*tasks)
    assert {m.ticker for m in markets} == {TICKERS[1]}
    assert recorder.hits[("GET", f"/markets/{TICKERS[1]}")] == 1
    assert client.metrics.coalesced["GET /markets/{ticker}"] == 9
    assert client.transport.in_flight == 0


async def test_different_params_are_not_coalesced(client: KalshiClient, recorder: Recorder) -> None:
    pages = await asyncio.gather(client.get_markets(limit=1), client.get_markets(limit=2))
    assert [len(p.items) for p in pages] == [1, 2]
    assert recorder.hits[("GET", "/markets")] == 2


async def test_a_cancelled_waiter_does_not_cancel_the_others(
    client: KalshiClient, recorder: Recorder
) -> None:
    hold = recorder.held()
    first = asyncio.create_task(client.get_balance())
    second = asyncio.create_task(client.get_balance())
    await recorder.received.wait()
    first.cancel()
    hold.set()
    balance = await second
    assert balance.balance == BALANCE
    assert first.cancelled()
    assert recorder.hits[("GET", "/portfolio/balance")] == 1


async def test_a_shared_failure_reaches_every_waiter(
    client: KalshiClient, recorder: Recorder
) -> None:
    results = await asyncio.gather(
        *(client.get_market("MISSING") for _ in range(3)), return_exceptions=True
    )
    assert all(getattr(r, "status", None) == 404 for r in results)
    assert recorder.hits[("GET", "/markets/MISSING")] == 1


async def test_sequential_gets_are_not_cached(client: KalshiClient, recorder: Recorder) -> None:
    await client.get_market(TICKERS[1])
    await client.get_market(TICKERS[1])
    assert recorder.hits[("GET", f"/markets/{TICKERS[1]}")] == 2
