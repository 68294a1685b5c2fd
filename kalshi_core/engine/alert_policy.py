"""Alert rules: which severities reach which channels, de-duplication and rate limits.

Pure and clock-injected: :class:`AlertGate` is told the time, so a flapping condition is
tested without waiting. Windows are measured on the engine's clock (recorded time in a
replay), the same clock the alerts are stamped with.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs

from kalshi_core.errors import ConfigError
from kalshi_core.protocols import Alert

SEVERITIES = ("info", "warning", "critical")
SEND, FILTERED, DUPLICATE, RATE_LIMITED = "send", "filtered", "duplicate", "rate_limited"


def severity_rank(severity: str) -> int:
    """Unknown severities rank as ``warning``: an alert is never lost to a typo."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else 1


def _routes(value: Any) -> dict[str, tuple[str, ...]]:
    routes = {str(k).lower(): tuple(str(c) for c in v) for k, v in dict(value or {}).items()}
    unknown = sorted(set(routes) - set(SEVERITIES))
    if unknown:
        raise ConfigError(
            f"alerts.routes has unknown severities {unknown}; allowed: {', '.join(SEVERITIES)}"
        )
    return routes


@attrs.frozen(kw_only=True)
class AlertPolicy:
    """``routes`` maps a severity to the channels that get it (absent: every channel)."""

    min_severity: str = "info"
    routes: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    dedup_window: timedelta = timedelta(minutes=10)
    rate_limit: int = 20
    rate_window: timedelta = timedelta(hours=1)
    retry_attempts: int = 4
    retry_backoff_seconds: float = 1.0

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> AlertPolicy:
        """From the ``[alerts]`` settings section (missing keys keep their defaults)."""
        defaults = cls()
        return cls(
            min_severity=str(section.get("min_severity", defaults.min_severity)),
            routes=_routes(section.get("routes")),
            dedup_window=timedelta(seconds=float(section.get("dedup_seconds", 600))),
            rate_limit=int(section.get("rate_limit_count", defaults.rate_limit)),
            rate_window=timedelta(seconds=float(section.get("rate_limit_seconds", 3600))),
            retry_attempts=int(section.get("retry_attempts", defaults.retry_attempts)),
            retry_backoff_seconds=float(
                section.get("retry_backoff_seconds", defaults.retry_backoff_seconds)
            ),
        )

    def wants(self, alert: Alert, channel: str) -> bool:
        if severity_rank(alert.severity) < severity_rank(self.min_severity):
            return False
        chosen = self.routes.get(alert.severity)
        return chosen is None or channel in chosen


class AlertGate:
    """Decides, per channel, whether an alert goes out now: :data:`SEND` or why not."""

    def __init__(self, policy: AlertPolicy) -> None:
        self.policy = policy
        self._last_sent: dict[tuple[str, str, str], datetime] = {}
        self._recent: dict[str, deque[datetime]] = {}

    def admit(self, alert: Alert, channel: str, now: datetime) -> str:
        if not self.policy.wants(alert, channel):
            return FILTERED
        key = (channel, alert.severity, alert.title)
        last = self._last_sent.get(key)
        if last is not None and now - last < self.policy.dedup_window:
            return DUPLICATE
        recent = self._recent.setdefault(channel, deque())
        while recent and now - recent[0] >= self.policy.rate_window:
            recent.popleft()
        if len(recent) >= self.policy.rate_limit:
            return RATE_LIMITED
        recent.append(now)
        self._last_sent[key] = now
        return SEND
