"""The integer fee accumulator charges exactly what the Fraction accumulator does."""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kalshi_core.exchange.fee_meter import FeeMeter
from kalshi_core.fees import FeeSchedule, KalshiFeeModel, NoFees
from kalshi_core.models import FeeType
from kalshi_core.money import CENT, CONTRACT, DOLLAR, Count, Money, Price

from .support import START

fills = st.lists(
    st.tuples(
        st.integers(1, DOLLAR - 1),  # YES price
        st.integers(1, 10_000 * CONTRACT),  # count
        st.booleans(),  # taker?
    ),
    min_size=1,
    max_size=30,
)
schedules = st.builds(
    FeeSchedule,
    fee_type=st.sampled_from(list(FeeType)),
    multiplier=st.fractions(min_value=-1, max_value=5, max_denominator=1000),
    waiver_until=st.sampled_from([None, START - timedelta(1), START + timedelta(1)]),
)


def fraction_charges(
    model: KalshiFeeModel, schedule: FeeSchedule, flow: list[tuple[Price, Count, bool]]
) -> list[Money]:
    """The reference: the per-order accumulator as the venue kept it, in Fractions."""
    accrued, charges = Fraction(0), []
    for price, count, is_taker in flow:
        before = model.charge(accrued)
        accrued += model.exact_fee(schedule, price=price, count=count, is_taker=is_taker, now=START)
        charges.append(model.charge(accrued) - before)
    return charges


def meter_charges(
    meter: FeeMeter, flow: list[tuple[Price, Count, bool]], now: datetime | None = START
) -> list[Money]:
    accrued, charges = 0, []
    for price, count, is_taker in flow:
        before = meter.charge(accrued)
        accrued += meter.exact(price=price, count=count, is_taker=is_taker, now=now)
        assert type(accrued) is int
        charges.append(meter.charge(accrued) - before)
    return charges


@settings(max_examples=300, deadline=None)
@given(schedule=schedules, flow=fills, round_to=st.sampled_from([CENT, 1, 3 * CENT]))
def test_integer_accumulator_charges_what_the_fraction_one_does(
    schedule: FeeSchedule, flow: list[tuple[Price, Count, bool]], round_to: Money
) -> None:
    model = KalshiFeeModel(round_to)
    assert meter_charges(FeeMeter(model, schedule), flow) == fraction_charges(model, schedule, flow)


@settings(max_examples=100, deadline=None)
@given(schedule=schedules, price=st.integers(1, DOLLAR - 1), count=st.integers(1, 10**7))
def test_worst_case_reserve_ignores_waivers_like_the_model(
    schedule: FeeSchedule, price: Price, count: Count
) -> None:
    model = KalshiFeeModel()
    meter = FeeMeter(model, schedule)
    exact = model.exact_fee(schedule, price=price, count=count, is_taker=True, now=None)
    assert meter.charge(meter.exact(price=price, count=count, is_taker=True, now=None)) == (
        model.charge(exact)
    )


def test_no_fees_charges_nothing() -> None:
    meter = FeeMeter(NoFees(), FeeSchedule())
    assert meter_charges(meter, [(5000, 100 * CONTRACT, True)] * 3) == [0, 0, 0]


class HalfCentModel:
    """A plugin-style model the meter knows only through the FeeModel protocol."""

    def exact_fee(
        self,
        schedule: FeeSchedule,
        *,
        price: Price,
        count: Count,
        is_taker: bool,
        now: datetime | None,
    ) -> Fraction:
        return Fraction(count * (1 if is_taker else 3), 2 * CONTRACT)

    def charge(self, accrued: Fraction) -> Money:
        return -(-accrued.numerator // accrued.denominator)


def test_another_model_is_accrued_exactly_through_its_fractions() -> None:
    meter = FeeMeter(HalfCentModel(), FeeSchedule())
    # 0.5, then 1.5 more (2 in all), then 0.5 more (2.5 -> 3)
    flow = [(5000, CONTRACT, True), (5000, CONTRACT, False), (5000, CONTRACT, True)]
    assert meter_charges(meter, flow) == [1, 1, 1]


class ThirdsModel(HalfCentModel):
    def exact_fee(
        self,
        schedule: FeeSchedule,
        *,
        price: Price,
        count: Count,
        is_taker: bool,
        now: datetime | None,
    ) -> Fraction:
        return Fraction(1, 3 * 7**20)


def test_a_fee_finer_than_the_sub_unit_is_refused_by_name() -> None:
    meter = FeeMeter(ThirdsModel(), FeeSchedule())
    with pytest.raises(ValueError, match="ThirdsModel returned a fee of 1/"):
        meter.exact(price=5000, count=CONTRACT, is_taker=True, now=START)


class NamedDenominatorModel(ThirdsModel):
    def fee_denominator(self, schedule: FeeSchedule) -> int:
        return 3 * 7**20


def test_a_model_may_name_its_sub_unit() -> None:
    meter = FeeMeter(NamedDenominatorModel(), FeeSchedule())
    assert meter.exact(price=5000, count=CONTRACT, is_taker=True, now=START) == 1
    assert meter.charge(1) == 1


def accrued_charges(meter: FeeMeter, flow: list[tuple[Price, Count, bool]]) -> list[Money]:
    accrued, charges = 0, []
    for price, count, is_taker in flow:
        accrued, fee = meter.accrue(accrued, price, count, is_taker, START)
        charges.append(fee)
    return charges


@settings(max_examples=200, deadline=None)
@given(schedule=schedules, flow=fills, round_to=st.sampled_from([CENT, 1, 3 * CENT]))
def test_accrue_in_one_call_charges_what_exact_and_charge_do(
    schedule: FeeSchedule, flow: list[tuple[Price, Count, bool]], round_to: Money
) -> None:
    meter = FeeMeter(KalshiFeeModel(round_to), schedule)
    assert accrued_charges(meter, flow) == meter_charges(meter, flow)


def test_accrue_asks_another_model_through_its_fractions() -> None:
    meter = FeeMeter(HalfCentModel(), FeeSchedule())
    flow = [(5000, CONTRACT, True), (5000, CONTRACT, False), (5000, CONTRACT, True)]
    assert accrued_charges(meter, flow) == [1, 1, 1]


@settings(max_examples=200, deadline=None)
@given(
    schedule=schedules,
    price=st.integers(1, DOLLAR - 1),
    count=st.integers(0, 10**7),
    is_taker=st.booleans(),
)
def test_most_is_one_execution_charged_alone_without_waivers(
    schedule: FeeSchedule, price: Price, count: Count, is_taker: bool
) -> None:
    for meter in (FeeMeter(KalshiFeeModel(), schedule), FeeMeter(HalfCentModel(), schedule)):
        alone = meter.exact(price=price, count=count, is_taker=is_taker, now=None)
        assert meter.most(price, count, is_taker) == meter.charge(alone)
        assert meter.most(price, count, is_taker) == meter.charge(alone)  # cached the same


@settings(max_examples=200, deadline=None)
@given(
    schedule=schedules,
    limit=st.integers(1, DOLLAR - 1),
    count=st.integers(0, 10**7),
    is_bid=st.booleans(),
    is_taker=st.booleans(),
)
def test_reserve_is_the_most_at_the_tradable_price_nearest_half(
    schedule: FeeSchedule, limit: Price, count: Count, is_bid: bool, is_taker: bool
) -> None:
    # A bid trades at or below its limit, an ask at or above: the dearest fee of each range.
    tradable = range(1, limit + 1) if is_bid else range(limit, DOLLAR)
    worst = min(tradable, key=lambda price: abs(2 * price - DOLLAR))
    for meter in (FeeMeter(KalshiFeeModel(), schedule), FeeMeter(HalfCentModel(), schedule)):
        expected = meter.most(worst, count, is_taker) if count else 0
        assert meter.reserve(is_bid, limit, count, is_taker) == expected
