"""Stored facts that have no exchange counterpart in :mod:`kalshi_core.models`.

``StoredOrder`` follows one of our orders from the intent recorded before sending to the
exchange's final word; the others are ledgers (AI spend, daily P&L, audit trail).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import attrs

from kalshi_core.models import Market, Order, OrderIntent, StrEnum
from kalshi_core.money import Count, Money


class OrderState(StrEnum):
    """Where an order stands from our side.

    ``pending_submit``: recorded, not yet (known to be) sent. ``pending_unknown``: a write
    whose outcome is unknown (timeout, dropped connection, 5xx); the market is blocked until a
    lookup by ``client_order_id`` settles it. The rest mirror the exchange.
    """

    PENDING_SUBMIT = "pending_submit"
    PENDING_UNKNOWN = "pending_unknown"
    RESTING = "resting"
    EXECUTED = "executed"
    CANCELED = "canceled"
    REJECTED = "rejected"


#: States in which an order may still rest on (or reach) the book.
LIVE_STATES = (OrderState.PENDING_SUBMIT, OrderState.PENDING_UNKNOWN, OrderState.RESTING)


@attrs.frozen(kw_only=True)
class StoredOrder:
    """One of our orders as recorded: the intent, our state and the exchange's last report."""

    client_order_id: str
    intent: OrderIntent
    state: OrderState
    created_time: datetime
    updated_time: datetime
    decision_id: str | None = None
    order_id: str | None = None
    fill_count: Count = 0
    remaining_count: Count = 0
    error: str = ""
    exchange_order: Order | None = None


@attrs.frozen(kw_only=True)
class MarketSnapshot:
    """A market as seen at ``captured_time``."""

    market: Market
    captured_time: datetime


@attrs.frozen(kw_only=True)
class AiSpend:
    """Money spent on one model call."""

    created_time: datetime
    model: str
    cost: Money
    purpose: str = "forecast"
    ticker: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0


@attrs.frozen(kw_only=True)
class DailyPnl:
    """Profit and loss of one UTC calendar day."""

    day: date
    realized_pnl: Money = 0
    unrealized_pnl: Money = 0
    fees: Money = 0
    ai_cost: Money = 0


@attrs.frozen(kw_only=True)
class AuditEvent:
    """Something that happened, kept for the audit trail. ``payload`` must be JSON-able."""

    created_time: datetime
    kind: str
    message: str = ""
    ticker: str | None = None
    payload: dict[str, Any] = attrs.field(factory=dict)
