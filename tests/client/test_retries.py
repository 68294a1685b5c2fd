"""Retries under faults injected at the real local exchange; no fault ever duplicates an order."""

from __future__ import annotations

import httpx
import pytest

from kalshi_core.client import KalshiClient, OrderRequest, OrderStateUnknown, RetryPolicy
from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import Venue
from kalshi_core.exchange.faults import FaultKind
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.models import BookSide, OrderStatus

from .conftest import DEV, TICKER, MakeClient, Recorder, SleepRecorder

ORDERS = "/portfolio/events/orders"
SHORT_READ = httpx.Timeout(5.0, read=0.2)  # only the "timeout" faults ever wait this long


def _order(coid: str = "coid-1", count: int = 500) -> OrderRequest:
    return OrderRequest(
        ticker=TICKER, book_side=BookSide.BID, price=4200, count=count, client_order_id=coid
    )


def _placed(venue: Venue) -> list[str | None]:
    return [order.client_order_id for order in venue.orders(DEV)]


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (FaultKind.STATUS, 429),
        (FaultKind.STATUS, 500),
        (FaultKind.STATUS, 503),
        (FaultKind.DROP, 0),
    ],
)
async def test_reads_retry_until_success(
    client: KalshiClient,
    exchange: LocalExchange,
    recorder: Recorder,
    sleeps: SleepRecorder,
    kind: FaultKind,
    status: int,
) -> None:
    exchange.faults.inject(kind, times=2, path=f"/markets/{TICKER}", status=status)
    market = await client.get_market(TICKER)
    assert market.ticker == TICKER
    assert recorder.hits[("GET", f"/markets/{TICKER}")] == 3
    # full jitter with uniform() == 0.5 over base 0.5 s doubling: 0.25, then 0.5
    assert sleeps.delays == [0.25, 0.5]


async def test_a_slow_response_times_out_and_is_retried(
    make_client: MakeClient, exchange: LocalExchange, recorder: Recorder
) -> None:
    client = make_client(timeout=SHORT_READ)
    exchange.faults.inject(FaultKind.TIMEOUT, path="/exchange/status")
    status = await client.get_exchange_status()
    assert status.exchange_active
    assert recorder.hits[("GET", "/exchange/status")] == 2
    assert ("GET /exchange/status", "timeout") in client.metrics.calls


async def test_reads_give_up_after_max_attempts(
    client: KalshiClient, exchange: LocalExchange, recorder: Recorder, sleeps: SleepRecorder
) -> None:
    exchange.faults.fail_next(10, "/portfolio/balance", 503)
    with pytest.raises(ExchangeError) as caught:
        await client.get_balance()
    assert "gave up after 4 attempts" in str(caught.value)
    assert (caught.value.status, caught.value.code) == (503, "service_unavailable")
    assert caught.value.endpoint == "GET /portfolio/balance"
    assert recorder.hits[("GET", "/portfolio/balance")] == 4
    assert len(sleeps.delays) == 3


async def test_client_errors_are_not_retried(client: KalshiClient, recorder: Recorder) -> None:
    with pytest.raises(ExchangeError) as caught:
        await client.get_market("NOPE")
    assert (caught.value.status, caught.value.code) == (404, "not_found")
    assert "GET /markets/NOPE" in str(caught.value)
    assert recorder.hits[("GET", "/markets/NOPE")] == 1


def test_backoff_is_full_jitter_and_capped() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0)
    assert [policy.backoff(n, lambda: 1.0) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert policy.backoff(3, lambda: 0.0) == 0.0


# ---- order creation: never a duplicate ----


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (FaultKind.APPLY_THEN_DROP, 0),
        (FaultKind.APPLY_THEN_TIMEOUT, 0),
        (FaultKind.STATUS, 429),
        (FaultKind.STATUS, 500),
        (FaultKind.STATUS, 503),
        (FaultKind.DROP, 0),
        (FaultKind.TIMEOUT, 0),
    ],
)
async def test_create_order_never_duplicates(
    make_client: MakeClient,
    exchange: LocalExchange,
    recorder: Recorder,
    venue: Venue,
    kind: FaultKind,
    status: int,
) -> None:
    client = make_client(timeout=SHORT_READ)
    exchange.faults.inject(kind, method="POST", path=ORDERS, status=status)
    ack = await client.create_order(_order())
    [stored] = venue.orders(DEV)
    assert (ack.order_id, ack.client_order_id, ack.remaining_count) == (
        stored.order_id,
        "coid-1",
        500,
    )
    assert ack.recovered is kind.applies
    assert recorder.hits[("POST", ORDERS)] == 2
    # the server saw the same client_order_id both times
    assert [body["client_order_id"] for body in recorder.bodies] == ["coid-1", "coid-1"]


async def test_lost_response_is_recovered_by_lookup(
    client: KalshiClient, exchange: LocalExchange, recorder: Recorder, venue: Venue
) -> None:
    exchange.faults.inject(FaultKind.APPLY_THEN_DROP, method="POST", path=ORDERS)
    ack = await client.create_order(_order("lost-1"))
    assert ack.recovered
    found = venue.find_order(DEV, "lost-1")
    assert found is not None
    assert ack.order_id == found.order_id
    assert recorder.hits[("GET", "/portfolio/orders")] == 1
    assert dict(recorder.queries[-1][2])["ticker"] == TICKER


async def test_lost_responses_on_every_attempt_end_in_order_state_unknown(
    client: KalshiClient, exchange: LocalExchange, venue: Venue
) -> None:
    exchange.faults.inject(FaultKind.DROP, times=4, method="POST", path=ORDERS)
    with pytest.raises(OrderStateUnknown) as caught:
        await client.create_order(_order("u-1"))
    assert caught.value.client_order_id == "u-1"
    assert "u-1" in str(caught.value)
    assert _placed(venue) == []


async def test_a_first_attempt_duplicate_is_an_error_not_a_recovery(
    client: KalshiClient, venue: Venue
) -> None:
    await client.create_order(_order("dup"))
    with pytest.raises(ExchangeError) as caught:
        await client.create_order(_order("dup"))
    assert (caught.value.status, caught.value.code) == (409, "order_already_exists")
    assert not isinstance(caught.value, OrderStateUnknown)
    assert _placed(venue) == ["dup"]


async def test_same_client_order_id_from_a_restart_is_never_placed_twice(
    make_client: MakeClient, exchange: LocalExchange, venue: Venue
) -> None:
    first = make_client()
    exchange.faults.inject(FaultKind.APPLY_THEN_DROP, times=4, method="POST", path=ORDERS)
    with pytest.raises(OrderStateUnknown):
        await first.create_order(_order("r-1"))  # every answer lost, though the order landed
    assert _placed(venue) == ["r-1"]
    found = await make_client().find_order("r-1", ticker=TICKER)
    assert found is not None
    assert found.client_order_id == "r-1"


# ---- issue 17 item 3: a refused retry after a lost reply is not a rejection ----


@pytest.mark.parametrize("code", ["market_closed", "trading_is_paused", "invalid_parameters"])
async def test_a_refused_retry_after_an_applied_attempt_is_unknown_not_rejected(
    client: KalshiClient, exchange: LocalExchange, venue: Venue, code: str
) -> None:
    exchange.faults.inject(FaultKind.APPLY_THEN_DROP, method="POST", path=ORDERS)
    status = 400 if code == "invalid_parameters" else 409
    exchange.faults.fail_next(1, ORDERS, status, method="POST", code=code)
    with pytest.raises(OrderStateUnknown) as caught:
        await client.create_order(_order("placed-1"))
    assert (caught.value.client_order_id, caught.value.code) == ("placed-1", code)
    assert caught.value.status == status
    assert _placed(venue) == ["placed-1"]  # it was placed: the engine must look it up


async def test_a_pause_between_the_attempts_leaves_the_order_unknown(
    client: KalshiClient, exchange: LocalExchange, venue: Venue, sleeps: SleepRecorder
) -> None:
    exchange.faults.inject(FaultKind.APPLY_THEN_DROP, method="POST", path=ORDERS)
    sleeps.on_sleep = lambda: venue.set_paused(True)  # the exchange pauses during the backoff
    with pytest.raises(OrderStateUnknown) as caught:
        await client.create_order(_order("paused-1"))
    assert caught.value.code == "trading_is_paused"
    venue.set_paused(False)
    found = await client.find_order("paused-1", ticker=TICKER)
    assert found is not None
    assert found.status is OrderStatus.RESTING


async def test_a_refusal_without_a_lost_reply_is_still_a_plain_rejection(
    client: KalshiClient, venue: Venue
) -> None:
    venue.set_paused(True)
    with pytest.raises(ExchangeError) as caught:
        await client.create_order(_order("p-1"))
    assert caught.value.code == "trading_is_paused"
    assert not isinstance(caught.value, OrderStateUnknown)
    assert _placed(venue) == []


# ---- other writes ----


async def test_cancel_retry_that_finds_the_order_gone_reports_already_canceled(
    client: KalshiClient, exchange: LocalExchange, recorder: Recorder, venue: Venue
) -> None:
    ack = await client.create_order(_order())
    path = f"{ORDERS}/{ack.order_id}"
    exchange.faults.inject(FaultKind.APPLY_THEN_DROP, method="DELETE", path=path)
    canceled = await client.cancel_order(ack.order_id)
    assert canceled.already_canceled
    assert canceled.reduced_by is None
    assert venue.get_order(ack.order_id).status is OrderStatus.CANCELED
    assert recorder.hits[("DELETE", path)] == 2


async def test_cancel_of_unknown_order_is_an_error(client: KalshiClient) -> None:
    with pytest.raises(ExchangeError) as caught:
        await client.cancel_order("no-such-order")
    assert caught.value.status == 404


async def test_cancel_retry_404_for_an_order_that_never_existed(
    client: KalshiClient, exchange: LocalExchange
) -> None:
    exchange.faults.fail_next(1, f"{ORDERS}/ghost", 502, method="DELETE")
    with pytest.raises(ExchangeError) as caught:
        await client.cancel_order("ghost")
    assert caught.value.status == 404
    assert not isinstance(caught.value, OrderStateUnknown)


@pytest.mark.parametrize(
    ("kind", "status"),
    [(FaultKind.APPLY_THEN_DROP, 0), (FaultKind.DROP, 0), (FaultKind.STATUS, 500)],
)
async def test_amend_and_decrease_are_not_retried_on_unknown_outcome(
    client: KalshiClient,
    exchange: LocalExchange,
    recorder: Recorder,
    kind: FaultKind,
    status: int,
) -> None:
    ack = await client.create_order(_order("a-1"))
    amend = f"{ORDERS}/{ack.order_id}/amend"
    exchange.faults.inject(kind, method="POST", path=amend, status=status)
    with pytest.raises(OrderStateUnknown) as caught:
        await client.amend_order(
            ack.order_id,
            ticker=TICKER,
            book_side=BookSide.BID,
            price=4300,
            count=500,
            client_order_id="a-1",
        )
    assert (caught.value.client_order_id, caught.value.order_id) == ("a-1", ack.order_id)
    assert recorder.hits[("POST", amend)] == 1
    decrease = f"{ORDERS}/{ack.order_id}/decrease"
    exchange.faults.inject(kind, method="POST", path=decrease, status=status)
    with pytest.raises(OrderStateUnknown):
        await client.decrease_order(ack.order_id, reduce_to=100, client_order_id="a-1")
    assert recorder.hits[("POST", decrease)] == 1


async def test_rate_limited_writes_are_retried_because_nothing_was_applied(
    client: KalshiClient,
    exchange: LocalExchange,
    recorder: Recorder,
    sleeps: SleepRecorder,
    venue: Venue,
) -> None:
    ack = await client.create_order(_order("rl"))
    amend = f"{ORDERS}/{ack.order_id}/amend"
    exchange.faults.fail_next(1, amend, 429)
    amended = await client.amend_order(
        ack.order_id, ticker=TICKER, book_side=BookSide.BID, price=4300, count=900
    )
    assert amended.remaining_count == 900
    assert venue.get_order(ack.order_id).yes_price == 4300
    assert recorder.hits[("POST", amend)] == 2
    assert sleeps.delays == [0.25]


async def test_batch_create_with_lost_response_is_order_state_unknown(
    client: KalshiClient, exchange: LocalExchange, recorder: Recorder, venue: Venue
) -> None:
    exchange.faults.inject(FaultKind.APPLY_THEN_DROP, method="POST", path=f"{ORDERS}/batched")
    with pytest.raises(OrderStateUnknown) as caught:
        await client.batch_create_orders([_order("x-1"), _order("x-2")])
    assert caught.value.client_order_ids == ("x-1", "x-2")
    assert sorted(_placed(venue)) == ["x-1", "x-2"]  # applied once, never re-sent
    assert recorder.hits[("POST", f"{ORDERS}/batched")] == 1


async def test_cancel_all_is_retried(
    client: KalshiClient, exchange: LocalExchange, recorder: Recorder, venue: Venue
) -> None:
    await client.create_order(_order("c-all"))
    exchange.faults.inject(FaultKind.APPLY_THEN_DROP, method="DELETE", path=ORDERS)
    await client.cancel_all_orders()
    assert recorder.hits[("DELETE", ORDERS)] == 2
    assert {o.status for o in venue.orders(DEV)} == {OrderStatus.CANCELED}
