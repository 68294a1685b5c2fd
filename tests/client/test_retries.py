"""Retries under injected faults, and that no fault ever produces a duplicate order."""

from __future__ import annotations

import httpx
import pytest

from kalshi_core.client import KalshiClient, OrderRequest, OrderStateUnknown, RetryPolicy
from kalshi_core.errors import ExchangeError
from kalshi_core.models import BookSide

from .conftest import MakeClient, SleepRecorder
from .server import FakeKalshi

ORDERS = "/portfolio/events/orders"
SHORT_READ = httpx.Timeout(5.0, read=0.2)  # only the "slow" fault ever waits this long


def _order(coid: str = "coid-1") -> OrderRequest:
    return OrderRequest(
        ticker="KXTEST-26-M00", book_side=BookSide.BID, price=4200, count=500, client_order_id=coid
    )


@pytest.mark.parametrize(
    ("fault", "options"),
    [
        ("status", {"status": 429, "code": "too_many_requests"}),
        ("status", {"status": 500}),
        ("status", {"status": 503, "code": "service_unavailable"}),
        ("drop", {}),
    ],
)
async def test_reads_retry_until_success(
    client: KalshiClient,
    fake: FakeKalshi,
    sleeps: SleepRecorder,
    fault: str,
    options: dict[str, object],
) -> None:
    fake.inject(fault, times=2, path="/markets/KXTEST-26-M00", **options)
    market = await client.get_market("KXTEST-26-M00")
    assert market.ticker == "KXTEST-26-M00"
    assert fake.hits[("GET", "/markets/KXTEST-26-M00")] == 3
    # full jitter with uniform() == 0.5 over base 0.5 s doubling: 0.25, then 0.5
    assert sleeps.delays == [0.25, 0.5]


async def test_a_slow_response_times_out_and_is_retried(
    make_client: MakeClient, fake: FakeKalshi
) -> None:
    client = make_client(timeout=SHORT_READ)
    fake.inject("slow", path="/exchange/status")
    status = await client.get_exchange_status()
    assert status.exchange_active
    assert fake.hits[("GET", "/exchange/status")] == 2
    assert ("GET /exchange/status", "timeout") in client.metrics.calls


async def test_retry_after_is_honoured(
    client: KalshiClient, fake: FakeKalshi, sleeps: SleepRecorder
) -> None:
    fake.inject("status", status=429, code="too_many_requests", retry_after="3", path="/markets")
    fake.inject("status", status=429, code="too_many_requests", retry_after="600", path="/markets")
    page = await client.get_markets(limit=1)
    assert len(page.items) == 1
    assert sleeps.delays == [3.0, 60.0]  # the second is capped by max_retry_after


async def test_reads_give_up_after_max_attempts(
    client: KalshiClient, fake: FakeKalshi, sleeps: SleepRecorder
) -> None:
    fake.inject("status", times=10, status=503, code="service_unavailable")
    with pytest.raises(ExchangeError) as caught:
        await client.get_balance()
    assert "gave up after 4 attempts" in str(caught.value)
    assert (caught.value.status, caught.value.code) == (503, "service_unavailable")
    assert caught.value.endpoint == "GET /portfolio/balance"
    assert fake.hits[("GET", "/portfolio/balance")] == 4
    assert len(sleeps.delays) == 3


async def test_client_errors_are_not_retried(client: KalshiClient, fake: FakeKalshi) -> None:
    with pytest.raises(ExchangeError) as caught:
        await client.get_market("NOPE")
    assert (caught.value.status, caught.value.code) == (404, "not_found")
    assert "GET /markets/NOPE" in str(caught.value)
    assert fake.hits[("GET", "/markets/NOPE")] == 1


def test_backoff_is_full_jitter_and_capped() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0)
    assert [policy.backoff(n, lambda: 1.0) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert policy.backoff(3, lambda: 0.0) == 0.0


# ---- order creation: never a duplicate ----


@pytest.mark.parametrize(
    ("fault", "options"),
    [
        ("apply_then_drop", {}),
        ("apply_then_slow", {}),
        ("status", {"status": 429, "code": "too_many_requests"}),
        ("status", {"status": 500}),
        ("status", {"status": 503, "code": "service_unavailable"}),
        ("drop", {}),
    ],
)
async def test_create_order_never_duplicates(
    make_client: MakeClient, fake: FakeKalshi, fault: str, options: dict[str, object]
) -> None:
    client = make_client(timeout=SHORT_READ)
    fake.inject(fault, method="POST", path=ORDERS, **options)
    ack = await client.create_order(_order())
    assert len(fake.orders) == 1
    (stored,) = fake.orders.values()
    assert (ack.order_id, ack.client_order_id, ack.remaining_count) == (
        stored["order_id"],
        "coid-1",
        500,
    )
    assert fake.hits[("POST", ORDERS)] == 2
    # the server saw the same client_order_id both times
    assert [body["client_order_id"] for body in fake.bodies] == ["coid-1"] * len(fake.bodies)


async def test_lost_response_is_recovered_by_lookup(client: KalshiClient, fake: FakeKalshi) -> None:
    fake.inject("apply_then_drop", method="POST", path=ORDERS)
    ack = await client.create_order(_order("lost-1"))
    assert ack.recovered
    assert fake.find_by_client_id("lost-1") is not None
    assert ack.order_id == fake.find_by_client_id("lost-1")["order_id"]  # type: ignore[index]
    assert fake.hits[("GET", "/portfolio/orders")] == 1
    assert dict(fake.queries[-1][2])["ticker"] == "KXTEST-26-M00"


async def test_lost_responses_on_every_attempt_end_in_order_state_unknown(
    client: KalshiClient, fake: FakeKalshi
) -> None:
    fake.inject("drop", times=4, method="POST", path=ORDERS)
    with pytest.raises(OrderStateUnknown) as caught:
        await client.create_order(_order("u-1"))
    assert caught.value.client_order_id == "u-1"
    assert "u-1" in str(caught.value)
    assert fake.orders == {}


async def test_a_first_attempt_duplicate_is_an_error_not_a_recovery(
    client: KalshiClient, fake: FakeKalshi
) -> None:
    await client.create_order(_order("dup"))
    with pytest.raises(ExchangeError) as caught:
        await client.create_order(_order("dup"))
    assert (caught.value.status, caught.value.code) == (409, "order_already_exists")
    assert not isinstance(caught.value, OrderStateUnknown)
    assert len(fake.orders) == 1


async def test_same_client_order_id_from_a_restart_is_never_placed_twice(
    make_client: MakeClient, fake: FakeKalshi
) -> None:
    first = make_client()
    fake.inject("apply_then_drop", times=4, method="POST", path=ORDERS)
    with pytest.raises(OrderStateUnknown):
        await first.create_order(_order("r-1"))  # every answer lost, though the order landed
    assert len(fake.orders) == 1
    found = await make_client().find_order("r-1", ticker="KXTEST-26-M00")
    assert found is not None
    assert found.client_order_id == "r-1"


# ---- other writes ----


async def test_cancel_retry_that_finds_the_order_gone_reports_already_canceled(
    client: KalshiClient, fake: FakeKalshi
) -> None:
    ack = await client.create_order(_order())
    path = f"{ORDERS}/{ack.order_id}"
    fake.inject("apply_then_drop", method="DELETE", path=path)
    canceled = await client.cancel_order(ack.order_id)
    assert canceled.already_canceled
    assert canceled.reduced_by is None
    assert fake.orders[ack.order_id]["status"] == "canceled"
    assert fake.hits[("DELETE", path)] == 2


async def test_cancel_of_unknown_order_is_an_error(client: KalshiClient) -> None:
    with pytest.raises(ExchangeError) as caught:
        await client.cancel_order("no-such-order")
    assert caught.value.status == 404


async def test_cancel_retry_404_for_an_order_that_never_existed(
    client: KalshiClient, fake: FakeKalshi
) -> None:
    fake.inject("status", status=502, method="DELETE", path=f"{ORDERS}/ghost")
    with pytest.raises(ExchangeError) as caught:
        await client.cancel_order("ghost")
    assert caught.value.status == 404
    assert not isinstance(caught.value, OrderStateUnknown)


@pytest.mark.parametrize("fault", ["apply_then_drop", "drop", "status"])
async def test_amend_and_decrease_are_not_retried_on_unknown_outcome(
    client: KalshiClient, fake: FakeKalshi, fault: str
) -> None:
    ack = await client.create_order(_order("a-1"))
    amend = f"{ORDERS}/{ack.order_id}/amend"
    fake.inject(fault, method="POST", path=amend)
    with pytest.raises(OrderStateUnknown) as caught:
        await client.amend_order(
            ack.order_id,
            ticker="KXTEST-26-M00",
            book_side=BookSide.BID,
            price=4300,
            count=500,
            client_order_id="a-1",
        )
    assert (caught.value.client_order_id, caught.value.order_id) == ("a-1", ack.order_id)
    assert fake.hits[("POST", amend)] == 1
    decrease = f"{ORDERS}/{ack.order_id}/decrease"
    fake.inject(fault, method="POST", path=decrease)
    with pytest.raises(OrderStateUnknown):
        await client.decrease_order(ack.order_id, reduce_to=100, client_order_id="a-1")
    assert fake.hits[("POST", decrease)] == 1


async def test_rate_limited_writes_are_retried_because_nothing_was_applied(
    client: KalshiClient, fake: FakeKalshi, sleeps: SleepRecorder
) -> None:
    ack = await client.create_order(_order("rl"))
    amend = f"{ORDERS}/{ack.order_id}/amend"
    fake.inject("status", status=429, code="too_many_requests", retry_after="1", path=amend)
    amended = await client.amend_order(
        ack.order_id, ticker="KXTEST-26-M00", book_side=BookSide.BID, price=4300, count=900
    )
    assert amended.remaining_count == 900
    assert fake.hits[("POST", amend)] == 2
    assert sleeps.delays == [1.0]


async def test_batch_create_with_lost_response_is_order_state_unknown(
    client: KalshiClient, fake: FakeKalshi
) -> None:
    fake.inject("apply_then_drop", method="POST", path=f"{ORDERS}/batched")
    with pytest.raises(OrderStateUnknown) as caught:
        await client.batch_create_orders([_order("x-1"), _order("x-2")])
    assert caught.value.client_order_ids == ("x-1", "x-2")
    assert len(fake.orders) == 2  # applied once, never re-sent
    assert fake.hits[("POST", f"{ORDERS}/batched")] == 1


async def test_cancel_all_is_retried(client: KalshiClient, fake: FakeKalshi) -> None:
    await client.create_order(_order("c-all"))
    fake.inject("apply_then_drop", method="DELETE", path=ORDERS)
    await client.cancel_all_orders()
    assert fake.hits[("DELETE", ORDERS)] == 2
    assert {o["status"] for o in fake.orders.values()} == {"canceled"}


async def test_an_unreadable_order_ack_is_order_state_unknown(
    client: KalshiClient, fake: FakeKalshi
) -> None:
    fake.inject("body", status=201, body=b'{"order_id": 7}', method="POST", path=ORDERS)
    with pytest.raises(OrderStateUnknown, match="order_id") as caught:
        await client.create_order(_order("w-1"))
    assert caught.value.client_order_id == "w-1"
    fake.inject("body", status=201, body=b"<html>", method="POST", path=ORDERS)
    with pytest.raises(OrderStateUnknown, match="not valid JSON"):
        await client.create_order(_order("w-2"))
