"""Signals become alerts on every channel; a broken channel never stops the others."""

from __future__ import annotations

from kalshi_core import signals
from kalshi_core.clock import ManualClock
from kalshi_core.engine.alert_policy import AlertPolicy
from kalshi_core.engine.alerts import AlertRouter
from kalshi_core.protocols import Alert


class Collecting:
    name = "collect"

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    async def send(self, alert: Alert) -> None:
        self.alerts.append(alert)


class Broken:
    name = "broken"

    async def send(self, alert: Alert) -> None:
        raise ConnectionError("channel down")


async def test_risk_limit_and_unknown_order_reach_every_channel(clock: ManualClock) -> None:
    good = Collecting()
    router = AlertRouter([Broken(), good], clock, AlertPolicy(retry_backoff_seconds=0))
    with router:
        signals.risk_limit_hit.send(object(), rule="max_daily_loss", reason="lost 11%")
        signals.risk_limit_hit.send(object(), rule="kill_switch", reason="x", intent=object())
        signals.order_unknown.send(object(), client_order_id="kc-1")
    signals.risk_limit_hit.send(object(), rule="after", reason="not subscribed any more")
    await router.flush()
    assert [(a.title, a.severity) for a in good.alerts] == [
        ("risk limit: max_daily_loss", "critical"),
        ("order state unknown", "warning"),
    ]
    assert good.alerts[0].created_time == clock.now()
    assert "kc-1" in good.alerts[1].body
