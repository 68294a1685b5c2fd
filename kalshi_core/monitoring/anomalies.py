"""Anomaly detectors on the bot's own behaviour: pure, told the time, edge-triggered.

Each detector's ``observe...`` returns an :class:`Anomaly` when the behaviour crosses into
the unusual, and ``None`` otherwise; it fires again only after the behaviour went back to
normal, so one flapping condition is one alert, not one per cycle.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

import attrs

from kalshi_core.money import Money, format_dollars

NO_HALT = "none"


@attrs.frozen(kw_only=True)
class Anomaly:
    """A finding: which detector, what it saw, and the stop level it asks for."""

    detector: str
    message: str
    severity: str = "warning"
    halt: str = NO_HALT

    def __str__(self) -> str:
        return self.message


class _Edge:
    """Fires once on entering the anomalous state; re-arms on leaving it."""

    def __init__(self) -> None:
        self.active = False

    def crossed(self, anomalous: bool) -> bool:
        fired = anomalous and not self.active
        self.active = anomalous
        return fired


class _Window:
    """Event times within a sliding window."""

    def __init__(self, width: timedelta) -> None:
        self.width = width
        self.times: deque[datetime] = deque()

    def add(self, now: datetime, count: int = 1) -> int:
        self.times.extend([now] * count)
        while self.times and now - self.times[0] >= self.width:
            self.times.popleft()
        return len(self.times)


@attrs.define
class OrderRateSpike:
    """More than ``max_orders`` orders placed within ``window``."""

    window: timedelta
    max_orders: int
    halt: str = NO_HALT
    _seen: _Window = attrs.field(init=False)
    _edge: _Edge = attrs.field(factory=_Edge, init=False)

    def __attrs_post_init__(self) -> None:
        self._seen = _Window(self.window)

    def observe_order(self, now: datetime) -> Anomaly | None:
        count = self._seen.add(now)
        if not self._edge.crossed(count > self.max_orders):
            return None
        return Anomaly(
            detector="order_rate",
            message=f"{count} orders within {self.window.total_seconds():g}s "
            f"(limit {self.max_orders})",
            halt=self.halt,
        )


@attrs.define
class SlippageBound:
    """A fill priced worse than its order's limit (or expected price) by more than ``bound``."""

    bound: Money
    halt: str = NO_HALT

    def observe_fill(self, ticker: str, expected: Money, paid: Money) -> Anomaly | None:
        """``expected`` and ``paid`` are prices of the side bought (higher paid is worse)."""
        slippage = paid - expected
        if slippage <= self.bound:
            return None
        return Anomaly(
            detector="slippage",
            message=f"fill in {ticker} paid ${format_dollars(slippage)} over the expected "
            f"price (bound ${format_dollars(self.bound)})",
            halt=self.halt,
        )


@attrs.define
class DrawdownFromPeak:
    """Equity fell more than ``max_fraction`` below its highest value seen (not the start)."""

    max_fraction: float
    halt: str = NO_HALT
    peak: Money | None = None
    _edge: _Edge = attrs.field(factory=_Edge, init=False)

    def observe_equity(self, equity: Money) -> Anomaly | None:
        self.peak = equity if self.peak is None else max(self.peak, equity)
        drawdown = (self.peak - equity) / self.peak if self.peak > 0 else 0.0
        if not self._edge.crossed(drawdown > self.max_fraction):
            return None
        return Anomaly(
            detector="drawdown",
            message=f"equity ${format_dollars(equity)} is {drawdown:.1%} below its peak "
            f"${format_dollars(self.peak)} (limit {self.max_fraction:.1%})",
            severity="critical",
            halt=self.halt,
        )


@attrs.define
class LossStreak:
    """A run of losses too unlikely under the rolling baseline loss rate.

    With loss rate ``p`` over the ``baseline_size`` outcomes before the streak began (a
    rolling window), a streak of ``k`` losses
    has probability ``p**k``; below ``max_probability`` (and at least ``min_streak`` long)
    it is an anomaly. An unknown baseline (too few outcomes) never alarms.
    """

    baseline_size: int
    min_streak: int
    max_probability: float
    halt: str = NO_HALT
    _outcomes: deque[bool] = attrs.field(init=False)
    streak: int = 0
    _baseline: float | None = attrs.field(default=None, init=False)
    _edge: _Edge = attrs.field(factory=_Edge, init=False)

    def __attrs_post_init__(self) -> None:
        self._outcomes = deque(maxlen=self.baseline_size)

    def loss_rate(self) -> float | None:
        if len(self._outcomes) < self.baseline_size:
            return None
        return sum(self._outcomes) / len(self._outcomes)

    def observe_outcome(self, pnl: Money) -> Anomaly | None:
        lost = pnl < 0
        if lost and self.streak == 0:  # judge the whole streak against what came before it
            self._baseline = self.loss_rate()
        self.streak = self.streak + 1 if lost else 0
        self._outcomes.append(lost)
        baseline = self._baseline
        unlikely = baseline is not None and baseline**self.streak < self.max_probability
        if not self._edge.crossed(lost and self.streak >= self.min_streak and unlikely):
            return None
        return Anomaly(
            detector="loss_streak",
            message=f"{self.streak} losses in a row against a baseline loss rate of {baseline:.0%}",
            halt=self.halt,
        )


@attrs.define
class ApiErrorBurst:
    """More than ``max_errors`` API errors (5xx, 429, timeouts) within ``window``."""

    window: timedelta
    max_errors: int
    halt: str = NO_HALT
    _seen: _Window = attrs.field(init=False)
    _edge: _Edge = attrs.field(factory=_Edge, init=False)

    def __attrs_post_init__(self) -> None:
        self._seen = _Window(self.window)

    def observe_errors(self, now: datetime, count: int) -> Anomaly | None:
        total = self._seen.add(now, count)
        if not self._edge.crossed(total > self.max_errors):
            return None
        return Anomaly(
            detector="api_errors",
            message=f"{total} API errors within {self.window.total_seconds():g}s "
            f"(limit {self.max_errors})",
            halt=self.halt,
        )


@attrs.define
class SpendAhead:
    """Model spend running ahead of the daily budget's pace.

    At time ``t`` of the day (fraction ``f`` elapsed) spending more than
    ``budget * min(1, f + margin)`` is an anomaly; the margin keeps the morning quiet.
    """

    budget: Money
    margin: float
    halt: str = NO_HALT
    _day: object = None
    _spent: Money = 0
    _edge: _Edge = attrs.field(factory=_Edge, init=False)

    def observe_spend(self, now: datetime, cost: Money) -> Anomaly | None:
        if now.date() != self._day:
            self._day, self._spent, self._edge = now.date(), 0, _Edge()
        self._spent += cost
        if self.budget <= 0:
            return None
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        elapsed = (now - midnight) / timedelta(days=1)
        allowed = self.budget * min(1.0, elapsed + self.margin)
        if not self._edge.crossed(self._spent > allowed):
            return None
        return Anomaly(
            detector="model_spend",
            message=f"model spend ${format_dollars(self._spent)} is ahead of the daily budget "
            f"${format_dollars(self.budget)} at {elapsed:.0%} of the day",
            halt=self.halt,
        )
