"""Order management and entry validation: amend, decrease, cancel, batch, expiry, errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kalshi_core.clock import ManualClock
from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import Venue
from kalshi_core.models import MarketStatus, OrderStatus, PriceLevel, TimeInForce
from kalshi_core.money import CONTRACT, DOLLAR

from .support import DECI, START, TICKER, ask, bid, make_market


def code_of(venue: Venue, request: object) -> str | None:
    with pytest.raises(ExchangeError) as caught:
        venue.place_order(request)  # type: ignore[arg-type]
    return caught.value.code


@pytest.mark.parametrize(
    ("price", "contracts", "code"),
    [
        (0, 1, "invalid_price"),
        (DOLLAR, 1, "invalid_price"),
        (-100, 1, "invalid_price"),
        (4250, 1, "invalid_price"),  # off the cent grid
        (5000, 0, "invalid_count"),
        (5000, 1.5, "invalid_count"),  # whole contracts only here
        (5000, -1, "invalid_count"),
    ],
)
def test_bad_orders_are_rejected_with_codes(
    venue: Venue, price: int, contracts: float, code: str
) -> None:
    assert code_of(venue, bid("alice", price, contracts)) == code
    assert venue.orders("alice") == []
    assert venue.account("alice").reserved == 0


def test_tapered_grid_and_fractional_counts(venue: Venue) -> None:
    assert venue.place_order(bid("alice", 50, count=1, ticker=DECI)).remaining_count == 1
    assert venue.place_order(bid("alice", 9950, count=150, ticker=DECI)).initial_count == 150
    assert code_of(venue, bid("alice", 4510, ticker=DECI)) == "invalid_price"
    assert venue.place_order(bid("alice", 4500, ticker=DECI)).yes_price == 4500


def test_unknown_market_and_closed_market(venue: Venue) -> None:
    assert code_of(venue, bid("alice", 5000, ticker="NOPE")) == "not_found"
    venue.list_market(make_market("KXNEW-1", status=MarketStatus.INITIALIZED))
    assert code_of(venue, bid("alice", 5000, ticker="KXNEW-1")) == "market_closed"
    venue.open_market("KXNEW-1")
    assert venue.place_order(bid("alice", 5000, ticker="KXNEW-1")).status is OrderStatus.RESTING


def test_pause_blocks_entry_and_amend_but_not_cancel(venue: Venue) -> None:
    resting = venue.place_order(bid("alice", 5000))
    venue.set_paused(True)
    assert code_of(venue, bid("alice", 5000)) == "trading_is_paused"
    with pytest.raises(ExchangeError) as caught:
        venue.amend("alice", resting.order_id, price=5100)
    assert caught.value.code == "trading_is_paused"
    assert caught.value.status == 409
    assert venue.cancel("alice", resting.order_id).status is OrderStatus.CANCELED
    venue.set_paused(False)
    assert venue.place_order(bid("alice", 5000)).status is OrderStatus.RESTING


def test_duplicate_client_order_id_per_account(venue: Venue) -> None:
    venue.place_order(bid("alice", 5000, client_order_id="c1"))
    with pytest.raises(ExchangeError) as caught:
        venue.place_order(bid("alice", 4000, client_order_id="c1"))
    assert caught.value.code == "order_already_exists"
    assert caught.value.status == 409
    assert venue.place_order(bid("bob", 4000, client_order_id="c1")).client_order_id == "c1"
    found = venue.find_order("alice", "c1")
    assert found is not None
    assert found.yes_price == 5000


def test_insufficient_balance_rejects_without_changing_state(venue: Venue) -> None:
    venue.deposit("dave", 100 * 50)  # $0.50
    assert code_of(venue, bid("dave", 5100)) == "insufficient_balance"
    assert venue.place_order(bid("dave", 4800)).status is OrderStatus.RESTING  # 0.48 + 0.02 fee
    assert code_of(venue, bid("dave", 100)) == "insufficient_balance"
    assert venue.account("dave").available >= 0


def test_cancel_and_cancel_all(venue: Venue) -> None:
    a = venue.place_order(bid("alice", 4000))
    venue.place_order(bid("alice", 4100))
    venue.place_order(bid("alice", 4500, ticker=DECI))
    venue.place_order(bid("bob", 4200))
    canceled = venue.cancel("alice", a.order_id)
    assert canceled.status is OrderStatus.CANCELED
    assert canceled.remaining_count == 0
    with pytest.raises(ExchangeError) as again:
        venue.cancel("alice", a.order_id)
    assert again.value.code == "order_not_resting"
    with pytest.raises(ExchangeError) as other:
        venue.cancel("bob", a.order_id)
    assert other.value.code == "not_found"
    assert len(venue.cancel_all("alice", TICKER)) == 1
    assert len(venue.cancel_all("alice")) == 1
    assert venue.orderbook(TICKER).yes == (PriceLevel(4200, 100),)
    assert venue.account("alice").reserved == 0


def test_decrease_keeps_priority(venue: Venue) -> None:
    first = venue.place_order(bid("alice", 5000, 5))
    venue.place_order(bid("carol", 5000, 5))
    reduced = venue.decrease("alice", first.order_id, reduce_by=2 * CONTRACT)
    assert reduced.remaining_count == 3 * CONTRACT
    venue.decrease("alice", first.order_id, reduce_to=2 * CONTRACT)
    venue.place_order(ask("bob", 5000, 1))
    assert venue.fills("alice")[0].order_id == first.order_id
    state = venue.order_state(first.order_id)
    assert state.fill_count + state.remaining + state.canceled_count == state.initial_count
    with pytest.raises(ExchangeError):
        venue.decrease("alice", first.order_id, reduce_by=CONTRACT, reduce_to=0)
    with pytest.raises(ExchangeError):
        venue.decrease("alice", first.order_id, reduce_to=5 * CONTRACT)
    done = venue.decrease("alice", first.order_id, reduce_to=0)
    assert done.status is OrderStatus.CANCELED


def test_amend_price_loses_priority(venue: Venue) -> None:
    first = venue.place_order(bid("alice", 5000, 1))
    second = venue.place_order(bid("carol", 5000, 1))
    venue.amend("alice", first.order_id, price=4900)
    venue.amend("alice", first.order_id, price=5000)
    venue.place_order(ask("bob", 5000, 1))
    assert venue.fills("carol")[0].order_id == second.order_id
    assert venue.fills("alice") == []


def test_amend_count_up_loses_priority_and_down_keeps_it(venue: Venue) -> None:
    first = venue.place_order(bid("alice", 5000, 2))
    venue.place_order(bid("carol", 5000, 1))
    venue.amend("alice", first.order_id, count=1 * CONTRACT)  # smaller: keeps its place
    venue.place_order(ask("bob", 5000, 1))
    assert venue.fills("alice")
    assert not venue.fills("carol")

    again = venue.place_order(bid("alice", 4000, 1))
    venue.place_order(bid("carol", 4000, 1))
    amended = venue.amend("alice", again.order_id, count=3 * CONTRACT)
    assert amended.initial_count == 3 * CONTRACT
    assert amended.remaining_count == 3 * CONTRACT
    venue.place_order(ask("bob", 4000, 1))
    assert len(venue.fills("carol")) == 1


def test_amend_that_crosses_trades(venue: Venue) -> None:
    venue.place_order(ask("bob", 5200, 1))
    resting = venue.place_order(bid("alice", 5000, 2, client_order_id="x"))
    amended = venue.amend("alice", resting.order_id, price=5200, updated_client_order_id="y")
    assert amended.fill_count == CONTRACT
    assert amended.remaining_count == CONTRACT
    assert amended.client_order_id == "y"
    assert venue.find_order("alice", "y") is not None


def test_amend_counts_total_including_fills(venue: Venue) -> None:
    resting = venue.place_order(bid("alice", 5000, 3))
    venue.place_order(ask("bob", 5000, 1))
    amended = venue.amend("alice", resting.order_id, count=5 * CONTRACT)
    assert (amended.fill_count, amended.remaining_count) == (CONTRACT, 4 * CONTRACT)
    with pytest.raises(ExchangeError) as caught:
        venue.amend("alice", resting.order_id, count=CONTRACT)  # nothing would remain
    assert caught.value.code == "invalid_count"


def test_amend_rejected_for_balance_keeps_order_and_priority(venue: Venue) -> None:
    venue.deposit("dave", 2 * DOLLAR)
    mine = venue.place_order(bid("dave", 5000, 1))
    venue.place_order(bid("carol", 5000, 1))
    with pytest.raises(ExchangeError) as caught:
        venue.amend("dave", mine.order_id, count=10 * CONTRACT)
    assert caught.value.code == "insufficient_balance"
    assert venue.get_order(mine.order_id).remaining_count == CONTRACT
    assert venue.queue_position(mine.order_id) == 0
    venue.place_order(ask("bob", 5000, 1))
    assert venue.fills("dave")


def test_batch_create_returns_per_item_results(venue: Venue) -> None:
    results = venue.place_orders([bid("alice", 5000), bid("alice", 4250), ask("bob", 6000)])
    assert [type(r).__name__ for r in results] == ["Order", "ExchangeError", "Order"]
    error = results[1]
    assert isinstance(error, ExchangeError)
    assert error.code == "invalid_price"


def test_gtc_expires_when_clock_passes(venue: Venue, clock: ManualClock) -> None:
    expiring = venue.place_order(bid("alice", 5000, expiration_time=START + timedelta(minutes=5)))
    venue.place_order(bid("carol", 4900))
    clock.advance(timedelta(minutes=4))
    assert venue.get_order(expiring.order_id).status is OrderStatus.RESTING
    venue.advance(START + timedelta(minutes=5))
    assert venue.get_order(expiring.order_id).status is OrderStatus.CANCELED
    assert venue.orderbook(TICKER).yes == (PriceLevel(4900, 100),)
    assert venue.account("alice").reserved == 0


def test_expiration_rules(venue: Venue) -> None:
    past = bid("alice", 5000, expiration_time=START)
    assert code_of(venue, past) == "invalid_expiration_time"
    ioc = bid(
        "alice",
        5000,
        tif=TimeInForce.IMMEDIATE_OR_CANCEL,
        expiration_time=START + timedelta(hours=1),
    )
    assert code_of(venue, ioc) == "invalid_parameters"


def test_queue_position(venue: Venue) -> None:
    venue.place_order(bid("alice", 5000, 2))
    venue.place_order(bid("bob", 5100, 7))
    third = venue.place_order(bid("carol", 5000, 1))
    assert venue.queue_position(third.order_id) == 2 * CONTRACT


def test_order_ids_are_deterministic(clock: ManualClock) -> None:
    ids = []
    for _ in range(2):
        v = Venue(ManualClock(START))
        v.list_market(make_market())
        v.deposit("a", DOLLAR * 10)
        v.deposit("b", DOLLAR * 10)
        v.place_order(ask("a", 5000))
        o = v.place_order(bid("b", 5000))
        ids.append((o.order_id, v.trades()[0].trade_id))
    assert ids[0] == ids[1]
