"""allocate_print: hand-computed cases and its invariants, property-tested."""

from __future__ import annotations

import hypothesis.strategies as st
from hypothesis import given

from kalshi_core.exchange.fill_models.queue import (
    Queued,
    allocate_print,
    power_queue_depth,
    risk_averse_depth,
)
from kalshi_core.models import BookSide


def bid(order_id: str, price: int, remaining: int, ahead: int | None, seq: int = 0) -> Queued:
    return Queued(
        order_id=order_id,
        side=BookSide.BID,
        price=price,
        sequence=seq,
        remaining=remaining,
        ahead=ahead,
    )


def counts(fills: list[tuple[Queued, int]]) -> dict[str, int]:
    return {order.order_id: count for order, count in fills}


def test_a_print_at_the_price_first_consumes_the_queue_ahead() -> None:
    order = bid("a", 50, remaining=10, ahead=20)
    assert allocate_print(BookSide.BID, 50, 15, [order]) == []
    assert order.ahead == 5
    assert counts(allocate_print(BookSide.BID, 50, 8, [order])) == {"a": 3}
    assert order.ahead == 0


def test_a_print_through_the_price_fills_ahead_of_the_recorded_queue() -> None:
    order = bid("a", 50, remaining=10, ahead=20)
    assert counts(allocate_print(BookSide.BID, 48, 4, [order])) == {"a": 4}
    assert order.ahead == 0


def test_an_unknown_queue_fills_only_through_its_price() -> None:
    order = bid("a", 50, remaining=10, ahead=None)
    assert allocate_print(BookSide.BID, 50, 1000, [order]) == []
    assert counts(allocate_print(BookSide.BID, 49, 1000, [order])) == {"a": 10}


def test_a_print_never_fills_a_worse_price_or_the_wrong_side() -> None:
    order = bid("a", 50, remaining=10, ahead=0)
    assert allocate_print(BookSide.BID, 51, 100, [order]) == []  # sold at 51: above our bid
    assert allocate_print(BookSide.ASK, 50, 100, [order]) == []  # a buyer lifted asks


def test_one_print_is_shared_in_price_time_priority() -> None:
    better = bid("better", 52, remaining=5, ahead=7)
    early = bid("early", 50, remaining=5, ahead=0, seq=1)
    late = bid("late", 50, remaining=5, ahead=3, seq=2)
    fills = counts(allocate_print(BookSide.BID, 50, 12, [late, early, better]))
    # better (a print through it: its queue is gone) takes 5, early 5; late sits behind our
    # 10 and 3 outside contracts, 13 > 12: nothing for it, and 2 of its 3 ahead traded.
    assert fills == {"better": 5, "early": 5}
    assert late.ahead == 1  # 12 - 10 of ours = 2 outside contracts traded ahead of it


orders = st.lists(
    st.builds(
        Queued,
        order_id=st.uuids().map(str),
        side=st.sampled_from(list(BookSide)),
        price=st.integers(1, 99),
        sequence=st.integers(0, 50),
        remaining=st.integers(0, 500),
        ahead=st.one_of(st.none(), st.integers(0, 500)),
    ),
    max_size=12,
)


@given(orders, st.sampled_from(list(BookSide)), st.integers(1, 99), st.integers(0, 1000))
def test_a_print_never_fills_more_than_its_size_or_an_order_beyond_its_limit(
    queued: list[Queued], maker: BookSide, price: int, volume: int
) -> None:
    before = {id(o): (o.remaining, o.ahead) for o in queued}
    fills = allocate_print(maker, price, volume, queued)
    assert sum(count for _, count in fills) <= volume
    for order, count in fills:
        remaining, ahead = before[id(order)]
        assert 0 < count <= remaining
        assert order.side is maker
        assert order.price >= price if maker is BookSide.BID else order.price <= price
        at_price = order.price == price
        assert not (at_price and ahead is None)
        if at_price and ahead is not None:
            assert count <= volume - ahead
    for order in queued:
        _, ahead = before[id(order)]
        if ahead is not None and order.ahead is not None:
            assert 0 <= order.ahead <= ahead


@given(st.integers(0, 1000), st.integers(0, 1000), st.integers(0, 1000), st.floats(0.1, 10))
def test_queue_estimates_never_grow_or_exceed_the_level(
    ahead: int, before: int, after: int, power: float
) -> None:
    ahead = min(ahead, before)
    for rule in (power_queue_depth, risk_averse_depth):
        moved = rule(ahead, before, after, power)
        assert 0 <= moved <= max(ahead, 0)
        assert moved <= after


def test_power_queue_splits_a_cancel_by_the_power_of_front_and_back() -> None:
    # 10 ahead, 30 behind, 20 canceled; n=2: behind with 900/(900+100) = 0.9
    # est = 10 - 0.1*20 + min(30 - 18, 0) = 8
    assert power_queue_depth(10, 40, 20, 2.0) == 8
    assert risk_averse_depth(10, 40, 20) == 10
    assert risk_averse_depth(10, 40, 6) == 6
