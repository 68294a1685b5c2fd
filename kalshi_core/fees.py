"""Pluggable trading-fee models for the local exchange.

A :class:`FeeModel` turns one execution into an *exact* fee (a :class:`~fractions.Fraction`
of money units) and turns an order's accrued exact fees into what the member is charged.
The venue keeps one accrual per order and role (taker, maker) and charges, on each fill,
``charge(accrued_after) - charge(accrued_before)``. This is the per-order rounding accumulator
Kalshi describes: an order is never charged more than its exact fees rounded up once, no
matter how many partial fills it gets, and a single fill pays its own fee rounded up.
"""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import Protocol

import attrs

from kalshi_core.models import Event, FeeType, Series
from kalshi_core.money import CENT, CONTRACT, DOLLAR, Count, Money, Price

TAKER_RATE = Fraction(7, 100)
MAKER_RATES: dict[FeeType, Fraction] = {
    FeeType.QUADRATIC_WITH_MAKER_FEES: Fraction(7, 400),  # 0.0175 = 0.25 x 0.07
    FeeType.QUADRATIC_WITH_COMBO_MAKER_FEES: Fraction(7, 200),  # 0.035 = 0.5 x 0.07
}


@attrs.frozen(kw_only=True)
class FeeSchedule:
    """The fee terms of one market: its series' fee type, multiplier and any fee waiver."""

    fee_type: FeeType = FeeType.QUADRATIC
    multiplier: Fraction = Fraction(1)
    waiver_until: datetime | None = None

    @classmethod
    def from_series(
        cls, series: Series, event: Event | None = None, *, waiver_until: datetime | None = None
    ) -> FeeSchedule:
        """Terms from a Series (and an Event's ``fee_multiplier_override`` when it has one).

        The float multiplier is read through its shortest decimal text (``1.5`` -> 3/2) so no
        binary-float error reaches the integer fee arithmetic.
        """
        multiplier = series.fee_multiplier
        if event is not None and event.fee_multiplier_override is not None:
            multiplier = event.fee_multiplier_override
        return cls(
            fee_type=series.fee_type,
            multiplier=Fraction(str(multiplier)),
            waiver_until=waiver_until,
        )

    def waived(self, now: datetime | None) -> bool:
        """True while a fee waiver is in force. ``now=None`` asks for the worst case: no."""
        return now is not None and self.waiver_until is not None and now < self.waiver_until


class FeeModel(Protocol):
    """How much one execution costs in fees."""

    def exact_fee(
        self,
        schedule: FeeSchedule,
        *,
        price: Price,
        count: Count,
        is_taker: bool,
        now: datetime | None,
    ) -> Fraction:
        """Unrounded fee in money units for ``count`` contracts at YES ``price``, never < 0.

        ``now=None`` means "ignore waivers" (the venue uses it to reserve the worst case).
        """
        ...

    def charge(self, accrued: Fraction) -> Money:
        """Money charged for ``accrued`` exact fees; non-decreasing in ``accrued``."""
        ...


class KalshiFeeModel:
    """Kalshi's quadratic fee schedule (the July 2025 fee schedule as published).

    Assumptions, each a choice where Kalshi's documents are silent or vague:

    * Taker fee = 0.07 x C x P x (1 - P) with C contracts at P dollars; the price is the trade's
      YES price, which gives the same fee for either side because P(1-P) is symmetric.
    * Maker fee only for series of fee type ``quadratic_with_maker_fees`` (0.0175) and
      ``quadratic_with_combo_maker_fees`` (0.035); zero for ``quadratic``.
    * ``flat`` (a fee table we do not have) is treated like ``quadratic``.
    * The series ``fee_multiplier`` (or the event's override) scales both rates; a negative
      multiplier is treated as zero, so fees are never negative.
    * Rounding: up to ``round_to`` (one cent by default; pass ``1`` for the newer $0.0001
      regime), applied to each order's accrued fees per role, see the module docstring.
    * No fee while ``FeeSchedule.waiver_until`` is in the future; no settlement fee.
    """

    def __init__(self, round_to: Money = CENT) -> None:
        if round_to <= 0:
            raise ValueError(f"KalshiFeeModel round_to must be positive, got {round_to}")
        self.round_to = round_to
        self._rates: dict[tuple[FeeType, Fraction, bool], Fraction] = {}

    def rate(self, schedule: FeeSchedule, *, is_taker: bool) -> Fraction:
        """The fee rate that applies to one role under ``schedule``, multiplier included."""
        key = (schedule.fee_type, schedule.multiplier, is_taker)
        rate = self._rates.get(key)
        if rate is None:
            base = TAKER_RATE if is_taker else MAKER_RATES.get(schedule.fee_type, Fraction(0))
            rate = self._rates[key] = base * max(schedule.multiplier, Fraction(0))
        return rate

    def exact_fee(
        self,
        schedule: FeeSchedule,
        *,
        price: Price,
        count: Count,
        is_taker: bool,
        now: datetime | None,
    ) -> Fraction:
        if schedule.waived(now) or count <= 0:
            return Fraction(0)
        rate = self.rate(schedule, is_taker=is_taker)
        if not rate:
            return Fraction(0)
        # count/CONTRACT contracts x P(1-P) dollars, in money units: c*p*(D-p) / (CONTRACT*D)
        return Fraction(
            rate.numerator * count * price * (DOLLAR - price),
            rate.denominator * CONTRACT * DOLLAR,
        )

    def charge(self, accrued: Fraction) -> Money:
        units = -(-accrued.numerator // (accrued.denominator * self.round_to))
        return max(0, units * self.round_to)


class NoFees:
    """A fee model that never charges: for experiments that want fees out of the picture."""

    def exact_fee(
        self,
        schedule: FeeSchedule,
        *,
        price: Price,
        count: Count,
        is_taker: bool,
        now: datetime | None,
    ) -> Fraction:
        return Fraction(0)

    def charge(self, accrued: Fraction) -> Money:
        return 0
