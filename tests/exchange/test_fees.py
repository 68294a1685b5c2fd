"""Kalshi's quadratic fee schedule, rounding, maker fees, multipliers and waivers."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import pytest

from kalshi_core.clock import ManualClock
from kalshi_core.exchange import FeeSchedule, KalshiFeeModel, NoFees, Venue
from kalshi_core.models import Event, FeeType, Series
from kalshi_core.money import CENT, CONTRACT, DOLLAR, parse_dollars

from .support import START, ask, bid, make_market

MODEL = KalshiFeeModel()
QUAD = FeeSchedule()


def taker_fee(price: int, contracts: int, schedule: FeeSchedule = QUAD) -> int:
    exact = MODEL.exact_fee(
        schedule, price=price, count=contracts * CONTRACT, is_taker=True, now=START
    )
    return MODEL.charge(exact)


@pytest.mark.parametrize(
    ("price", "contracts", "dollars_fee"),
    [
        (5000, 1, "0.02"),  # 0.07 * 0.25 = 0.0175 -> up to 2 cents
        (5000, 100, "1.75"),  # exact, no rounding
        (5000, 10, "0.18"),  # 0.175 -> 0.18
        (100, 1, "0.01"),  # 0.07 * 0.01 * 0.99 = 0.000693 -> 1 cent
        (9900, 1, "0.01"),  # symmetric in P
        (3000, 7, "0.11"),  # 0.07 * 7 * 0.21 = 0.1029 -> 0.11
        (2500, 40, "0.53"),  # 0.07 * 40 * 0.1875 = 0.525 -> 0.53
    ],
)
def test_taker_fee_is_rounded_up_to_the_cent(price: int, contracts: int, dollars_fee: str) -> None:
    assert taker_fee(price, contracts) == parse_dollars(dollars_fee)


def test_fee_is_exact_integer_math() -> None:
    exact = MODEL.exact_fee(QUAD, price=5000, count=CONTRACT, is_taker=True, now=None)
    assert exact == Fraction(175)  # $0.0175 in 1/10,000 dollar units


def test_rounding_unit_is_configurable() -> None:
    fine = KalshiFeeModel(round_to=1)
    exact = fine.exact_fee(QUAD, price=5000, count=CONTRACT, is_taker=True, now=None)
    assert fine.charge(exact) == 175
    with pytest.raises(ValueError, match="round_to"):
        KalshiFeeModel(round_to=0)


@pytest.mark.parametrize(
    ("fee_type", "maker_exact"),
    [
        (FeeType.QUADRATIC, Fraction(0)),
        (FeeType.QUADRATIC_WITH_MAKER_FEES, Fraction(175, 4)),  # 0.0175 * 0.25 dollars
        (FeeType.QUADRATIC_WITH_COMBO_MAKER_FEES, Fraction(175, 2)),  # 0.035 * 0.25
    ],
)
def test_maker_fee_depends_on_fee_type(fee_type: FeeType, maker_exact: Fraction) -> None:
    schedule = FeeSchedule(fee_type=fee_type)
    exact = MODEL.exact_fee(schedule, price=5000, count=CONTRACT, is_taker=False, now=None)
    assert exact == maker_exact
    assert MODEL.charge(exact) == (CENT if maker_exact else 0)


def test_multiplier_scales_and_negative_multiplier_means_no_fee() -> None:
    double = FeeSchedule(multiplier=Fraction(2))
    assert taker_fee(5000, 100, double) == 2 * taker_fee(5000, 100)
    assert taker_fee(5000, 100, FeeSchedule(multiplier=Fraction(-1))) == 0


def test_schedule_from_series_reads_multiplier_exactly_and_event_override_wins() -> None:
    series = Series(ticker="KX", title="t", category="c", fee_multiplier=1.1)
    assert FeeSchedule.from_series(series).multiplier == Fraction(11, 10)
    event = Event(event_ticker="KX-1", series_ticker="KX", title="e", fee_multiplier_override=0.5)
    assert FeeSchedule.from_series(series, event).multiplier == Fraction(1, 2)


def test_waiver_means_no_fee_until_it_expires() -> None:
    schedule = FeeSchedule(waiver_until=START + timedelta(hours=1))
    assert taker_fee(5000, 1, schedule) == 0
    later = MODEL.exact_fee(
        schedule, price=5000, count=CONTRACT, is_taker=True, now=START + timedelta(hours=1)
    )
    assert MODEL.charge(later) == 2 * CENT
    worst = MODEL.exact_fee(schedule, price=5000, count=CONTRACT, is_taker=True, now=None)
    assert worst > 0


def test_venue_charges_taker_fee_at_fill_and_never_on_placement(venue: Venue) -> None:
    venue.place_order(ask("alice", 5000, 1))
    assert venue.account("alice").cash == 1_000 * DOLLAR
    venue.place_order(bid("bob", 5000, 1))
    assert venue.fills("bob")[0].fee_cost == 2 * CENT
    assert venue.fills("alice")[0].fee_cost == 0
    assert venue.position("bob", "KXTEST-26MAR01-T50").fees_paid == 2 * CENT
    assert venue.ledger().fees == 2 * CENT


def test_partial_fills_accumulate_rounding_per_order(venue: Venue) -> None:
    for _ in range(4):
        venue.place_order(ask("alice", 5000, 1))
    taker = venue.place_order(bid("bob", 5000, 4))
    fees = [f.fee_cost for f in venue.fills("bob")]
    # cumulative exact 0.0175, 0.035, 0.0525, 0.07 -> rounded up 2, 4, 6, 7 cents
    assert sum(fees) == 7 * CENT == taker.taker_fees
    assert fees == [2 * CENT, 2 * CENT, 2 * CENT, 1 * CENT]


def test_maker_fee_charged_on_maker_series(maker_fee_venue: Venue) -> None:
    maker_fee_venue.place_order(ask("alice", 5000, 100))
    maker_fee_venue.place_order(bid("bob", 5000, 100))
    (maker_fill,) = maker_fee_venue.fills("alice")
    assert not maker_fill.is_taker
    assert maker_fill.fee_cost == 44 * CENT  # 0.0175 * 100 * 0.25 = 0.4375 -> 0.44
    assert maker_fee_venue.fills("bob")[0].fee_cost == 175 * CENT


def test_no_fees_model(clock: ManualClock) -> None:
    v = Venue(clock, fee_model=NoFees())
    v.list_market(make_market())
    v.deposit("a", DOLLAR * 10)
    v.deposit("b", DOLLAR * 10)
    v.place_order(ask("a", 5000, 1))
    v.place_order(bid("b", 5000, 1))
    assert v.ledger().fees == 0
