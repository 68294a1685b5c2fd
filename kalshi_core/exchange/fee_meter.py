"""Exact fees as integers: one market's fee terms turned into whole sub-units of money.

:class:`kalshi_core.fees.FeeModel` speaks in :class:`~fractions.Fraction`; the matching engine
accrues each order's exact fees as an ``int`` count of ``1/denominator`` money units instead,
so no Fraction is built on the matching path. For :class:`~kalshi_core.fees.KalshiFeeModel`
and :class:`~kalshi_core.fees.NoFees` the integer formula is the model's own, term for term;
any other model is asked for a Fraction that must be a whole number of sub-units (a model may
name its ``fee_denominator(schedule)``). The charges are identical to the Fraction
accumulator's (``tests/exchange/test_fee_meter.py`` checks it on random fills).
"""

from __future__ import annotations

import math
from datetime import datetime
from fractions import Fraction

from kalshi_core.fees import FeeModel, FeeSchedule, KalshiFeeModel, NoFees
from kalshi_core.money import CONTRACT, DOLLAR, Count, Money, Price

_BASE = CONTRACT * DOLLAR  # count x price x (DOLLAR - price) is in these units of money
_GENERIC_DENOMINATOR = _BASE * 10_000
_MOST_CACHE_SIZE = 100_000
_HALF = DOLLAR // 2


class FeeMeter:
    """Exact fees of one market in ``1/denominator`` money units, and what they charge."""

    __slots__ = (
        "_maker",
        "_model",
        "_most_cache",
        "_round",
        "_schedule",
        "_taker",
        "_unit",
        "_waiver_until",
        "denominator",
    )

    def __init__(self, model: FeeModel, schedule: FeeSchedule) -> None:
        self._model = model
        self._schedule = schedule
        self._waiver_until = schedule.waiver_until  # the schedule is frozen
        self._round = 0  # the rounding unit in sub-units; 0: ask the model to charge
        self._unit = 0
        self._most_cache: dict[tuple[Price, Count, bool], Money] = {}  # models without ints
        self._taker = self._maker = 0  # per count x price x (DOLLAR - price), in sub-units
        if isinstance(model, KalshiFeeModel):
            self._kalshi(model, schedule)
        elif isinstance(model, NoFees):
            self.denominator = 1
        else:
            named = getattr(model, "fee_denominator", None)
            self.denominator = int(named(schedule)) if named else _GENERIC_DENOMINATOR

    def _kalshi(self, model: KalshiFeeModel, schedule: FeeSchedule) -> None:
        taker = model.rate(schedule, is_taker=True)
        maker = model.rate(schedule, is_taker=False)
        common = math.lcm(taker.denominator, maker.denominator)
        self.denominator = common * _BASE
        self._taker = taker.numerator * (common // taker.denominator)
        self._maker = maker.numerator * (common // maker.denominator)
        self._round = model.round_to * self.denominator
        self._unit = model.round_to  # money per rounding step

    def exact(self, *, price: Price, count: Count, is_taker: bool, now: datetime | None) -> int:
        """The unrounded fee of one execution, in sub-units (``now=None``: ignore waivers)."""
        if self._round:
            if count <= 0 or self._schedule.waived(now):
                return 0
            rate = self._taker if is_taker else self._maker
            return rate * count * price * (DOLLAR - price)
        if isinstance(self._model, NoFees):
            return 0
        fee = self._model.exact_fee(
            self._schedule, price=price, count=count, is_taker=is_taker, now=now
        )
        return self._units(fee)

    def accrue(
        self, accrued: int, price: Price, count: Count, is_taker: bool, now: datetime
    ) -> tuple[int, Money]:
        """An order's exact fees ``accrued`` plus one more execution, and what that execution
        is charged: the rounded total after it less the rounded total before."""
        waiver = self._waiver_until  # schedule.waived(now), without the call per fill
        if not self._round or count <= 0 or (waiver is not None and now < waiver):
            after = accrued + self.exact(price=price, count=count, is_taker=is_taker, now=now)
            return after, self.charge(after) - self.charge(accrued)
        rate = self._taker if is_taker else self._maker
        after = accrued + rate * count * price * (DOLLAR - price)
        step, unit = self._round, self._unit
        charged_after, charged_before = -(-after // step) * unit, -(-accrued // step) * unit
        # Negative totals (a rebate schedule) charge nothing, as in charge().
        return after, (charged_after if charged_after > 0 else 0) - (
            charged_before if charged_before > 0 else 0
        )

    def most(self, price: Price, count: Count, is_taker: bool) -> Money:
        """What one execution of ``count`` at ``price`` is charged alone, waivers ignored
        (what a reserve must cover)."""
        if self._round and count > 0:
            rate = self._taker if is_taker else self._maker
            exact = rate * count * price * (DOLLAR - price)
            rounded = -(-exact // self._round) * self._unit
            return rounded if rounded > 0 else 0
        key = (price, count, is_taker)
        cache = self._most_cache
        charged = cache.get(key)
        if charged is None:
            if len(cache) > _MOST_CACHE_SIZE:
                cache.clear()
            exact = self.exact(price=price, count=count, is_taker=is_taker, now=None)
            charged = cache[key] = self.charge(exact)
        return charged

    def reserve(self, is_bid: bool, limit: Price, count: Count, is_taker: bool) -> Money:
        """What a reserve must cover for ``count`` of an order at ``limit``: :meth:`most` at
        the price it may trade at with the largest P(1-P), the one nearest 0.50."""
        if not count:
            return 0
        # A bid trades at its limit or below, an ask at or above; P(1-P) peaks at 0.50.
        below, above = (limit if limit < _HALF else _HALF), (limit if limit > _HALF else _HALF)
        return self.most(below if is_bid else above, count, is_taker)

    def charge(self, accrued: int) -> Money:
        """Money charged for ``accrued`` sub-units of exact fees (the model's rounding)."""
        if self._round:
            return max(0, -(-accrued // self._round) * (self._round // self.denominator))
        if isinstance(self._model, NoFees):
            return 0
        return self._model.charge(Fraction(accrued, self.denominator))

    def _units(self, fee: Fraction) -> int:
        units = fee * self.denominator
        if units.denominator != 1:
            raise ValueError(
                f"{type(self._model).__name__} returned a fee of {fee}, not a whole number of "
                f"1/{self.denominator} money units: give the model a fee_denominator(schedule)"
            )
        return units.numerator
