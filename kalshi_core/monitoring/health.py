"""Liveness and readiness: is the bot cycling, and can it reach what it needs?

A probe is an async callable that raises (or times out) when its dependency is unreachable.
Readiness names each failed probe with the exception's *type* only: messages can carry URLs
with credentials, and nothing served here may leak a secret.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from kalshi_core import signals
from kalshi_core.clock import Clock
from kalshi_core.monitoring.subscriptions import Handler, Subscriber

Probe = Callable[[], Awaitable[object]]


@attrs.frozen
class Readiness:
    """``failures`` maps a dependency (or ``cycle``) to what is wrong with it."""

    failures: Mapping[str, str]

    @property
    def ready(self) -> bool:
        return not self.failures


@attrs.define(eq=False)
class Health(Subscriber):
    """Tracks the last completed cycle and runs the readiness probes.

    ``last_cycle_at`` is the engine's time (what ``/healthz`` shows); recency is measured on
    ``timer``, a monotonic wall clock, because a replay's clock leaps over idle stretches and
    would make a healthy bot look stale. Monitoring is outside the trading pipeline, so
    reading the wall clock here changes no trading decision.
    """

    clock: Clock
    max_cycle_age: timedelta
    probes: dict[str, Probe] = attrs.field(factory=dict)
    probe_timeout: float = 2.0
    timer: Callable[[], float] = time.monotonic
    last_cycle_at: datetime | None = None
    _last_cycle_timer: float | None = None
    cycles: int = 0

    def subscriptions(self) -> Sequence[tuple[Any, Handler]]:
        return ((signals.cycle_completed, self._on_cycle),)

    def _on_cycle(self, sender: object, **_: object) -> None:
        self.last_cycle_at = self.clock.now()
        self._last_cycle_timer = self.timer()
        self.cycles += 1

    def liveness(self) -> dict[str, object]:
        last = self.last_cycle_at.isoformat() if self.last_cycle_at else None
        return {"status": "alive", "cycles": self.cycles, "last_cycle_time": last}

    async def readiness(self) -> Readiness:
        names = sorted(self.probes)
        results = await asyncio.gather(*(self._probe(self.probes[n]) for n in names))
        failures = {n: r for n, r in zip(names, results, strict=True) if r is not None}
        stale = self._cycle_problem()
        if stale is not None:
            failures["cycle"] = stale
        return Readiness(failures)

    async def _probe(self, probe: Probe) -> str | None:
        try:
            await asyncio.wait_for(probe(), timeout=self.probe_timeout)
        except TimeoutError:
            return f"no answer within {self.probe_timeout:g}s"
        except Exception as error:  # any failure means not ready; its type says which
            return f"unreachable ({type(error).__name__})"
        return None

    def _cycle_problem(self) -> str | None:
        if self._last_cycle_timer is None:
            return "no cycle completed yet"
        age = self.timer() - self._last_cycle_timer
        limit = self.max_cycle_age.total_seconds()
        if age > limit:
            return f"last cycle {age:.0f}s ago (limit {limit:.0f}s)"
        return None
