"""The running engine as the dashboard sees it (only when ``kalshi-core run`` serves it).

:class:`LiveFeed` listens to the engine's signals for the length of the session: the last
cycle's portfolio, equity at each cycle (the P&L chart) and recent alerts (anomalies and stop
changes). :class:`EngineLink` joins it to the session's graded stops, health and clock, which
is what the controls act on.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

import attrs

from kalshi_core import signals
from kalshi_core.monitoring.health import Health
from kalshi_core.monitoring.stops import StopController
from kalshi_core.monitoring.subscriptions import Handler, Subscriber
from kalshi_core.protocols import Portfolio

#: Points kept for the live equity chart (older ones drop off the left).
MAX_POINTS = 2000
MAX_ALERTS = 50


class Clock(Protocol):
    def now(self) -> datetime: ...


@attrs.frozen(kw_only=True)
class EquityPoint:
    at: datetime
    equity: int  # cash + positions at cost + unrealised at marks, money units
    cash: int


@attrs.frozen(kw_only=True)
class Alert:
    at: datetime
    kind: str
    severity: str
    message: str


class LiveFeed(Subscriber):
    """What the engine's signals said lately: the portfolio, equity points, alerts."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.cycles = 0
        self.portfolio: Portfolio | None = None
        self.points: deque[EquityPoint] = deque(maxlen=MAX_POINTS)
        self.alerts: deque[Alert] = deque(maxlen=MAX_ALERTS)

    def subscriptions(self) -> Sequence[tuple[Any, Handler]]:
        return (
            (signals.cycle_completed, self._on_cycle),
            (signals.anomaly_detected, self._on_anomaly),
            (signals.stop_changed, self._on_stop),
            (signals.risk_limit_hit, self._on_risk),
        )

    def _on_cycle(self, sender: object, *, report: Any = None, **_: object) -> None:
        self.cycles += 1
        portfolio = getattr(report, "portfolio", None)
        if portfolio is None:
            return
        self.portfolio = portfolio
        equity = portfolio.value + portfolio.unrealized_pnl
        self.points.append(EquityPoint(at=self.clock.now(), equity=equity, cash=portfolio.cash))

    def _alert(self, kind: str, severity: str, message: str) -> None:
        alert = Alert(at=self.clock.now(), kind=kind, severity=severity, message=message)
        self.alerts.appendleft(alert)

    def _on_anomaly(self, sender: object, *, anomaly: Any = None, **_: object) -> None:
        severity = str(getattr(anomaly, "severity", "warning"))
        self._alert(f"anomaly: {getattr(anomaly, 'detector', '?')}", severity, str(anomaly))

    def _on_stop(self, sender: object, *, level: str = "", reason: str = "", **_: object) -> None:
        self._alert("graded stop", "critical", f"{level}: {reason}")

    def _on_risk(self, sender: object, *, rule: str = "", reason: str = "", **_: object) -> None:
        self._alert(f"risk: {rule}", "warning", reason or rule)


@attrs.define(eq=False)
class EngineLink:
    """The session's parts the dashboard reads and the controls act on."""

    stops: StopController
    health: Health
    clock: Clock
    feed: LiveFeed
    run_id: str = ""
