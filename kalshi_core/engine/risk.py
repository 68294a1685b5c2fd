"""The one risk step every strategy's intents pass through, after validators and allocation.

:class:`RiskManager` resizes or rejects intents against the core's ``risk`` settings: order
size, position share per market, gross exposure, an order-rate token bucket driven by
``context.now`` (never the wall clock) and a daily-loss kill switch. Once the kill switch
trips it stays tripped and approves nothing until :meth:`RiskManager.reset`; the engine reads
:attr:`RiskManager.kill_switch_tripped`, cancels resting orders and alerts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from fractions import Fraction
from typing import Any

import attrs

from kalshi_core import signals
from kalshi_core.engine.edge import intent_cost
from kalshi_core.engine.sizing import fit_count, whole_lots
from kalshi_core.engine.units import contracts, pct, qty, share, usd
from kalshi_core.models import OrderIntent
from kalshi_core.money import Count, Money
from kalshi_core.protocols import PipelineContext, Portfolio

KILL_SWITCH = "kill_switch"
MAX_DAILY_LOSS = "max_daily_loss"


@attrs.frozen(kw_only=True)
class RiskLimits:
    """The ``risk`` settings section in engine units (shares as fractions, counts in units)."""

    max_position_pct: Fraction
    max_daily_loss_pct: Fraction
    max_gross_exposure_pct: Fraction
    max_order_count: Count
    max_orders_per_minute: int

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> RiskLimits:
        """From the ``risk`` section: ``max_order_contracts`` is in whole contracts."""
        return cls(
            max_position_pct=share(section["max_position_pct"], "risk.max_position_pct"),
            max_daily_loss_pct=share(section["max_daily_loss_pct"], "risk.max_daily_loss_pct"),
            max_gross_exposure_pct=share(
                section["max_gross_exposure_pct"], "risk.max_gross_exposure_pct"
            ),
            max_order_count=contracts(section["max_order_contracts"], "risk.max_order_contracts"),
            max_orders_per_minute=int(section["max_orders_per_minute"]),
        )


@attrs.frozen(kw_only=True)
class RiskRejection:
    """An intent risk refused, the rule that refused it and why (with the numbers)."""

    intent: OrderIntent
    rule: str
    reason: str


@attrs.frozen(kw_only=True)
class RiskResult:
    """Approved intents (possibly resized) and the rejections."""

    approved: tuple[OrderIntent, ...] = ()
    rejections: tuple[RiskRejection, ...] = ()


class TokenBucket:
    """``capacity`` orders per minute, refilled continuously by the injected clock's time."""

    def __init__(self, per_minute: int) -> None:
        self.capacity = Fraction(max(per_minute, 0))
        self.tokens = self.capacity
        self.updated: datetime | None = None

    def refill(self, now: datetime) -> None:
        if self.updated is not None and now > self.updated:
            elapsed = Fraction((now - self.updated).total_seconds()).limit_denominator(10**6)
            self.tokens = min(self.capacity, self.tokens + elapsed * self.capacity / 60)
        if self.updated is None or now > self.updated:
            self.updated = now

    def take(self) -> bool:
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


@attrs.define
class _Batch:
    """Exposure already approved in this call, so one batch cannot overshoot a limit."""

    portfolio: Portfolio
    per_ticker: dict[str, Money] = attrs.field(factory=dict)
    total: Money = 0

    def exposure(self, ticker: str) -> Money:
        return self.portfolio.exposure(ticker) + self.per_ticker.get(ticker, 0)

    def gross(self) -> Money:
        tickers = set(self.portfolio.positions) | set(self.portfolio.resting_exposure)
        return sum(self.portfolio.exposure(t) for t in tickers) + self.total

    def add(self, intent: OrderIntent) -> None:
        cost = intent_cost(intent)
        self.per_ticker[intent.ticker] = self.per_ticker.get(intent.ticker, 0) + cost
        self.total += cost


class RiskManager:
    """Applies :class:`RiskLimits` to intents; keeps the order-rate bucket and kill switch."""

    def __init__(self, limits: RiskLimits) -> None:
        self.limits = limits
        self.bucket = TokenBucket(limits.max_orders_per_minute)
        self.tripped_reason: str | None = None

    @property
    def kill_switch_tripped(self) -> bool:
        return self.tripped_reason is not None

    @property
    def state(self) -> str:
        return "tripped" if self.kill_switch_tripped else "armed"

    def reset(self) -> None:
        """Re-arm the kill switch (a human decision, e.g. at the start of a new day)."""
        self.tripped_reason = None

    def check_daily_loss(self, portfolio: Portfolio) -> bool:
        """Trip the kill switch when the portfolio lost more than the daily limit; True if so."""
        start = portfolio.start_of_day_value
        if self.kill_switch_tripped or start is None:
            return self.kill_switch_tripped
        floor = start * (1 - self.limits.max_daily_loss_pct)
        if portfolio.value < floor:
            self.tripped_reason = (
                f"portfolio value {usd(portfolio.value)} fell below {usd(floor)}: "
                f"start of day {usd(start)} less max daily loss "
                f"{pct(self.limits.max_daily_loss_pct)}"
            )
            signals.risk_limit_hit.send(self, rule=MAX_DAILY_LOSS, reason=self.tripped_reason)
        return self.kill_switch_tripped

    def review(self, intents: Iterable[OrderIntent], context: PipelineContext) -> RiskResult:
        """Approve, resize or reject each intent in order; nothing passes a tripped switch."""
        intents = list(intents)
        if self.check_daily_loss(context.portfolio):
            reason = f"kill switch tripped: {self.tripped_reason}"
            return RiskResult(
                rejections=tuple(self._reject(i, KILL_SWITCH, reason) for i in intents)
            )
        self.bucket.refill(context.now)
        batch = _Batch(context.portfolio)
        approved: list[OrderIntent] = []
        rejections: list[RiskRejection] = []
        for intent in intents:
            outcome = self._review_one(intent, batch)
            if isinstance(outcome, RiskRejection):
                rejections.append(outcome)
                continue
            batch.add(outcome)
            approved.append(outcome)
        return RiskResult(approved=tuple(approved), rejections=tuple(rejections))

    def _review_one(self, intent: OrderIntent, batch: _Batch) -> OrderIntent | RiskRejection:
        checked = self._cap_order_size(intent)
        if checked.count <= 0:
            reason = f"max order size is {qty(self.limits.max_order_count)}"
            return self._reject(intent, "max_order_contracts", reason)
        if intent_cost(checked) > 0:
            rejection = self._exposure_rejection(checked, batch)
            if rejection is not None:
                return self._reject(intent, *rejection)
            room = min(self._position_room(checked, batch), self._gross_room(batch))
            checked = attrs.evolve(checked, count=fit_count(checked.count, checked.price, room))
        if not self.bucket.take():
            reason = f"order rate limit of {self.limits.max_orders_per_minute} orders per minute"
            return self._reject(intent, "max_orders_per_minute", reason)
        return checked

    def _cap_order_size(self, intent: OrderIntent) -> OrderIntent:
        limit = whole_lots(self.limits.max_order_count)
        if intent.count <= limit:
            return intent
        return attrs.evolve(intent, count=limit)

    def _position_room(self, intent: OrderIntent, batch: _Batch) -> Money:
        cap = int(batch.portfolio.value * self.limits.max_position_pct)
        return cap - batch.exposure(intent.ticker)

    def _gross_room(self, batch: _Batch) -> Money:
        cap = int(batch.portfolio.value * self.limits.max_gross_exposure_pct)
        return cap - batch.gross()

    def _exposure_rejection(self, intent: OrderIntent, batch: _Batch) -> tuple[str, str] | None:
        """Why not even one lot of ``intent`` fits the exposure limits, or None if some does."""
        value = batch.portfolio.value
        what = f"{qty(intent.count)} at {usd(intent.price)}"
        if fit_count(intent.count, intent.price, self._position_room(intent, batch)) <= 0:
            limit = self.limits.max_position_pct
            return "max_position_pct", (
                f"{intent.ticker} exposure {usd(batch.exposure(intent.ticker))} leaves no room "
                f"for {what} under {pct(limit)} of portfolio value {usd(value)}"
            )
        if fit_count(intent.count, intent.price, self._gross_room(batch)) <= 0:
            limit = self.limits.max_gross_exposure_pct
            return "max_gross_exposure_pct", (
                f"gross exposure {usd(batch.gross())} leaves no room for {what} under "
                f"{pct(limit)} of portfolio value {usd(value)}"
            )
        return None

    def _reject(self, intent: OrderIntent, rule: str, reason: str) -> RiskRejection:
        signals.risk_limit_hit.send(self, rule=rule, reason=reason, intent=intent)
        return RiskRejection(intent=intent, rule=rule, reason=reason)
