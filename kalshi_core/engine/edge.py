"""Expected edge of an order against a forecast, after the fee the order would pay.

A forecast is P(YES) in basis points of certainty, so it compares directly with prices; the
probability that a NO contract pays is ``DOLLAR - p``. Fees come from a fee model
(:class:`~kalshi_core.fees.KalshiFeeModel` by default) and the market's
:class:`~kalshi_core.fees.FeeSchedule` (the context's, or the default quadratic one).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from fractions import Fraction
from typing import Any

import attrs

from kalshi_core.engine.units import cents, share, usd
from kalshi_core.errors import ConfigError
from kalshi_core.fees import FeeModel, FeeSchedule, KalshiFeeModel
from kalshi_core.models import Action, Forecast, OrderIntent, Side, to_book
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


# ---- uncertainty: an edge counts only where it clears k standard errors ----

MISSING_STDERR = ("refuse", "assume")


@attrs.frozen(kw_only=True)
class UncertaintyRule:
    """How many standard errors an edge must clear, and what a forecast without one gets.

    ``stderrs`` is k. A forecast with ``stderr is None`` has an unproven edge: ``missing``
    ``"refuse"`` (the default) trades nothing on it; ``"assume"`` uses ``assumed_stderr``
    (basis points) instead. A stated stderr of 0 is the forecaster's own claim of certainty and
    is taken as given (k x 0 = 0); clamp it in the forecaster, not here.
    """

    stderrs: Fraction = Fraction(2)
    missing: str = "refuse"
    assumed_stderr: int = 0

    def __attrs_post_init__(self) -> None:
        if self.missing not in MISSING_STDERR:
            raise ValueError(f"missing_stderr {self.missing!r} must be one of {MISSING_STDERR}")
        if self.stderrs < 0 or not 0 <= self.assumed_stderr <= DOLLAR:
            raise ValueError(
                f"stderrs {self.stderrs} must be >= 0 and the assumed stderr "
                f"{self.assumed_stderr} within 0..{DOLLAR}"
            )

    def stderr_of(self, forecast: Forecast) -> int | None:
        """The forecast's stderr, the assumed one when it has none, or None (refused)."""
        if forecast.stderr is not None:
            return forecast.stderr
        return self.assumed_stderr if self.missing == "assume" else None

    def margin(self, forecast: Forecast) -> Fraction | None:
        """k x stderr in money units per contract; None when the edge is unproven."""
        stderr = self.stderr_of(forecast)
        return None if stderr is None else self.stderrs * stderr

    def unproven(self, forecast: Forecast) -> str:
        """The reason a forecast without a stderr trades nothing."""
        return (
            f"forecast by {forecast.model!r} carries no standard error, so its edge is unproven "
            f"and no order is placed (missing_stderr = 'refuse'; set 'assume' with "
            f"assumed_stderr_cents to trade it)"
        )

    def explain(self, forecast: Forecast, minimum: Money) -> str:
        """``min $0.0300 + 2 x stderr $0.0250`` for a reason text."""
        stderr = self.stderr_of(forecast)
        assumed = " (assumed)" if forecast.stderr is None else ""
        return (
            f"minimum {usd(minimum)} + {float(self.stderrs):g} x stderr {usd(stderr or 0)}{assumed}"
        )


DEFAULT_UNCERTAINTY = UncertaintyRule()


def required_edge(minimum: Money, rule: UncertaintyRule, forecast: Forecast) -> Fraction | None:
    """The net edge per contract (after fees, at a price that pays the half spread when it
    takes) a trade must reach: ``minimum + k x stderr``, i.e. the edge's lower k-sigma bound
    must still clear ``minimum``. None when the forecast's edge is unproven."""
    margin = rule.margin(forecast)
    return None if margin is None else minimum + margin


def uncertainty_rule(section: Mapping[str, Any]) -> UncertaintyRule:
    """The k-stderr rule from a settings section holding ``stderrs``, ``missing_stderr`` and
    ``assumed_stderr_cents`` (the ``min_edge`` validator's and ``directional``'s)."""
    missing = str(section["missing_stderr"])
    if missing not in MISSING_STDERR:
        raise ConfigError(f"missing_stderr {missing!r} must be one of {MISSING_STDERR}")
    return UncertaintyRule(
        stderrs=share(section["stderrs"], "stderrs"),
        missing=missing,
        assumed_stderr=cents(section["assumed_stderr_cents"], "assumed_stderr_cents"),
    )
