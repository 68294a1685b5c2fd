"""Wire models of the queue-position and order-group endpoints (SDK 3.34 shapes)."""

# The wire helpers (count_fp(), plain()) return attrs.field() with metadata; ruff
# mistakes them for call-time defaults.
# ruff: noqa: RUF009

from __future__ import annotations

import attrs

from kalshi_core.models import count_fp, plain
from kalshi_core.money import Count


@attrs.frozen(kw_only=True)
class QueuePosition:
    """Contracts resting ahead of ``order_id`` at its price (price-time priority)."""

    order_id: str
    market_ticker: str
    queue_position: Count = count_fp("queue_position_fp")


@attrs.frozen(kw_only=True)
class QueueAhead:
    """``GET /portfolio/orders/{id}/queue_position``."""

    queue_position: Count = count_fp("queue_position_fp")


@attrs.frozen(kw_only=True)
class OrderGroupSummary:
    """One entry of ``GET /portfolio/order_groups``. ``is_triggered`` is sent only by the
    local exchange (``None`` from Kalshi, which does not say)."""

    order_group_id: str = plain("id")
    is_auto_cancel_enabled: bool
    contracts_limit: Count | None = count_fp("contracts_limit_fp", default=None)
    is_triggered: bool | None = None


@attrs.frozen(kw_only=True)
class OrderGroupDetail:
    """``GET /portfolio/order_groups/{id}``: the group's settings and its orders' ids."""

    is_auto_cancel_enabled: bool
    orders: tuple[str, ...]
    contracts_limit: Count | None = count_fp("contracts_limit_fp", default=None)
    is_triggered: bool | None = None


@attrs.frozen(kw_only=True)
class CreatedOrderGroup:
    """``POST /portfolio/order_groups/create``."""

    order_group_id: str
    subaccount: int = 0
