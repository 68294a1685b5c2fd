"""Alerts: what a human should hear about, delivered by every enabled alerter.

The router subscribes to signals (nothing in the trading loop calls an alerter) and sends
each alert to every channel of ``alerts.channels`` in the background; a channel that fails is
logged and never stops trading. :meth:`AlertRouter.flush` waits for deliveries in flight.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from blinker import Signal

from kalshi_core import signals
from kalshi_core.clock import Clock
from kalshi_core.protocols import Alert, Alerter

log = logging.getLogger(__name__)


class AlertRouter:
    """Turns signals into alerts and hands them to the alerters."""

    def __init__(self, alerters: Sequence[Alerter], clock: Clock) -> None:
        self.alerters = list(alerters)
        self.clock = clock
        self._pending: set[asyncio.Task[None]] = set()
        self._subscriptions: list[tuple[Signal, Any]] = [
            (signals.risk_limit_hit, self._on_risk_limit),
            (signals.order_unknown, self._on_order_unknown),
            (signals.market_settled, self._on_settled),
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

    def send(self, alert: Alert) -> None:
        """Deliver ``alert`` to every channel without blocking the caller."""
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
        for alerter in self.alerters:
            task = loop.create_task(self._deliver(alerter, stamped))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    @staticmethod
    async def _deliver(alerter: Alerter, alert: Alert) -> None:
        try:
            await alerter.send(alert)
        except Exception:  # a broken channel must never stop trading
            log.exception("alerter %s failed to deliver %r", alerter.name, alert.title)

    async def flush(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending)
