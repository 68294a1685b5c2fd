"""Alert rules: severity floor, routes, de-duplication and the per-channel rate limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kalshi_core.engine.alert_policy import (
    DUPLICATE,
    FILTERED,
    RATE_LIMITED,
    SEND,
    AlertGate,
    AlertPolicy,
)
from kalshi_core.errors import ConfigError
from kalshi_core.protocols import Alert

T0 = datetime(2026, 1, 2, tzinfo=UTC)
WARN = Alert(title="order state unknown", body="x", severity="warning")


def test_the_same_alert_is_sent_once_per_window_per_channel() -> None:
    gate = AlertGate(AlertPolicy(dedup_window=timedelta(minutes=10)))
    assert gate.admit(WARN, "slack", T0) == SEND
    assert gate.admit(WARN, "email", T0) == SEND  # another channel is not a duplicate
    assert gate.admit(WARN, "slack", T0 + timedelta(minutes=9)) == DUPLICATE
    assert gate.admit(WARN, "slack", T0 + timedelta(minutes=10)) == SEND


def test_a_flapping_condition_is_rate_limited() -> None:
    gate = AlertGate(
        AlertPolicy(dedup_window=timedelta(0), rate_limit=3, rate_window=timedelta(hours=1))
    )
    verdicts = [gate.admit(WARN, "slack", T0 + timedelta(minutes=i)) for i in range(5)]
    assert verdicts == [SEND, SEND, SEND, RATE_LIMITED, RATE_LIMITED]
    assert gate.admit(WARN, "slack", T0 + timedelta(hours=1)) == SEND  # the window moved on


def test_severity_floor_and_routes() -> None:
    policy = AlertPolicy.from_section(
        {"min_severity": "warning", "routes": {"critical": ["pager"], "warning": ["slack"]}}
    )
    gate = AlertGate(policy)
    info = Alert(title="settled", body="", severity="info")
    critical = Alert(title="kill", body="", severity="critical")
    assert gate.admit(info, "slack", T0) == FILTERED
    assert gate.admit(WARN, "pager", T0) == FILTERED
    assert gate.admit(WARN, "slack", T0) == SEND
    assert gate.admit(critical, "slack", T0) == FILTERED
    assert gate.admit(critical, "pager", T0) == SEND


def test_from_section_reads_every_key() -> None:
    policy = AlertPolicy.from_section(
        {
            "dedup_seconds": 30,
            "rate_limit_count": 2,
            "rate_limit_seconds": 60,
            "retry_attempts": 7,
            "retry_backoff_seconds": 0.1,
        }
    )
    assert policy.dedup_window == timedelta(seconds=30)
    assert (policy.rate_limit, policy.rate_window) == (2, timedelta(seconds=60))
    assert (policy.retry_attempts, policy.retry_backoff_seconds) == (7, 0.1)


def test_a_route_for_an_unknown_severity_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"alerts\.routes has unknown severities \['urgent'\]"):
        AlertPolicy.from_section({"routes": {"urgent": ["slack"]}})
