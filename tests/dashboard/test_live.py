"""The live feed: what the engine's signals leave for the dashboard (equity points, alerts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs

from kalshi_core import signals
from kalshi_core.clock import ManualClock
from kalshi_core.dashboard.live import MAX_POINTS, LiveFeed
from kalshi_core.models import Position
from kalshi_core.monitoring.anomalies import Anomaly
from kalshi_core.protocols import Portfolio


@attrs.frozen
class Report:
    portfolio: Portfolio


def portfolio(cash: int, cost: int, mark: int) -> Portfolio:
    held = Position(ticker="KX-1", position=10 * 100, market_exposure=cost)
    return Portfolio(cash=cash, positions={"KX-1": held}, marks={"KX-1": mark})


def test_each_cycle_adds_an_equity_point_at_marks() -> None:
    clock = ManualClock(datetime(2026, 1, 2, 13, tzinfo=UTC))
    with LiveFeed(clock) as feed:
        signals.cycle_completed.send(None, report=Report(portfolio(90_000, 4_000, 5_000)))
        clock.advance(timedelta(minutes=10))
        signals.cycle_completed.send(None, report=Report(portfolio(90_000, 4_000, 3_000)))
        signals.cycle_completed.send(None, report=None)  # a cycle without a report: counted
    assert feed.cycles == 3
    assert [p.cash for p in feed.points] == [90_000, 90_000]
    first, second = (p.equity for p in feed.points)
    assert first - second == 10 * (5_000 - 3_000)  # ten contracts marked two dollars lower
    assert feed.points[1].at - feed.points[0].at == timedelta(minutes=10)
    signals.cycle_completed.send(None, report=Report(portfolio(1, 1, 1)))
    assert len(feed.points) == 2, "the feed listened after its block"


def test_points_are_bounded() -> None:
    with LiveFeed(ManualClock()) as feed:
        for _ in range(MAX_POINTS + 5):
            signals.cycle_completed.send(None, report=Report(portfolio(1, 0, 0)))
    assert len(feed.points) == MAX_POINTS


def test_anomalies_stops_and_risk_limits_are_alerts_newest_first() -> None:
    with LiveFeed(ManualClock()) as feed:
        finding = Anomaly(detector="drawdown", message="equity 20% below peak", halt="flatten")
        signals.anomaly_detected.send(None, anomaly=finding)
        signals.stop_changed.send(None, level="flatten", previous="running", reason="drawdown")
        signals.risk_limit_hit.send(None, rule="daily_loss", reason="lost 5%")
    kinds = [a.kind for a in feed.alerts]
    assert kinds == ["risk: daily_loss", "graded stop", "anomaly: drawdown"]
    assert feed.alerts[1].severity == "critical"
    assert feed.alerts[2].message == "equity 20% below peak"
