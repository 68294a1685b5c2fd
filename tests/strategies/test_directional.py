"""Directional strategy: side choice after fees, Kelly size, order style and aggressiveness."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kalshi_core.builtin import strategies as builtin
from kalshi_core.models import Action, Side, TimeInForce
from kalshi_core.money import CONTRACT, DOLLAR
from kalshi_core.protocols import Strategy
from tests.engine.builders import context, forecast, market, portfolio, position, positions


def directional(**settings: Any) -> Any:
    return builtin.make_directional(settings)


def test_buys_yes_when_forecast_beats_the_ask_after_fees() -> None:
    strategy = directional(min_edge_cents=5, kelly_fraction=0.25, max_contracts=1000)
    assert isinstance(strategy, Strategy)
    [intent] = strategy.propose(market(), forecast(6200), context())
    assert (intent.side, intent.action, intent.price) == (Side.YES, Action.BUY, 5200)
    # f* = (0.62 - (0.52 + fee 0.017472)) / (1 - 0.537472) = 0.17843; 1/4 of $1000 = $44.61
    # (under the 5% cap of $50); $44.61 at 53.7472c = 82.99 -> 82 whole contracts
    assert intent.count == 82 * CONTRACT
    assert intent.time_in_force is TimeInForce.GOOD_TILL_CANCELED
    assert not intent.post_only
    assert intent.expected_value > 0
    assert "P(yes) $0.6200" in intent.reason


def test_buys_no_when_forecast_is_low() -> None:
    [intent] = directional().propose(market(), forecast(3000), context())
    assert intent.side is Side.NO
    assert intent.price == DOLLAR - 4800  # NO ask = 1 - YES bid


def test_no_order_without_edge_after_fees() -> None:
    # 5.5c gross at the ask but 1.75c fee leaves 3.75c < 5c
    assert directional(min_edge_cents=5).propose(market(), forecast(5750), context()) == []
    assert directional().propose(market(), None, context()) == []


def test_join_and_mid_with_post_only_ioc_style() -> None:
    join = directional(aggressiveness="join", post_only=True)
    [resting] = join.propose(market(), forecast(7000), context())
    assert resting.price == 4800
    assert resting.post_only
    mid = directional(aggressiveness="mid", order_style="ioc", post_only=True)
    [ioc] = mid.propose(market(yes_bid=4700, yes_ask=5200), forecast(7000), context())
    assert ioc.price == 4900  # 49.5c rounded down to the cent grid
    assert ioc.time_in_force is TimeInForce.IMMEDIATE_OR_CANCEL
    assert not ioc.post_only


def test_position_cap_counts_existing_exposure() -> None:
    held = portfolio(cash=955 * DOLLAR, positions=positions(position("KXTEST-25JUL01-A", 90, 5000)))
    # value $1000, cap 5% = $50, $45 held -> $5 room -> 9 contracts at 52c + fee
    [intent] = directional(kelly_fraction=1).propose(market(), forecast(9000), context(held))
    assert intent.count == 9 * CONTRACT
    full = portfolio(
        cash=950 * DOLLAR, positions=positions(position("KXTEST-25JUL01-A", 100, 5000))
    )
    assert directional().propose(market(), forecast(9000), context(full)) == []


@given(
    probability=st.integers(0, DOLLAR),
    bid=st.integers(1, 98).map(lambda c: c * 100),
    width=st.integers(1, 20).map(lambda c: c * 100),
    cash=st.integers(0, 10_000 * DOLLAR),
    max_contracts=st.integers(0, 500),
)
def test_directional_never_exceeds_its_caps(
    probability: int, bid: int, width: int, cash: int, max_contracts: int
) -> None:
    ask = min(bid + width, DOLLAR - 100)
    strategy = directional(max_contracts=max_contracts, kelly_fraction=1, min_edge_cents=0)
    ctx = context(portfolio(cash=cash))
    for intent in strategy.propose(market(yes_bid=bid, yes_ask=ask), forecast(probability), ctx):
        assert 0 < intent.count <= max_contracts * CONTRACT
        assert intent.price * intent.count // CONTRACT <= cash // 20
        belief = probability if intent.side is Side.YES else DOLLAR - probability
        assert belief > intent.price
