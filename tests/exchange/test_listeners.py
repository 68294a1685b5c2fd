"""The venue's listeners (``Venue.listeners``): every change told once, as it happens.

The level deltas of any order flow add up to the book; a fill tells the order and the
position after it; a market's determination carries its result; and a listener that raises
changes nothing the venue does.
"""

from __future__ import annotations

import contextlib
from collections import Counter

import hypothesis.strategies as st
from hypothesis import given, settings

from kalshi_core.clock import ManualClock
from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import Venue
from kalshi_core.exchange.changes import (
    Change,
    Filled,
    LevelChanged,
    MarketChanged,
    OrderChanged,
    PositionChanged,
)
from kalshi_core.models import BookSide, MarketResult, MarketStatus, OrderStatus, TimeInForce
from kalshi_core.money import CENT, CONTRACT, DOLLAR

from .support import FUNDS, START, TICKER, ask, bid, make_market

IOC = TimeInForce.IMMEDIATE_OR_CANCEL
FLOW = st.lists(
    st.tuples(
        st.sampled_from(["alice", "bob"]),
        st.sampled_from([BookSide.BID, BookSide.ASK]),
        st.integers(40, 60),
        st.integers(1, 5),
        st.sampled_from([TimeInForce.GOOD_TILL_CANCELED, IOC]),
        st.booleans(),  # cancel it at once, if it rests
    ),
    max_size=40,
)


def fresh_venue() -> tuple[Venue, list[Change]]:
    venue = Venue(ManualClock(START))
    seen: list[Change] = []
    venue.listeners.append(seen.append)
    venue.list_market(make_market())
    for name in ("alice", "bob"):
        venue.deposit(name, FUNDS)
    return venue, seen


@settings(max_examples=60, deadline=None)
@given(flow=FLOW)
def test_level_deltas_add_up_to_the_book(flow: list[tuple[object, ...]]) -> None:
    venue, seen = fresh_venue()
    for account, side, cents, contracts, tif, cancel in flow:
        request = (bid if side is BookSide.BID else ask)(account, cents * CENT, contracts, tif=tif)
        with contextlib.suppress(ExchangeError):
            placed = venue.place_order(request)
            if cancel and placed.status is OrderStatus.RESTING:
                venue.cancel(str(account), placed.order_id)
    levels: Counter[tuple[BookSide, int]] = Counter()
    for change in seen:
        if isinstance(change, LevelChanged):
            levels[(change.side, change.price)] += change.delta
    book = venue.orderbook(TICKER)
    expected = Counter({(BookSide.BID, lvl.price): lvl.count for lvl in book.yes})
    expected.update({(BookSide.ASK, DOLLAR - lvl.price): lvl.count for lvl in book.no})
    assert +levels == expected  # unary plus drops the levels that netted to zero


def test_a_fill_tells_the_order_and_the_position_after_it() -> None:
    venue, seen = fresh_venue()
    venue.place_order(ask("bob", 45 * CENT, 3))
    seen.clear()
    venue.place_order(bid("alice", 45 * CENT, 2, tif=IOC))
    kinds = [type(c).__name__ for c in seen]
    assert kinds == ["OrderChanged", "LevelChanged", "Filled", "Filled"]
    taker, maker = (c for c in seen if isinstance(c, Filled))
    assert (taker.order.user_id, taker.order.status, taker.position.position) == (
        "alice",
        OrderStatus.EXECUTED,
        2 * CONTRACT,
    )
    assert (maker.order.remaining_count, maker.position.position) == (CONTRACT, -2 * CONTRACT)
    level = next(c for c in seen if isinstance(c, LevelChanged))
    assert (level.account_id, level.delta) == ("alice", -2 * CONTRACT)  # the taker caused it


def test_determination_carries_the_result_and_settlements_the_positions() -> None:
    venue, seen = fresh_venue()
    venue.place_order(ask("bob", 45 * CENT, 1))
    venue.place_order(bid("alice", 45 * CENT, 1, tif=IOC))
    seen.clear()
    venue.determine(TICKER, MarketResult.YES)
    markets = [c for c in seen if isinstance(c, MarketChanged)]
    assert [(m.previous, m.market.status, m.market.result) for m in markets] == [
        (MarketStatus.ACTIVE, MarketStatus.CLOSED, MarketResult.NONE),
        (MarketStatus.CLOSED, MarketStatus.DETERMINED, MarketResult.YES),
    ]
    paid = {c.account_id: c.position.position for c in seen if isinstance(c, PositionChanged)}
    assert paid == {"alice": 0, "bob": 0}


def test_a_listener_that_raises_changes_nothing() -> None:
    venue, seen = fresh_venue()

    def broken(change: Change) -> None:
        raise RuntimeError("listener bug")

    venue.listeners.insert(0, broken)
    venue.place_order(ask("bob", 45 * CENT, 2))
    done = venue.place_order(bid("alice", 45 * CENT, 1, tif=IOC))
    assert done.fill_count == CONTRACT
    assert venue.ledger().balanced
    assert any(isinstance(c, Filled) for c in seen)  # later listeners still hear it
    assert any(isinstance(c, OrderChanged) for c in seen)


def test_no_listener_no_reports() -> None:
    venue = Venue(ManualClock(START))
    venue.list_market(make_market())
    venue.deposit("alice", FUNDS)
    venue.place_order(bid("alice", 45 * CENT, 1))
    assert venue.listeners == []
