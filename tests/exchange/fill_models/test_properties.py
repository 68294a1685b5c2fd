"""Every fill model, any mix of orders, quotes and prints: the invariants hold.

* one print never fills more than its size across all members' orders;
* no fill at a price worse than the order's limit, and none beyond the order's size;
* every fill reaches the position (hftbacktest #316) and the venue's money stays balanced.
"""

from __future__ import annotations

import contextlib
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from kalshi_core.errors import ExchangeError
from kalshi_core.exchange.venue import Venue
from kalshi_core.models import BookSide, TimeInForce
from kalshi_core.money import CENT, CONTRACT

from ..support import TICKER, order
from .conftest import MODELS, MakeModel, bought, quote, sold

MEMBERS = ("alice", "bob")

places = st.tuples(
    st.just("place"),
    st.sampled_from(MEMBERS),
    st.sampled_from(list(BookSide)),
    st.integers(30, 70),
    st.integers(1, 30),
    st.sampled_from([TimeInForce.GOOD_TILL_CANCELED, TimeInForce.IMMEDIATE_OR_CANCEL]),
)
quotes = st.tuples(
    st.just("quote"),
    st.integers(30, 60),
    st.integers(1, 15),
    st.one_of(st.none(), st.integers(0, 40)),
    st.one_of(st.none(), st.integers(0, 40)),
)
prints = st.tuples(st.just("print"), st.booleans(), st.integers(25, 75), st.integers(1, 60))
steps = st.lists(st.one_of(places, quotes, prints), min_size=1, max_size=40)


def _maker_fill_ids(venue: Venue) -> set[tuple[str, str]]:
    return {
        (f.fill_id, f.order_id) for m in MEMBERS for f in venue.fills(m, TICKER) if not f.is_taker
    }


def _apply(venue: Venue, model: Any, step: tuple[Any, ...]) -> None:
    kind = step[0]
    if kind == "place":
        _, who, side, cents, contracts, tif = step
        # refused when unaffordable or a self-trade: nothing changes then
        with contextlib.suppress(ExchangeError):
            venue.place_order(order(who, side, cents * CENT, contracts, tif=tif))
    elif kind == "quote":
        _, bid_cents, spread, bid_size, ask_size = step
        model.on_quote(quote(bid_cents, bid_cents + spread, bid_size, ask_size))
    else:
        _, buyer, cents, contracts = step
        before = _maker_fill_ids(venue)
        model.on_trade(bought(cents, contracts) if buyer else sold(cents, contracts))
        took = [
            f
            for m in MEMBERS
            for f in venue.fills(m, TICKER)
            if not f.is_taker and (f.fill_id, f.order_id) not in before
        ]
        assert sum(f.count for f in took) <= contracts * CONTRACT


def _check_orders(venue: Venue) -> None:
    for member in MEMBERS:
        fills = venue.fills(member, TICKER)
        net = 0
        for fill in fills:
            placed = venue.get_order(fill.order_id)
            limit = placed.yes_price
            assert (
                fill.yes_price <= limit
                if fill.book_side is BookSide.BID
                else fill.yes_price >= limit
            )
            net += fill.count if fill.book_side is BookSide.BID else -fill.count
        for placed in venue.orders(member):
            assert placed.fill_count <= placed.initial_count
        assert venue.position(member, TICKER).position == net


@pytest.mark.parametrize("name", sorted(MODELS))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=steps, seed=st.integers(0, 3))
def test_fill_model_invariants(
    make_model: MakeModel, name: str, script: list[tuple[Any, ...]], seed: int
) -> None:
    venue, model = make_model(name, seed=seed, levels=2)
    for step in script:
        _apply(venue, model, step)
        assert venue.ledger().balanced
    _check_orders(venue)
