"""Built-in alerter ``log``: writes alerts to the ``kalshi_core.alerts`` logger."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from kalshi_core.hookspecs import hookimpl
from kalshi_core.protocols import Alert

LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "critical": logging.CRITICAL}


class LogAlerter:
    """Delivers every alert as one log record at the alert's severity."""

    name = "log"

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger("kalshi_core.alerts")

    async def send(self, alert: Alert) -> None:
        details = " ".join(f"{k}={v}" for k, v in sorted(alert.fields.items()))
        level = LEVELS.get(alert.severity, logging.WARNING)
        self.logger.log(level, "%s: %s %s", alert.title, alert.body, details)


def make_log_alerter(section: Mapping[str, Any]) -> LogAlerter:
    return LogAlerter()


@hookimpl
def register_alerters(register: Any) -> None:
    register("log", make_log_alerter)
