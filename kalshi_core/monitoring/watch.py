"""Feeds the anomaly detectors from signals and announces what they find.

A finding is sent as :data:`kalshi_core.signals.anomaly_detected`: the alert router alerts,
the stop controller halts where ``anomalies.<name>.halt`` says so, metrics count it.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

import attrs

from kalshi_core import signals
from kalshi_core.client.metrics import ClientMetrics
from kalshi_core.clock import Clock
from kalshi_core.models import Action, Side
from kalshi_core.money import Money
from kalshi_core.monitoring.anomalies import (
    NO_HALT,
    Anomaly,
    ApiErrorBurst,
    DrawdownFromPeak,
    LossStreak,
    OrderRateSpike,
    SlippageBound,
    SpendAhead,
)
from kalshi_core.monitoring.subscriptions import Handler, Subscriber

log = logging.getLogger(__name__)
REMEMBERED_ORDERS = 10_000
MODEL_API_FAILURES = frozenset({"timeout", "http_error", "connection_error"})


def api_error_count(metrics: ClientMetrics) -> int:
    """Calls that failed on the exchange's side or the way there: 5xx, 429, timeouts."""
    total = 0
    for (_, status), count in metrics.calls.items():
        if not status.isdigit() or int(status) >= 500 or status == "429":
            total += count
    return total


def settlement_pnl(settlement: Any) -> Money:
    costs = settlement.yes_total_cost + settlement.no_total_cost + settlement.fee_cost
    return int(settlement.revenue - costs)


@attrs.define
class Detectors:
    """The detectors a session runs; ``None`` = switched off."""

    order_rate: OrderRateSpike | None = None
    slippage: SlippageBound | None = None
    drawdown: DrawdownFromPeak | None = None
    loss_streak: LossStreak | None = None
    api_errors: ApiErrorBurst | None = None
    model_spend: SpendAhead | None = None

    @classmethod
    def from_section(cls, section: Mapping[str, Any], budget: Money = 0) -> Detectors:
        """From ``[anomalies]``; a detector whose table has ``enabled = false`` is off."""
        made = cls()
        for name, build in BUILDERS.items():
            table = dict(section.get(name) or {})
            if table.get("enabled", True):
                setattr(made, name, build(table, budget, str(table.get("halt", NO_HALT))))
        return made


def _window(table: Mapping[str, Any], default: float) -> timedelta:
    return timedelta(seconds=float(table.get("window_seconds", default)))


Builder = Callable[[Mapping[str, Any], Money, str], Any]
BUILDERS: dict[str, Builder] = {
    "order_rate": lambda t, budget, halt: OrderRateSpike(
        _window(t, 60), int(t.get("max_orders", 30)), halt
    ),
    "slippage": lambda t, budget, halt: SlippageBound(int(t.get("max_cents", 2)) * 100, halt),
    "drawdown": lambda t, budget, halt: DrawdownFromPeak(float(t.get("max_fraction", 0.15)), halt),
    "loss_streak": lambda t, budget, halt: LossStreak(
        int(t.get("baseline_size", 30)),
        int(t.get("min_streak", 4)),
        float(t.get("max_probability", 0.01)),
        halt,
    ),
    "api_errors": lambda t, budget, halt: ApiErrorBurst(
        _window(t, 300), int(t.get("max_errors", 20)), halt
    ),
    "model_spend": lambda t, budget, halt: SpendAhead(budget, float(t.get("margin", 0.1)), halt),
}


class AnomalyWatch(Subscriber):
    """Signals in, :data:`~kalshi_core.signals.anomaly_detected` out."""

    def __init__(
        self,
        detectors: Detectors,
        clock: Clock,
        client: Callable[[], ClientMetrics | None] = lambda: None,
    ) -> None:
        self.detectors = detectors
        self.clock = clock
        self.client = client
        self._expected: OrderedDict[str, tuple[Money, Action, Side]] = OrderedDict()
        self._api_errors_seen = 0

    def subscriptions(self) -> Sequence[tuple[Any, Handler]]:
        return (
            (signals.order_placed, self._on_placed),
            (signals.order_filled, self._on_filled),
            (signals.cycle_completed, self._on_cycle),
            (signals.cycle_failed, self._on_cycle_failed),
            (signals.market_settled, self._on_settled),
            (signals.ai_spend, self._on_spend),
            (signals.forecast_rejected, self._on_forecast_rejected),
        )

    def _announce(self, anomaly: Anomaly | None) -> None:
        if anomaly is None:
            return
        log.warning("anomaly %s: %s (halt: %s)", anomaly.detector, anomaly, anomaly.halt)
        signals.anomaly_detected.send(self, anomaly=anomaly)

    def _on_placed(self, order: Any, *, intent: Any = None, **_: object) -> None:
        if intent is not None:
            self._expected[order.order_id] = (intent.price, intent.action, intent.side)
            while len(self._expected) > REMEMBERED_ORDERS:
                self._expected.popitem(last=False)
        if self.detectors.order_rate is not None:
            self._announce(self.detectors.order_rate.observe_order(self.clock.now()))

    def _on_filled(self, fill: Any, **_: object) -> None:
        expected = self._expected.get(fill.order_id)
        if self.detectors.slippage is None or expected is None:
            return
        price, action, side = expected
        # The price of the intent's own side: selling YES trades on the book as buying NO, so
        # the fill's outcome side is not the side the limit was given in.
        traded = fill.yes_price if side == Side.YES else fill.no_price
        worse = traded - price if action == Action.BUY else price - traded
        self._announce(self.detectors.slippage.observe_fill(fill.ticker, 0, worse))

    def _on_cycle(self, sender: object, *, report: Any = None, **_: object) -> None:
        if self.detectors.drawdown is not None and report is not None:
            self._announce(self.detectors.drawdown.observe_equity(report.portfolio.value))
        self._poll_api_errors()

    def _on_cycle_failed(self, sender: object, **_: object) -> None:
        """A cycle skipped for a failed read: exactly when API errors pile up."""
        self._poll_api_errors()

    def _poll_api_errors(self) -> None:
        metrics = self.client()
        if self.detectors.api_errors is not None and metrics is not None:
            total = api_error_count(metrics)
            fresh, self._api_errors_seen = total - self._api_errors_seen, total
            self._announce(self.detectors.api_errors.observe_errors(self.clock.now(), fresh))

    def _on_settled(self, settlement: Any, **_: object) -> None:
        if self.detectors.loss_streak is not None:
            pnl = settlement_pnl(settlement)
            self._announce(self.detectors.loss_streak.observe_outcome(pnl))

    def _on_spend(self, sender: object, **call: Any) -> None:
        if self.detectors.model_spend is not None:
            cost = int(call.get("cost", 0))
            self._announce(self.detectors.model_spend.observe_spend(self.clock.now(), cost))

    def _on_forecast_rejected(self, sender: object, *, rejection: Any = None, **_: object) -> None:
        reason = getattr(getattr(rejection, "reason", None), "value", "")
        if self.detectors.api_errors is not None and reason in MODEL_API_FAILURES:
            self._announce(self.detectors.api_errors.observe_errors(self.clock.now(), 1))
