"""The portfolio step: rank by value per dollar, one event at a time, never beyond cash."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kalshi_core.engine.edge import intent_cost
from kalshi_core.engine.portfolio import AllocationLimits, Candidate, allocate, value_per_dollar
from kalshi_core.models import Action
from kalshi_core.money import CONTRACT, DOLLAR
from tests.engine.builders import buy, portfolio, position, positions


def candidate(ticker: str, price: int, contracts: int, ev: int, event: str = "") -> Candidate:
    intent = buy(price, contracts, ticker=ticker, expected_value=ev)
    return Candidate(intent=intent, event_ticker=event or ticker.rsplit("-", 1)[0])


def test_ranks_by_expected_value_per_dollar() -> None:
    cheap_good = candidate("KXA-1-A", 2000, 10, ev=1 * DOLLAR)  # $1 on $2
    dear_ok = candidate("KXB-1-A", 8000, 10, ev=2 * DOLLAR)  # $2 on $8
    assert value_per_dollar(cheap_good) == Fraction(1, 2)
    chosen = allocate([dear_ok, cheap_good], portfolio(cash=100 * DOLLAR), AllocationLimits())
    assert [i.ticker for i in chosen] == ["KXA-1-A", "KXB-1-A"]


def test_shrinks_the_last_intent_to_the_cash_left() -> None:
    first = candidate("KXA-1-A", 5000, 10, ev=3 * DOLLAR)  # $5
    second = candidate("KXB-1-A", 5000, 10, ev=1 * DOLLAR)  # $5, only $3 left
    chosen = allocate([first, second], portfolio(cash=8 * DOLLAR), AllocationLimits())
    assert [i.count for i in chosen] == [10 * CONTRACT, 6 * CONTRACT]
    assert chosen[1].expected_value == DOLLAR * 6 // 10


def test_at_most_max_per_event_and_skips_no_value() -> None:
    a = candidate("KXE-1-A", 3000, 1, ev=500)
    b = candidate("KXE-1-B", 3000, 1, ev=400)
    c = candidate("KXE-1-C", 3000, 1, ev=300)
    worthless = candidate("KXF-1-A", 3000, 1, ev=0)
    chosen = allocate(
        [a, b, c, worthless], portfolio(cash=100 * DOLLAR), AllocationLimits(max_per_event=2)
    )
    assert [i.ticker for i in chosen] == ["KXE-1-A", "KXE-1-B"]


def test_event_exposure_cap_counts_what_is_held() -> None:
    held = portfolio(
        cash=910 * DOLLAR,
        positions=positions(position("KXE-1-A", 100, 9000)),
        event_of={"KXE-1-A": "KXE-1"},
    )
    # value $1000, cap 10% = $100, $90 held -> $10 left -> 20 contracts at 50c
    chosen = allocate(
        [candidate("KXE-1-B", 5000, 50, ev=DOLLAR)],
        held,
        AllocationLimits(max_event_exposure_pct=Fraction(1, 10)),
    )
    assert [i.count for i in chosen] == [20 * CONTRACT]


def test_sells_pass_first_without_using_cash() -> None:
    sell = Candidate(
        intent=buy(5000, 5, ticker="KXA-1-A", action=Action.SELL, reduce_only=True),
        event_ticker="KXA-1",
    )
    chosen = allocate(
        [candidate("KXB-1-A", 5000, 1, ev=10), sell], portfolio(cash=0), AllocationLimits()
    )
    assert chosen == [sell.intent]


def test_cash_reserve_is_never_allocated() -> None:
    chosen = allocate(
        [candidate("KXA-1-A", 5000, 10, ev=DOLLAR)],
        portfolio(cash=10 * DOLLAR),
        AllocationLimits(cash_reserve=8 * DOLLAR),
    )
    assert [i.count for i in chosen] == [4 * CONTRACT]


candidates = st.lists(
    st.builds(
        candidate,
        st.sampled_from(["KXA-1-A", "KXA-1-B", "KXB-1-A", "KXC-2-A"]),
        st.integers(1, DOLLAR - 1),
        st.integers(0, 300),
        st.integers(-DOLLAR, 50 * DOLLAR),
    ),
    max_size=15,
)


@given(
    cands=candidates,
    cash=st.integers(0, 500 * DOLLAR),
    reserve=st.integers(0, 100 * DOLLAR),
    per_event=st.integers(0, 3),
)
def test_never_allocates_more_than_available_cash(
    cands: list[Any], cash: int, reserve: int, per_event: int
) -> None:
    limits = AllocationLimits(max_per_event=per_event, cash_reserve=reserve)
    chosen = allocate(cands, portfolio(cash=cash), limits)
    assert sum(intent_cost(i) for i in chosen) <= max(cash - reserve, 0)
    events = [i.ticker.rsplit("-", 1)[0] for i in chosen]
    assert all(events.count(e) <= per_event for e in events)
    originals = {id(c.intent): c.intent for c in cands}
    assert all(i.count > 0 for i in chosen)
    assert len(chosen) <= len(originals)
