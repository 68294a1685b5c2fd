"""Expected edge of an order against a forecast, after the fee the order would pay.

A forecast is P(YES) in basis points of certainty, so it compares directly with prices; the
probability that a NO contract pays is ``DOLLAR - p``. Fees come from a fee model
(:class:`~kalshi_core.fees.KalshiFeeModel` by default) and the market's
:class:`~kalshi_core.fees.FeeSchedule` (the context's, or the default quadratic one).
"""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import Any

from kalshi_core.fees import FeeModel, FeeSchedule, KalshiFeeModel
from kalshi_core.models import Action, OrderIntent, Side, to_book
from kalshi_core.money import CONTRACT, DOLLAR, Count, Money, Price, notional

DEFAULT_FEE_MODEL: FeeModel = KalshiFeeModel()
DEFAULT_SCHEDULE = FeeSchedule()


def schedule_of(fee_schedule: Any) -> FeeSchedule:
    """The context's fee schedule, or the default quadratic one when it has none."""
    return fee_schedule if isinstance(fee_schedule, FeeSchedule) else DEFAULT_SCHEDULE


def side_probability(probability: int, side: Side) -> int:
    """P(``side`` pays) from P(YES)."""
    return probability if side is Side.YES else DOLLAR - probability


def fee_per_contract(
    fee_model: FeeModel,
    schedule: FeeSchedule,
    *,
    side: Side,
    price: Price,
    is_taker: bool,
    now: datetime | None,
) -> Fraction:
    """Exact (unrounded) fee for one contract of ``side`` at ``price``."""
    _, yes_price = to_book(side, Action.BUY, price)
    return fee_model.exact_fee(
        schedule, price=yes_price, count=CONTRACT, is_taker=is_taker, now=now
    )


def order_fee(
    fee_model: FeeModel,
    schedule: FeeSchedule,
    intent: OrderIntent,
    *,
    is_taker: bool,
    now: datetime | None,
) -> Money:
    """Money charged for the whole order (the fee model's rounding applied once)."""
    _, yes_price = to_book(intent.side, intent.action, intent.price)
    exact = fee_model.exact_fee(
        schedule, price=yes_price, count=intent.count, is_taker=is_taker, now=now
    )
    return fee_model.charge(exact)


def expected_value(probability: int, side: Side, price: Price, count: Count, fee: Money) -> Money:
    """Expected profit in money of buying ``count`` of ``side`` at ``price`` (rounded down)."""
    gross = Fraction((side_probability(probability, side) - price) * count, CONTRACT)
    return int(gross // 1) - fee


def lowers_risk(intent: OrderIntent) -> bool:
    """Sells and reduce-only orders only shrink positions; limits for new risk skip them."""
    return intent.action is Action.SELL or intent.reduce_only


def intent_cost(intent: OrderIntent) -> Money:
    """Money a buy intent locks if it fills (rounded up); a sell locks nothing."""
    if lowers_risk(intent):
        return 0
    return notional(intent.price, intent.count, round_up=True)
