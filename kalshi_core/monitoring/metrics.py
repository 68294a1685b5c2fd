"""Prometheus metrics of a trading session, fed only by signals and the client's counters.

Everything lives in one dedicated :class:`~prometheus_client.CollectorRegistry` per
:class:`KalshiMetrics` (never the process-wide default), so two sessions or two tests never
share a counter. Names start with ``kalshi_``, use base units (seconds, dollars as floats only
here at the edge, ratios 0-1) and counters end in ``_total``. Labels are bounded: strategy,
model and validator names pass a :class:`~kalshi_core.monitoring.labels.LabelCap`, tickers a
smaller one.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from kalshi_core import signals
from kalshi_core.clock import Clock
from kalshi_core.models import Decision
from kalshi_core.money import CONTRACT, DOLLAR, Money
from kalshi_core.monitoring.cache_collector import CacheCollector, CacheReader
from kalshi_core.monitoring.client_collector import ClientCollector, ClientSource
from kalshi_core.monitoring.labels import LabelCap
from kalshi_core.monitoring.stream_collector import StreamCollector
from kalshi_core.monitoring.subscriptions import Handler, Subscriber
from kalshi_core.protocols import Portfolio

CYCLE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
STOP_LEVELS = ("running", "pause_entries", "cancel_resting", "flatten", "stop")
REMEMBERED_ORDERS = 10_000  # order id -> strategy, to label fills; oldest forgotten first


def dollars(amount: Money) -> float:
    return amount / DOLLAR


def decision_outcome(decision: Decision) -> str:
    """One of a fixed set: ``rejected``, ``no_forecast``, ``no_intent``, ``intent``."""
    if decision.intents:
        return "intent"
    if any(not verdict.accepted for verdict in decision.verdicts):
        return "rejected"
    return "no_forecast" if decision.forecast is None else "no_intent"


class _Instruments:
    """The metric objects, registered on one registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._pipeline(registry)
        self._trading(registry)
        self._portfolio(registry)
        self._models(registry)
        self._operations(registry)

    def _pipeline(self, r: CollectorRegistry) -> None:
        self.cycles = Counter("kalshi_cycles", "Trading cycles completed.", registry=r)
        self.cycle_duration = Histogram(
            "kalshi_cycle_duration_seconds",
            "Wall seconds one cycle took.",
            buckets=CYCLE_BUCKETS,
            registry=r,
        )
        self.last_cycle = Gauge(
            "kalshi_last_cycle_timestamp_seconds",
            "Engine-clock time of the last completed cycle (Unix seconds).",
            registry=r,
        )
        self.markets = Gauge(
            "kalshi_last_cycle_markets", "Markets the last cycle scanned.", registry=r
        )
        self.markets_total = Counter(
            "kalshi_markets_scanned", "Markets scanned, summed over cycles.", registry=r
        )
        self.decisions = Counter(
            "kalshi_decisions", "Pipeline decisions by outcome.", ("outcome",), registry=r
        )
        self.rejections = Counter(
            "kalshi_decision_rejections",
            "Validator rejections by validator.",
            ("validator",),
            registry=r,
        )

    def _trading(self, r: CollectorRegistry) -> None:
        self.orders = Counter(
            "kalshi_orders",
            "Orders by strategy and outcome (placed, rejected, canceled, unknown).",
            ("strategy", "outcome"),
            registry=r,
        )
        self.fills = Counter("kalshi_fills", "Fills by strategy.", ("strategy",), registry=r)
        self.contracts = Counter(
            "kalshi_filled_contracts", "Contracts filled by strategy.", ("strategy",), registry=r
        )
        self.fees = Counter(
            "kalshi_fees_dollars",
            "Exchange fees paid in dollars by strategy.",
            ("strategy",),
            registry=r,
        )

    def _portfolio(self, r: CollectorRegistry) -> None:
        self.balance = Gauge("kalshi_balance_dollars", "Cash balance in dollars.", registry=r)
        self.portfolio_value = Gauge(
            "kalshi_portfolio_value_dollars", "Cash plus positions at cost, dollars.", registry=r
        )
        self.exposure = Gauge(
            "kalshi_exposure_dollars",
            "Gross exposure (positions and resting orders), dollars.",
            registry=r,
        )
        self.market_exposure = Gauge(
            "kalshi_market_exposure_dollars",
            "Exposure per market (capped ticker label).",
            ("ticker",),
            registry=r,
        )
        self.positions = Gauge("kalshi_open_positions", "Markets with a position.", registry=r)
        self.realized = Gauge(
            "kalshi_realized_pnl_dollars", "Realised P&L of open positions, dollars.", registry=r
        )
        self.day_pnl = Gauge(
            "kalshi_day_pnl_dollars",
            "Portfolio value change since the start of the day.",
            registry=r,
        )
        self.position_fees = Gauge(
            "kalshi_position_fees_dollars", "Fees paid on open positions, dollars.", registry=r
        )
        self.unrealized = Gauge(
            "kalshi_unrealized_pnl_dollars",
            "Open positions at their market's mid price less their cost, dollars.",
            registry=r,
        )

    def _models(self, r: CollectorRegistry) -> None:
        self.model_calls = Counter(
            "kalshi_model_calls", "Paid model calls by model.", ("model",), registry=r
        )
        self.tokens = Counter(
            "kalshi_model_tokens",
            "Model tokens by model and direction (input, output).",
            ("model", "direction"),
            registry=r,
        )
        self.spend = Counter(
            "kalshi_model_spend_dollars",
            "Model spend in dollars by model.",
            ("model",),
            registry=r,
        )
        self.spend_today = Gauge(
            "kalshi_model_spend_today_dollars", "Model spend so far today, dollars.", registry=r
        )
        self.budget = Gauge(
            "kalshi_model_budget_dollars", "Daily model budget, dollars (0 = none).", registry=r
        )
        self.budget_used = Gauge(
            "kalshi_model_budget_used_ratio",
            "Share of today's model budget spent (0-1+).",
            registry=r,
        )

    def _operations(self, r: CollectorRegistry) -> None:
        self.errors = Counter("kalshi_errors", "Errors by kind.", ("kind",), registry=r)
        self.risk_hits = Counter(
            "kalshi_risk_limit_hits",
            "Risk rules that blocked trading, by rule.",
            ("rule",),
            registry=r,
        )
        self.kill_switch = Gauge(
            "kalshi_kill_switch_engaged",
            "1 while the daily-loss kill switch is tripped.",
            registry=r,
        )
        self.stop_level = Gauge(
            "kalshi_stop_level",
            "Graded stop: 0 running, 1 pause entries, 2 cancel resting, 3 flatten, 4 stop.",
            registry=r,
        )
        self.anomalies = Counter(
            "kalshi_anomalies", "Anomalies detected, by detector.", ("detector",), registry=r
        )
        self.alerts = Counter(
            "kalshi_alerts",
            "Alert deliveries by channel and outcome (sent, failed, suppressed).",
            ("channel", "outcome"),
            registry=r,
        )
        self.settlements = Counter(
            "kalshi_settlements", "Markets we held that settled.", registry=r
        )
        self.market_data_switches = Counter(
            "kalshi_market_data_switches",
            "Switches of market data between the stream and REST polling, by the mode switched to.",
            ("mode",),
            registry=r,
        )
        self.market_data_streaming = Gauge(
            "kalshi_market_data_streaming", "1 while market data comes from the stream.", registry=r
        )


class KalshiMetrics(Subscriber):
    """Listens to the signals and keeps the instruments current; scrape :attr:`registry`."""

    def __init__(
        self,
        clock: Clock,
        *,
        client: ClientSource | None = None,
        cache: CacheReader | None = None,
        label_cap: int = 64,
        ticker_cap: int = 50,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.clock = clock
        self.timer = timer
        self.registry = CollectorRegistry()
        self.m = _Instruments(self.registry)
        if client is not None:
            self.registry.register(ClientCollector(client))
        if cache is not None:
            self.registry.register(CacheCollector(cache))
        self.stream = StreamCollector(lambda: None)  # the session points it at its feed
        self.registry.register(self.stream)
        self._label_cap = label_cap
        self._caps: dict[str, LabelCap] = {}
        self.ticker_cap = LabelCap(ticker_cap)
        self._strategy_of: OrderedDict[str, str] = OrderedDict()
        self._cycle_began: float | None = None
        self._spend_day: date | None = None
        self._spent_today: Money = 0
        self._budget: Money = 0

    def subscriptions(self) -> Sequence[tuple[Any, Handler]]:
        return (
            (signals.cycle_started, self._on_cycle_started),
            (signals.cycle_completed, self._on_cycle_completed),
            (signals.cycle_failed, self._on_cycle_failed),
            (signals.decision_made, self._on_decision),
            (signals.order_placed, self._on_placed),
            (signals.order_rejected, self._on_rejected),
            (signals.order_canceled, self._on_canceled),
            (signals.order_unknown, self._on_unknown),
            (signals.order_filled, self._on_filled),
            (signals.ai_spend, self._on_spend),
            (signals.forecast_rejected, self._on_forecast_rejected),
            (signals.risk_limit_hit, self._on_risk_limit),
            (signals.market_settled, self._on_settled),
            (signals.anomaly_detected, self._on_anomaly),
            (signals.stop_changed, self._on_stop),
            (signals.market_data_switched, self._on_market_data),
        )

    def _name(self, label: str, value: str) -> str:
        """``value`` for ``label`` through that label's own cap (plugin names are open-ended)."""
        cap = self._caps.setdefault(label, LabelCap(self._label_cap))
        return cap(value)

    # ---- API for parts that are not signal senders ----

    def record_alert(self, channel: str, outcome: str) -> None:
        self.m.alerts.labels(self._name("channel", channel), outcome).inc()

    def record_error(self, kind: str) -> None:
        self.m.errors.labels(self._name("kind", kind)).inc()

    def set_model_budget(self, budget: Money) -> None:
        self._budget = budget
        self.m.budget.set(dollars(budget))
        self._update_budget_ratio()

    # ---- cycle and portfolio ----

    def _on_market_data(self, sender: object, *, mode: str = "", **_: object) -> None:
        mode = "stream" if mode == "stream" else "poll"
        self.m.market_data_switches.labels(mode).inc()
        self.m.market_data_streaming.set(1 if mode == "stream" else 0)

    def _on_cycle_started(self, sender: object, **_: object) -> None:
        self._cycle_began = self.timer()

    def _on_cycle_completed(self, sender: object, *, report: Any = None, **_: object) -> None:
        self.m.cycles.inc()
        if self._cycle_began is not None:
            self.m.cycle_duration.observe(max(0.0, self.timer() - self._cycle_began))
            self._cycle_began = None
        self.m.last_cycle.set(self.clock.now().timestamp())
        if report is None:
            return
        self.m.markets.set(report.markets)
        self.m.markets_total.inc(report.markets)
        self.m.kill_switch.set(1 if report.kill_switch else 0)
        self._portfolio(report.portfolio)

    def _on_cycle_failed(self, sender: object, **_: object) -> None:
        self._cycle_began = None
        self.record_error("cycle_failed")

    def _portfolio(self, portfolio: Portfolio) -> None:
        m = self.m
        m.balance.set(dollars(portfolio.cash))
        m.portfolio_value.set(dollars(portfolio.value))
        tickers = set(portfolio.positions) | set(portfolio.resting_exposure)
        m.exposure.set(dollars(sum(portfolio.exposure(t) for t in tickers)))
        m.market_exposure.clear()
        per_label: dict[str, Money] = {}
        for ticker in sorted(tickers):
            label = self.ticker_cap(ticker)
            per_label[label] = per_label.get(label, 0) + portfolio.exposure(ticker)
        for label, amount in per_label.items():
            m.market_exposure.labels(label).set(dollars(amount))
        held = [p for p in portfolio.positions.values() if p.position != 0]
        m.positions.set(len(held))
        m.realized.set(dollars(sum(p.realized_pnl for p in portfolio.positions.values())))
        m.position_fees.set(dollars(sum(p.fees_paid for p in portfolio.positions.values())))
        m.unrealized.set(dollars(portfolio.unrealized_pnl))
        if portfolio.start_of_day_value is not None:
            m.day_pnl.set(dollars(portfolio.value - portfolio.start_of_day_value))

    # ---- decisions and orders ----

    def _on_decision(self, decision: Decision, **_: object) -> None:
        self.m.decisions.labels(decision_outcome(decision)).inc()
        for verdict in decision.verdicts:
            if not verdict.accepted:
                self.m.rejections.labels(self._name("validator", verdict.validator)).inc()

    def _strategy(self, name: str) -> str:
        return self._name("strategy", name or "unknown")

    def _on_placed(self, order: Any, *, intent: Any = None, **_: object) -> None:
        strategy = self._strategy(getattr(intent, "strategy", ""))
        self._strategy_of[order.order_id] = strategy
        while len(self._strategy_of) > REMEMBERED_ORDERS:
            self._strategy_of.popitem(last=False)
        self.m.orders.labels(strategy, "placed").inc()

    def _on_rejected(self, intent: Any, **_: object) -> None:
        self.m.orders.labels(self._strategy(getattr(intent, "strategy", "")), "rejected").inc()

    def _on_canceled(self, order: Any, **_: object) -> None:
        strategy = self._strategy_of.get(getattr(order, "order_id", ""), "unknown")
        self.m.orders.labels(strategy, "canceled").inc()

    def _on_unknown(self, intent: Any, **_: object) -> None:
        self.m.orders.labels(self._strategy(getattr(intent, "strategy", "")), "unknown").inc()
        self.record_error("order_unknown")

    def _on_filled(self, fill: Any, **_: object) -> None:
        strategy = self._strategy_of.get(fill.order_id, "unknown")
        self.m.fills.labels(strategy).inc()
        self.m.contracts.labels(strategy).inc(fill.count / CONTRACT)
        self.m.fees.labels(strategy).inc(dollars(fill.fee_cost))

    # ---- models, risk, the rest ----

    def _on_spend(self, sender: object, **call: Any) -> None:
        model = self._name("model", str(call.get("model", "")) or "unknown")
        cost = int(call.get("cost", 0))
        self.m.model_calls.labels(model).inc()
        self.m.tokens.labels(model, "input").inc(int(call.get("input_tokens", 0)))
        self.m.tokens.labels(model, "output").inc(int(call.get("output_tokens", 0)))
        self.m.spend.labels(model).inc(dollars(cost))
        today = self.clock.now().date()
        if today != self._spend_day:
            self._spend_day, self._spent_today = today, 0
        self._spent_today += cost
        self.m.spend_today.set(dollars(self._spent_today))
        self._update_budget_ratio()

    def _update_budget_ratio(self) -> None:
        ratio = self._spent_today / self._budget if self._budget > 0 else 0.0
        self.m.budget_used.set(ratio)

    def _on_forecast_rejected(self, sender: object, *, rejection: Any = None, **_: object) -> None:
        reason = getattr(getattr(rejection, "reason", None), "value", "unknown")
        self.record_error(f"forecast_{reason}")

    def _on_risk_limit(self, sender: object, *, rule: str = "", **details: object) -> None:
        self.m.risk_hits.labels(self._name("rule", rule or "unknown")).inc()
        if rule == "max_daily_loss" and details.get("intent") is None:
            self.m.kill_switch.set(1)

    def _on_settled(self, sender: object, **_: object) -> None:
        self.m.settlements.inc()

    def _on_anomaly(self, sender: object, *, anomaly: Any = None, **_: object) -> None:
        self.m.anomalies.labels(
            self._name("detector", getattr(anomaly, "detector", "unknown"))
        ).inc()

    def _on_stop(self, sender: object, *, level: str = "running", **_: object) -> None:
        if level in STOP_LEVELS:
            self.m.stop_level.set(STOP_LEVELS.index(level))
