"""Alerts: what a human should hear about, delivered by every enabled alerter.

The router subscribes to signals (nothing in the trading loop calls an alerter) and sends
each alert to the channels of ``alerts.channels`` its rules allow (severity routes,
de-duplication, a rate limit per channel: :mod:`kalshi_core.engine.alert_policy`), in the
background. A delivery that fails is retried with exponential backoff, then logged; it never
stops trading. :meth:`AlertRouter.flush` waits for deliveries in flight.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from blinker import Signal

from kalshi_core import signals
from kalshi_core.clock import Clock
from kalshi_core.engine.alert_policy import SEND, AlertGate, AlertPolicy
from kalshi_core.protocols import Alert, Alerter

log = logging.getLogger(__name__)

Observer = Callable[[str, str], None]  # (channel, outcome): sent, failed, duplicate, ...
Sleep = Callable[[float], Awaitable[None]]


def _ignore(channel: str, outcome: str) -> None:
    """The default observer: nobody counts deliveries."""


class AlertRouter:
    """Turns signals into alerts and hands them to the alerters."""

    def __init__(
        self,
        alerters: Sequence[Alerter],
        clock: Clock,
        policy: AlertPolicy | None = None,
        *,
        observer: Observer = _ignore,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.alerters = list(alerters)
        self.clock = clock
        self.policy = policy or AlertPolicy()
        self.gate = AlertGate(self.policy)
        self.observer = observer
        self._sleep = sleep
        self._pending: set[asyncio.Task[None]] = set()
        self._subscriptions: list[tuple[Signal, Any]] = [
            (signals.risk_limit_hit, self._on_risk_limit),
            (signals.order_unknown, self._on_order_unknown),
            (signals.market_settled, self._on_settled),
            (signals.anomaly_detected, self._on_anomaly),
            (signals.stop_changed, self._on_stop),
        ]

    def __enter__(self) -> AlertRouter:
        for signal, handler in self._subscriptions:
            signal.connect(handler)
        return self

    def __exit__(self, *exc: object) -> None:
        for signal, handler in self._subscriptions:
            signal.disconnect(handler)

    def _on_risk_limit(
        self, sender: object, *, rule: str = "", reason: str = "", **details: object
    ) -> None:
        """Account-level limits (the kill switch tripping) alert; a single intent refused by a
        limit is only audited, or every cycle of a tripped switch would alert once per intent."""
        if details.get("intent") is not None:
            return
        severity = "critical" if rule == "max_daily_loss" else "warning"
        self.send(Alert(title=f"risk limit: {rule}", body=reason, severity=severity))

    def _on_order_unknown(self, sender: object, *, client_order_id: str = "", **_: object) -> None:
        body = f"order {client_order_id} has an unknown outcome; its market is blocked"
        self.send(Alert(title="order state unknown", body=body, severity="warning"))

    def _on_settled(self, sender: object, **_: object) -> None:
        ticker = getattr(sender, "ticker", "?")
        result = getattr(sender, "market_result", "?")
        self.send(Alert(title=f"settled {ticker}", body=f"result: {result}"))

    def _on_anomaly(self, sender: object, *, anomaly: Any = None, **_: object) -> None:
        detector = getattr(anomaly, "detector", "anomaly")
        severity = getattr(anomaly, "severity", "warning")
        self.send(Alert(title=f"anomaly: {detector}", body=str(anomaly), severity=severity))

    def _on_stop(
        self, sender: object, *, level: str = "", previous: str = "", reason: str = "", **_: object
    ) -> None:
        body = f"{previous} -> {level}: {reason}"
        severity = "info" if level == "running" else "critical"
        self.send(Alert(title=f"trading {level}", body=body, severity=severity))

    def send(self, alert: Alert) -> None:
        """Deliver ``alert`` to every channel its rules allow, without blocking the caller."""
        stamped = Alert(
            title=alert.title,
            body=alert.body,
            severity=alert.severity,
            created_time=alert.created_time or self.clock.now(),
            fields=alert.fields,
        )
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a signal sent outside the event loop: never break the sender
            log.warning("alert %r raised outside the event loop; not delivered", alert.title)
            return
        now = self.clock.now()
        for alerter in self.alerters:
            verdict = self.gate.admit(stamped, alerter.name, now)
            if verdict != SEND:
                self.observer(alerter.name, verdict)
                continue
            task = loop.create_task(self._deliver(alerter, stamped))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _deliver(self, alerter: Alerter, alert: Alert) -> None:
        attempts = max(1, self.policy.retry_attempts)
        for attempt in range(attempts):
            try:
                await alerter.send(alert)
            except Exception as error:  # a broken channel must never stop trading
                log.warning(
                    "alerter %s failed to deliver %r (attempt %d of %d): %s",
                    alerter.name,
                    alert.title,
                    attempt + 1,
                    attempts,
                    type(error).__name__,
                )
            else:
                self.observer(alerter.name, "sent")
                return
            if attempt + 1 < attempts:
                await self._sleep(self.policy.retry_backoff_seconds * 2**attempt)
        log.error("alerter %s gave up on %r after %d attempts", alerter.name, alert.title, attempts)
        self.observer(alerter.name, "failed")

    async def flush(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending)
