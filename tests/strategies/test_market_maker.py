"""Market maker: quotes around fair value, inventory skew, volatility, fees, adverse moves."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kalshi_core.builtin import strategies as builtin
from kalshi_core.fees import FeeSchedule
from kalshi_core.models import FeeType, Side, TimeInForce
from kalshi_core.money import CONTRACT, DOLLAR
from kalshi_core.strategies.market_maker import QuoteParams, make_quote, mean_abs_change
from tests.engine.builders import context, forecast, market, portfolio, position, positions

PARAMS = QuoteParams(
    base_half_spread=200,
    volatility_multiplier=Fraction(1),
    skew_per_contract=10,
    max_skew=500,
)


def maker(**settings: Any) -> Any:
    return builtin.make_market_maker(settings)


def yes_quote(intents: Any) -> tuple[int, int]:
    bid = next(i.price for i in intents if i.side is Side.YES)
    ask = DOLLAR - next(i.price for i in intents if i.side is Side.NO)
    return bid, ask


def test_quotes_both_sides_post_only_around_the_forecast() -> None:
    intents = maker().propose(market(yes_bid=4000, yes_ask=6000), forecast(5000), context())
    assert yes_quote(intents) == (4800, 5200)
    assert all(i.post_only and i.time_in_force is TimeInForce.GOOD_TILL_CANCELED for i in intents)
    assert sorted(i.reason for i in intents) == ["quote ask", "quote bid"]
    assert all(i.count == 10 * CONTRACT for i in intents)


def test_long_inventory_shifts_quotes_down() -> None:
    long = portfolio(positions=positions(position("KXTEST-25JUL01-A", 30, 5000)))
    intents = maker().propose(market(yes_bid=4000, yes_ask=6000), forecast(5000), context(long))
    assert yes_quote(intents) == (4500, 4900)  # skew 30 x 0.1c = 3c


def test_inventory_limit_drops_the_side_that_adds() -> None:
    long = portfolio(positions=positions(position("KXTEST-25JUL01-A", 50, 5000)))
    intents = maker().propose(market(yes_bid=4000, yes_ask=6000), forecast(5000), context(long))
    assert [i.reason for i in intents] == ["quote ask"]


def test_adverse_move_pulls_quotes_for_a_cycle() -> None:
    strategy = maker(adverse_move_cents=5, fair_value="mid")
    assert strategy.propose(market(yes_bid=4800, yes_ask=5200), None, context())
    assert strategy.propose(market(yes_bid=5800, yes_ask=6200), None, context()) == []
    assert strategy.propose(market(yes_bid=5800, yes_ask=6200), None, context())


def test_volatility_widens_the_spread() -> None:
    assert mean_abs_change([5000, 5400, 5000]) == 400
    calm = make_quote(
        5000, inventory=0, volatility=Fraction(0), round_trip_fee=Fraction(0), params=PARAMS
    )
    wild = make_quote(
        5000, inventory=0, volatility=Fraction(400), round_trip_fee=Fraction(0), params=PARAMS
    )
    assert calm is not None
    assert wild is not None
    assert (calm.bid, calm.ask) == (4800, 5200)
    assert (wild.bid, wild.ask) == (4600, 5400)


def test_never_quotes_inside_the_round_trip_fee() -> None:
    fees = FeeSchedule(fee_type=FeeType.QUADRATIC_WITH_MAKER_FEES, multiplier=Fraction(20))
    intents = maker().propose(
        market(yes_bid=1000, yes_ask=9000), forecast(5000), context(fee_schedule=fees)
    )
    bid, ask = yes_quote(intents)
    # maker fee at 50c: 0.0175 x 20 x 0.25 = 8.75c per leg, 17.5c round trip
    assert ask - bid > 1750


def test_quotes_do_not_cross_the_book() -> None:
    intents = maker().propose(market(yes_bid=5100, yes_ask=5200), forecast(6000), context())
    bid, ask = yes_quote(intents)
    assert bid < 5200
    assert ask > 5100


@given(
    fair=st.integers(1, DOLLAR - 1),
    inventory=st.integers(-10_000, 10_000),
    volatility=st.fractions(min_value=0, max_value=5000),
    fee=st.fractions(min_value=0, max_value=3000),
    base=st.integers(0, 3000),
    skew=st.integers(0, 100),
    max_skew=st.integers(0, 3000),
)
def test_quotes_are_ordered_inside_the_unit_interval_and_beyond_fees(
    fair: int,
    inventory: int,
    volatility: Fraction,
    fee: Fraction,
    base: int,
    skew: int,
    max_skew: int,
) -> None:
    params = QuoteParams(
        base_half_spread=base,
        volatility_multiplier=Fraction(1),
        skew_per_contract=skew,
        max_skew=max_skew,
    )
    quote = make_quote(
        fair, inventory=inventory, volatility=volatility, round_trip_fee=fee, params=params
    )
    if quote is not None:
        assert 0 < quote.bid < quote.ask < DOLLAR
        assert quote.ask - quote.bid > fee


@given(
    fair=st.integers(1000, 9000).map(lambda p: p // 100 * 100),
    inventory=st.integers(1, 5000),
)
def test_skew_moves_quotes_against_inventory(fair: int, inventory: int) -> None:
    flat = make_quote(
        fair, inventory=0, volatility=Fraction(0), round_trip_fee=Fraction(0), params=PARAMS
    )
    long = make_quote(
        fair, inventory=inventory, volatility=Fraction(0), round_trip_fee=Fraction(0), params=PARAMS
    )
    short = make_quote(
        fair,
        inventory=-inventory,
        volatility=Fraction(0),
        round_trip_fee=Fraction(0),
        params=PARAMS,
    )
    assert flat is not None
    assert long is not None
    assert short is not None
    assert long.bid <= flat.bid <= short.bid
    assert long.ask <= flat.ask <= short.ask


@given(
    bid=st.integers(0, 99).map(lambda c: c * 100),
    width=st.integers(1, 100).map(lambda c: c * 100),
    probability=st.integers(0, DOLLAR),
    held=st.integers(-100, 100),
)
def test_proposed_quotes_are_always_valid(
    bid: int, width: int, probability: int, held: int
) -> None:
    ask = min(bid + width, DOLLAR)
    port = portfolio(positions=positions(position("KXTEST-25JUL01-A", held, 5000)))
    intents = maker().propose(
        market(yes_bid=bid, yes_ask=ask), forecast(probability), context(port)
    )
    for intent in intents:
        assert 0 < intent.price < DOLLAR
    if len(intents) == 2:
        yes_bid, yes_ask = yes_quote(intents)
        assert yes_bid < yes_ask
