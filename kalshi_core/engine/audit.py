"""The audit trail: every order event and risk decision, stored as it happened.

An :class:`AuditTrail` subscribes to the order and risk signals, buffers one
:class:`AuditEvent` per signal (signal handlers are synchronous) and writes them at the end of
each cycle. Payloads carry identifiers, prices and reasons; never credentials.
"""

from __future__ import annotations

from typing import Any

import attrs

from kalshi_core import signals
from kalshi_core.clock import Clock
from kalshi_core.storage.records import AuditEvent
from kalshi_core.storage.repositories import AuditEvents

AUDITED = (
    signals.order_placed,
    signals.order_rejected,
    signals.order_canceled,
    signals.order_unknown,
    signals.order_filled,
    signals.risk_limit_hit,
    signals.market_settled,
    signals.stop_changed,  # graded stops (kalshi_core.monitoring.stops)
)
FIELDS = (
    "order_id",
    "client_order_id",
    "ticker",
    "side",
    "action",
    "price",
    "count",
    "yes_price",
    "status",
    "fill_id",
    "market_result",
    "strategy",
)


def payload_of(sender: object, details: dict[str, Any]) -> dict[str, Any]:
    """A JSON-able summary of what a signal was about."""
    payload: dict[str, Any] = {f: _plain(getattr(sender, f)) for f in FIELDS if hasattr(sender, f)}
    payload.update({k: _plain(v) for k, v in details.items() if isinstance(v, str | int)})
    return payload


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


@attrs.define
class AuditTrail:
    """Collects audit events from signals; :meth:`flush` stores them."""

    repository: AuditEvents
    clock: Clock
    _buffer: list[AuditEvent] = attrs.field(factory=list)
    _handlers: list[Any] = attrs.field(factory=list)

    def __attrs_post_init__(self) -> None:
        for signal in AUDITED:
            handler = self._handler(signal.name)
            signal.connect(handler)  # weak: the handlers live as long as this trail
            self._handlers.append((signal, handler))

    def _handler(self, kind: str) -> Any:
        def record(sender: object, **details: Any) -> None:
            event = AuditEvent(
                created_time=self.clock.now(),
                kind=kind,
                message=str(details.get("reason", "")),
                ticker=getattr(sender, "ticker", None),
                payload=payload_of(sender, details),
            )
            self._buffer.append(event)

        return record

    def close(self) -> None:
        for signal, handler in self._handlers:
            signal.disconnect(handler)
        self._handlers.clear()

    async def flush(self) -> None:
        events, self._buffer = self._buffer, []
        await self.repository.record_many(events)
