"""Logging: text or one JSON object per line, with the current cycle's correlation id.

``logging.format = "json"`` switches the root handler to python-json-logger. Every record
carries ``cycle_id`` (``<run>-<cycle number>`` while a cycle runs, ``-`` between cycles), so
all lines of one cycle can be grouped. :class:`AuditLog` writes each audit event that the
database stores (:mod:`kalshi_core.engine.audit`) as a log record of its own, with the same
payload, on the ``kalshi_core.audit`` logger.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Sequence
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from kalshi_core import signals
from kalshi_core.engine.audit import AUDITED, payload_of
from kalshi_core.monitoring.subscriptions import Handler, Subscriber

FORMATS = ("text", "json")
NO_CYCLE = "-"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(cycle_id)s]: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(cycle_id)s"
AUDIT_LOGGER = "kalshi_core.audit"

current_cycle: contextvars.ContextVar[str] = contextvars.ContextVar(
    "kalshi_cycle_id", default=NO_CYCLE
)


class CycleIdFilter(logging.Filter):
    """Stamps every record with the cycle it was logged in."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.cycle_id = current_cycle.get()
        return True


def formatter(fmt: str) -> logging.Formatter:
    if fmt == "json":
        return JsonFormatter(
            JSON_FIELDS, rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}
        )
    if fmt == "text":
        return logging.Formatter(TEXT_FORMAT)
    raise ValueError(f"logging.format {fmt!r} is not one of {', '.join(FORMATS)}")


def configure_logging(
    level: str, fmt: str = "text", *, handler: logging.Handler | None = None
) -> logging.Handler | None:
    """One root handler (stderr unless given) in ``fmt`` at ``level``.

    Like :func:`logging.basicConfig`, leaves a root logger that someone else configured alone
    (an embedding application, pytest's capture) and returns ``None`` then; a handler of ours
    from an earlier call is replaced.
    """
    root = logging.getLogger()
    foreign = [h for h in root.handlers if not getattr(h, "kalshi_core", False)]
    if foreign and handler is None:
        return None
    for old in list(root.handlers):
        if getattr(old, "kalshi_core", False):
            root.removeHandler(old)
    chosen = handler or logging.StreamHandler()
    chosen.kalshi_core = True  # type: ignore[attr-defined]
    chosen.setFormatter(formatter(fmt))
    chosen.addFilter(CycleIdFilter())
    root.addHandler(chosen)
    root.setLevel(level if level in logging.getLevelNamesMapping() else "INFO")
    return chosen


class CycleCorrelation(Subscriber):
    """Sets :data:`current_cycle` when a cycle starts and clears it when it completes.

    Signal handlers run in the sender's context, so the id is visible to everything the
    cycle logs afterwards, including the tasks it starts.
    """

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id[:12]

    def subscriptions(self) -> Sequence[tuple[Any, Handler]]:
        return (
            (signals.cycle_started, self._on_started),
            (signals.cycle_completed, self._on_completed),
        )

    def _on_started(self, sender: object, **_: object) -> None:
        current_cycle.set(f"{self.run_id}-{getattr(sender, 'cycles', 0)}")

    def _on_completed(self, sender: object, **_: object) -> None:
        current_cycle.set(NO_CYCLE)


class AuditLog(Subscriber):
    """Every audited signal also becomes one INFO record with the stored payload."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger(AUDIT_LOGGER)

    def subscriptions(self) -> Sequence[tuple[Any, Handler]]:
        return tuple((signal, self._handler(signal.name)) for signal in AUDITED)

    def _handler(self, kind: str) -> Handler:
        def record(sender: object, **details: Any) -> None:
            payload = payload_of(sender, details)
            extra = {"event": kind, "ticker": getattr(sender, "ticker", None), "payload": payload}
            reason = details.get("reason")
            message = f"{kind}: {reason}" if reason else kind
            self.logger.info("%s", message, extra=extra)

        return record
