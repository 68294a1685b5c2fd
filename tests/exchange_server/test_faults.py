"""Every injected fault, met by the real client over real HTTP.

Whatever the fault, no order is ever placed twice (the venue holds one order per
``client_order_id``) and every fill is accounted for (the fills the client can read equal
the venue's, and positions agree with them).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kalshi_core.client import KalshiClient, OrderRequest, OrderStateUnknown, RetryPolicy, Signer
from kalshi_core.clock import ManualClock
from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import Venue
from kalshi_core.exchange.faults import FaultKind, FaultSettings
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.models import BookSide, OrderStatus
from kalshi_core.money import CONTRACT

from .conftest import (
    MM,
    START,
    TICKER,
    MakeClient,
    SleepRecorder,
    make_market,
    mm_order,
    tickers,
)

ORDERS = "/portfolio/events/orders"
DEV = "dev"


def bid(cid: str, price: int = 4000, contracts: int = 1) -> OrderRequest:
    return OrderRequest(
        ticker=TICKER,
        book_side=BookSide.BID,
        price=price,
        count=contracts * CONTRACT,
        client_order_id=cid,
    )


def assert_no_duplicates(venue: Venue) -> None:
    ids = Counter(o.client_order_id for o in venue.orders(DEV))
    assert all(n == 1 for n in ids.values()), ids


async def assert_fills_accounted(client: KalshiClient, venue: Venue) -> None:
    seen = [f async for f in client.iter_fills()]
    assert sorted(f.fill_id for f in seen) == sorted(f.fill_id for f in venue.fills(DEV))
    net = sum(f.count if f.book_side is BookSide.BID else -f.count for f in seen)
    positions = {p.ticker: p.position async for p in client.iter_positions(settlement_status="all")}
    assert sum(positions.values()) == net


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (FaultKind.STATUS, 429),
        (FaultKind.STATUS, 500),
        (FaultKind.STATUS, 503),
        (FaultKind.DROP, 0),
        (FaultKind.TIMEOUT, 0),
    ],
)
async def test_unapplied_faults_on_create_are_retried_once_placed(
    exchange: LocalExchange,
    make_client: MakeClient,
    venue: Venue,
    sleeps: SleepRecorder,
    kind: FaultKind,
    status: int,
) -> None:
    client = make_client(timeout=httpx.Timeout(5.0, read=0.3))
    exchange.faults.inject(kind, times=2, path=ORDERS, method="POST", status=status)
    ack = await client.create_order(bid("r1"))
    assert not ack.recovered
    assert len(sleeps.delays) == 2
    assert [o.client_order_id for o in venue.orders(DEV)] == ["r1"]
    assert exchange.faults.pending == 0


@pytest.mark.parametrize("kind", [FaultKind.APPLY_THEN_DROP, FaultKind.APPLY_THEN_TIMEOUT])
async def test_applied_create_with_lost_response_is_recovered_not_duplicated(
    exchange: LocalExchange, make_client: MakeClient, venue: Venue, kind: FaultKind
) -> None:
    venue.place_order(mm_order(BookSide.ASK, 4000, 1))
    client = make_client(timeout=httpx.Timeout(5.0, read=0.3))
    exchange.faults.inject(kind, path=ORDERS, method="POST")
    ack = await client.create_order(bid("lost", contracts=3))
    assert ack.recovered
    assert (ack.fill_count, ack.remaining_count) == (CONTRACT, 2 * CONTRACT)
    assert len(venue.orders(DEV)) == 1
    assert_no_duplicates(venue)
    await assert_fills_accounted(client, venue)


async def test_applied_cancel_with_lost_response_is_confirmed(
    exchange: LocalExchange, client: KalshiClient, venue: Venue
) -> None:
    ack = await client.create_order(bid("c"))
    exchange.faults.inject(FaultKind.APPLY_THEN_DROP, path=f"{ORDERS}/{ack.order_id}")
    canceled = await client.cancel_order(ack.order_id)
    assert canceled.already_canceled
    assert venue.get_order(ack.order_id).status is OrderStatus.CANCELED


async def test_applied_amend_with_lost_response_is_reported_unknown(
    exchange: LocalExchange, client: KalshiClient, venue: Venue
) -> None:
    ack = await client.create_order(bid("a"))
    exchange.faults.inject(FaultKind.APPLY_THEN_DROP, path=f"{ORDERS}/{ack.order_id}/amend")
    with pytest.raises(OrderStateUnknown) as caught:
        await client.amend_order(
            ack.order_id, ticker=TICKER, book_side=BookSide.BID, price=4200, count=CONTRACT
        )
    assert caught.value.order_id == ack.order_id
    assert venue.get_order(ack.order_id).yes_price == 4200  # it was applied, once
    assert_no_duplicates(venue)


async def test_5xx_on_batch_create_is_reported_unknown_and_not_retried(
    exchange: LocalExchange, client: KalshiClient, venue: Venue
) -> None:
    exchange.faults.inject(FaultKind.APPLY_THEN_DROP, path=f"{ORDERS}/batched", method="POST")
    with pytest.raises(OrderStateUnknown) as caught:
        await client.batch_create_orders([bid("b1"), bid("b2", 3900)])
    assert caught.value.client_order_ids == ("b1", "b2")
    assert sorted(o.client_order_id for o in venue.orders(DEV)) == ["b1", "b2"]


async def test_reads_survive_faults(exchange: LocalExchange, client: KalshiClient) -> None:
    exchange.faults.fail_next(1, "/markets", 429)
    exchange.faults.inject(FaultKind.DROP, path="/markets")
    exchange.faults.fail_next(1, "/markets", 502)
    assert len((await client.get_markets()).items) == 12


async def test_exhausted_retries_raise(exchange: LocalExchange, client: KalshiClient) -> None:
    exchange.faults.fail_next(10, "/portfolio/balance", 503)
    with pytest.raises(ExchangeError) as caught:
        await client.get_balance()
    assert caught.value.status == 503


async def test_paused_by_settings(tmp_path: Path, venue: Venue) -> None:
    async with LocalExchange.running(
        venue=venue, key_dir=tmp_path, faults=FaultSettings(paused=True)
    ) as ex:
        assert ex.private_key_path is not None
        async with KalshiClient(ex.base_url, signer=_signer(ex), retry=_no_wait_retry()) as client:
            with pytest.raises(ExchangeError) as caught:
                await client.create_order(bid("p"))
            assert caught.value.code == "trading_is_paused"
            assert not (await client.get_exchange_status()).trading_active
    assert venue.orders(DEV) == []


def _signer(ex: LocalExchange) -> Signer:
    assert ex.private_key_path is not None
    return Signer.from_file(ex.api_key_id, ex.private_key_path)


def _no_wait_retry() -> RetryPolicy:
    return RetryPolicy(max_attempts=6, base_delay=0.0, max_delay=0.0)


def _venue_with_book() -> Venue:
    venue = Venue(ManualClock(START))
    for ticker in tickers()[:2]:
        venue.list_market(make_market(ticker))
    venue.deposit(MM, 10**12)
    for price in range(3500, 4500, 100):
        venue.place_order(mm_order(BookSide.ASK, price, 2))
    return venue


async def _trade_through_faults(client: KalshiClient, count: int) -> list[str]:
    """Place ``count`` orders (half of them cross) and cancel every other one, riding out
    whatever fails; returns the client order ids whose outcome stayed unknown."""
    unknown: list[str] = []
    refused: list[int | None] = []
    for index in range(count):
        cid = f"f{index}"
        try:
            ack = await client.create_order(bid(cid, 3000 + (index % 2) * 1000))
            if index % 4 == 0 and ack.remaining_count:
                await client.cancel_order(ack.order_id)
        except OrderStateUnknown:
            unknown.append(cid)
        except ExchangeError as exc:
            refused.append(exc.status)
    assert set(refused) <= {429, 502, 503, 504, None}, refused
    return unknown


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(0, 10_000), rates=st.sampled_from([(0.2, 0.1, 0.0), (0.1, 0.1, 0.1)]))
async def test_random_faults_never_duplicate_or_lose_fills(
    tmp_path: Path, seed: int, rates: tuple[float, float, float]
) -> None:
    venue = _venue_with_book()
    faults = FaultSettings(rate_429=rates[0], rate_5xx=rates[1], rate_drop=rates[2], seed=seed)
    async with LocalExchange.running(venue=venue, key_dir=tmp_path, faults=faults) as ex:
        client = KalshiClient(ex.base_url, signer=_signer(ex), retry=_no_wait_retry())
        unknown = await _trade_through_faults(client, 16)
        ex.faults.settings = FaultSettings()  # calm: reconcile and check
        for cid in unknown:
            found = await client.find_order(cid)
            assert (found is None) == (venue.find_order(DEV, cid) is None)
        assert_no_duplicates(venue)
        await assert_fills_accounted(client, venue)
        await client.aclose()
