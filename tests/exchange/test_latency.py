"""Order-entry latency in recorded time: orders go live, and cancels land, only later."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kalshi_core.clock import ManualClock
from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import Venue
from kalshi_core.exchange.venue import Latency
from kalshi_core.models import OrderStatus
from kalshi_core.money import CENT, CONTRACT

from .support import FUNDS, START, TICKER, ask, bid, make_market

MS = timedelta(milliseconds=1)


@pytest.fixture
def slow(clock: ManualClock) -> Venue:
    venue = Venue(clock, latency=Latency(base=100 * MS, insert=50 * MS, cancel=400 * MS))
    venue.list_market(make_market())
    for name in ("alice", "bob"):
        venue.deposit(name, FUNDS)
    return venue


def test_an_order_is_live_only_after_base_plus_insert(slow: Venue, clock: ManualClock) -> None:
    slow.place_order(ask("bob", 50 * CENT, 5))
    clock.set(START + 150 * MS)
    slow.advance()
    sent = slow.place_order(bid("alice", 50 * CENT, 5))
    assert sent.fill_count == 0  # in flight: the ask is there, but alice's bid is not yet
    assert slow.orderbook(TICKER).yes == ()
    clock.set(START + 299 * MS)
    assert slow.get_order(sent.order_id).fill_count == 0
    clock.set(START + 300 * MS)
    slow.advance()
    assert slow.get_order(sent.order_id).fill_count == 5 * CONTRACT
    assert slow.fills("alice")[0].created_time == START + 300 * MS


def test_an_order_can_fill_until_its_cancel_lands(slow: Venue, clock: ManualClock) -> None:
    resting = slow.place_order(ask("bob", 50 * CENT, 5))
    clock.set(START + 150 * MS)
    slow.cancel("bob", resting.order_id)
    assert slow.get_order(resting.order_id).status is OrderStatus.RESTING
    slow.place_order(bid("alice", 50 * CENT, 2))  # live at 300 ms, before the cancel (650 ms)
    clock.set(START + 300 * MS)
    slow.advance()
    clock.set(START + 650 * MS)
    slow.advance()
    done = slow.get_order(resting.order_id)
    assert (done.fill_count, done.status) == (2 * CONTRACT, OrderStatus.CANCELED)


def test_a_cancel_that_lands_first_stops_the_order_in_flight(
    slow: Venue, clock: ManualClock
) -> None:
    fast_cancel = Venue(clock, latency=Latency(insert=500 * MS))
    fast_cancel.list_market(make_market())
    fast_cancel.deposit("alice", FUNDS)
    sent = fast_cancel.place_order(bid("alice", 50 * CENT, 5))
    fast_cancel.cancel("alice", sent.order_id)  # no cancel latency: it lands now
    clock.set(START + 600 * MS)
    fast_cancel.advance()
    assert fast_cancel.get_order(sent.order_id).status is OrderStatus.CANCELED
    assert fast_cancel.orderbook(TICKER).yes == ()
    assert fast_cancel.account("alice").available == FUNDS


def test_latency_is_never_negative() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        Latency(cancel=-MS)


def test_an_order_arriving_after_close_is_canceled(slow: Venue, clock: ManualClock) -> None:
    sent = slow.place_order(bid("alice", 50 * CENT, 5))
    slow.close_market(TICKER)
    clock.set(START + 200 * MS)
    slow.advance()
    assert slow.get_order(sent.order_id).status is OrderStatus.CANCELED
    with pytest.raises(ExchangeError, match=r"is canceled"):
        slow.cancel("alice", sent.order_id)


def test_cancel_all_reaches_orders_in_flight_and_waits_its_latency(
    slow: Venue, clock: ManualClock
) -> None:
    live = slow.place_order(ask("bob", 60 * CENT, 5))
    clock.set(START + 150 * MS)
    slow.advance()
    in_flight = slow.place_order(ask("bob", 61 * CENT, 5))
    reports = slow.cancel_all("bob")
    assert {r.order_id for r in reports} == {live.order_id, in_flight.order_id}
    assert slow.get_order(live.order_id).status is OrderStatus.RESTING  # cancel not landed yet
    clock.set(START + 650 * MS)
    slow.advance()
    for order_id in (live.order_id, in_flight.order_id):
        assert slow.get_order(order_id).status is OrderStatus.CANCELED
    assert slow.orderbook(TICKER).no == ()
    assert slow.account("bob").available == FUNDS
