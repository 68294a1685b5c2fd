"""Anomaly detectors: pure, clock-injected, edge-triggered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kalshi_core import signals
from kalshi_core.client.metrics import ClientMetrics
from kalshi_core.clock import ManualClock
from kalshi_core.models import Action, BookSide, Fill, Side
from kalshi_core.money import DOLLAR
from kalshi_core.monitoring.anomalies import (
    Anomaly,
    ApiErrorBurst,
    DrawdownFromPeak,
    LossStreak,
    OrderRateSpike,
    SlippageBound,
    SpendAhead,
)
from kalshi_core.monitoring.watch import AnomalyWatch, Detectors, api_error_count

T0 = datetime(2026, 1, 2, 0, 0, tzinfo=UTC)


def test_order_rate_fires_once_per_spike_and_rearms() -> None:
    spike = OrderRateSpike(timedelta(seconds=60), max_orders=3, halt="pause_entries")
    found = [spike.observe_order(T0 + timedelta(seconds=i)) for i in range(6)]
    assert [f is not None for f in found] == [False, False, False, True, False, False]
    assert found[3] == Anomaly(
        detector="order_rate", message="4 orders within 60s (limit 3)", halt="pause_entries"
    )
    assert spike.observe_order(T0 + timedelta(minutes=5)) is None  # the window emptied
    later = [spike.observe_order(T0 + timedelta(minutes=5, seconds=i)) for i in range(1, 4)]
    assert later[-1] is not None  # a second spike is a second anomaly


def test_slippage_beyond_the_bound_only() -> None:
    bound = SlippageBound(bound=200)
    assert bound.observe_fill("T", expected=4500, paid=4700) is None
    found = bound.observe_fill("T", expected=4500, paid=4701)
    assert found is not None
    assert found.message == "fill in T paid $0.0201 over the expected price (bound $0.0200)"


def test_drawdown_is_measured_from_the_peak_not_the_start() -> None:
    watch = DrawdownFromPeak(max_fraction=0.10, halt="cancel_resting")
    assert watch.observe_equity(1000 * DOLLAR) is None
    assert watch.observe_equity(2000 * DOLLAR) is None  # a new peak
    # 1750 is far above the start (1000) but 12.5% below the peak
    found = watch.observe_equity(1750 * DOLLAR)
    assert found is not None
    assert found.severity == "critical"
    assert found.halt == "cancel_resting"
    assert "12.5% below its peak $2000.0000" in found.message
    assert watch.observe_equity(1700 * DOLLAR) is None  # still in the same drawdown
    assert watch.observe_equity(1900 * DOLLAR) is None  # recovered: re-armed
    assert watch.observe_equity(1700 * DOLLAR) is not None


def test_loss_streak_needs_a_baseline_and_an_unlikely_run() -> None:
    streak = LossStreak(baseline_size=4, min_streak=3, max_probability=0.2)
    assert [streak.observe_outcome(-1) for _ in range(3)] == [None] * 3  # no baseline yet
    fresh = LossStreak(baseline_size=4, min_streak=3, max_probability=0.2)
    for pnl in (+1, +1, -1, +1):  # baseline loss rate 25%
        fresh.observe_outcome(pnl)
    assert fresh.observe_outcome(-1) is None  # 1 loss
    assert fresh.observe_outcome(-1) is None  # 2 losses (< min_streak)
    found = fresh.observe_outcome(-1)  # 3 losses: 0.25**3 < 0.2
    assert found is not None
    assert found.message == "3 losses in a row against a baseline loss rate of 25%"


def test_a_losing_baseline_makes_a_streak_ordinary() -> None:
    streak = LossStreak(baseline_size=4, min_streak=2, max_probability=0.05)
    for _ in range(4):
        streak.observe_outcome(-1)  # baseline: everything loses
    assert streak.observe_outcome(-1) is None  # 1.0 ** k is never unlikely


def test_api_errors_in_a_window() -> None:
    burst = ApiErrorBurst(timedelta(minutes=5), max_errors=5)
    assert burst.observe_errors(T0, 5) is None
    assert burst.observe_errors(T0 + timedelta(minutes=1), 1) is not None
    assert burst.observe_errors(T0 + timedelta(minutes=2), 3) is None  # already firing
    assert burst.observe_errors(T0 + timedelta(minutes=20), 0) is None  # quiet: re-armed


def test_spend_ahead_of_the_days_pace() -> None:
    spend = SpendAhead(budget=10 * DOLLAR, margin=0.1)
    six_am = T0 + timedelta(hours=6)  # 25% of the day: 35% of the budget allowed
    assert spend.observe_spend(six_am, 3 * DOLLAR) is None
    found = spend.observe_spend(six_am, 1 * DOLLAR)
    assert found is not None
    assert found.detector == "model_spend"
    assert spend.observe_spend(six_am + timedelta(days=1), 1 * DOLLAR) is None  # a new day


def test_no_budget_never_alarms() -> None:
    assert SpendAhead(budget=0, margin=0).observe_spend(T0, 10**9) is None


def test_api_error_count_reads_5xx_429_and_transport_failures() -> None:
    metrics = ClientMetrics()
    for status in (200, 404, 429, 500, 503, "timeout", "transport_error"):
        metrics.record_call("GET /markets", status, 0.01)
    assert api_error_count(metrics) == 5


def test_detectors_from_settings_honour_enabled_and_halt() -> None:
    made = Detectors.from_section(
        {
            "order_rate": {"max_orders": 7, "halt": "stop"},
            "slippage": {"enabled": False},
            "drawdown": {"max_fraction": 0.2},
        },
        budget=5 * DOLLAR,
    )
    assert made.order_rate is not None
    assert (made.order_rate.max_orders, made.order_rate.halt) == (7, "stop")
    assert made.slippage is None
    assert made.drawdown is not None
    assert made.drawdown.max_fraction == 0.2
    assert made.model_spend is not None
    assert made.model_spend.budget == 5 * DOLLAR


class _Order:
    order_id = "o-1"


class _Intent:
    strategy = "s"
    price = 4500
    action = "buy"
    side = "yes"


@pytest.fixture
def found() -> list[Anomaly]:
    return []


def test_the_watch_turns_signals_into_anomaly_signals(found: list[Anomaly]) -> None:
    clock = ManualClock(T0)
    detectors = Detectors(order_rate=OrderRateSpike(timedelta(minutes=1), max_orders=1))

    def heard(sender: object, *, anomaly: Anomaly, **_: object) -> None:
        found.append(anomaly)

    signals.anomaly_detected.connect(heard)
    try:
        with AnomalyWatch(detectors, clock):
            signals.order_placed.send(_Order(), intent=_Intent())
            signals.order_placed.send(_Order(), intent=_Intent())
        signals.order_placed.send(_Order(), intent=_Intent())  # not listening any more
    finally:
        signals.anomaly_detected.disconnect(heard)
    assert [a.detector for a in found] == ["order_rate"]


def test_api_errors_are_polled_when_cycles_fail(found: list[Anomaly]) -> None:
    clock = ManualClock(T0)
    client = ClientMetrics()
    detectors = Detectors(api_errors=ApiErrorBurst(timedelta(minutes=5), max_errors=2))

    def heard(sender: object, *, anomaly: Anomaly, **_: object) -> None:
        found.append(anomaly)

    signals.anomaly_detected.connect(heard)
    try:
        with AnomalyWatch(detectors, clock, lambda: client):
            for _ in range(3):
                client.record_call("GET /markets", 503, 0.1)
            signals.cycle_failed.send(object(), error="503")
    finally:
        signals.anomaly_detected.disconnect(heard)
    assert [a.detector for a in found] == ["api_errors"]
    assert found[0].message == "3 API errors within 300s (limit 2)"


@pytest.mark.parametrize(
    ("side", "action", "limit", "yes_price", "slipped"),
    [
        ("yes", "buy", 4500, 4500, False),  # filled at the limit
        ("yes", "buy", 4500, 5000, True),  # paid 5 c more than asked
        ("yes", "sell", 4300, 8300, False),  # sold YES far above the limit: better, not worse
        ("yes", "sell", 4300, 4000, True),  # sold 3 c under the limit
        ("no", "buy", 3000, 7000, False),  # bought NO at 30 c (YES 70 c)
        ("no", "sell", 3000, 7500, True),  # sold NO at 25 c, 5 c under the limit
    ],
)
def test_slippage_is_judged_on_the_side_the_limit_was_given_in(
    found: list[Anomaly], side: str, action: str, limit: int, yes_price: int, slipped: bool
) -> None:
    """A sell of YES trades as a NO buy on the one book: its fill's outcome side is NO."""
    intent = type("Intent", (), {"price": limit, "action": Action(action), "side": Side(side)})
    fill = Fill(
        fill_id="f-1",
        order_id="o-1",
        ticker="KXA-1",
        outcome_side=Side.NO if (side == "yes") != (action == "buy") else Side.YES,
        book_side=BookSide.ASK if (side == "yes") != (action == "buy") else BookSide.BID,
        count=100,
        yes_price=yes_price,
        no_price=DOLLAR - yes_price,
    )

    def heard(sender: object, *, anomaly: Anomaly, **_: object) -> None:
        found.append(anomaly)

    detectors = Detectors(slippage=SlippageBound(bound=200))
    signals.anomaly_detected.connect(heard)
    try:
        with AnomalyWatch(detectors, ManualClock(T0)):
            signals.order_placed.send(_Order(), intent=intent)
            signals.order_filled.send(fill)
    finally:
        signals.anomaly_detected.disconnect(heard)
    assert [a.detector for a in found] == (["slippage"] if slipped else [])
