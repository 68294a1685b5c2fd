"""What the venue tells its listeners as each change happens (``Venue.listeners``).

Each change is a frozen snapshot taken at the moment it happened, so a listener may keep it
after the venue has moved on. The WebSocket feed (:mod:`kalshi_core.exchange.websocket`)
turns them into ``orderbook_delta``, ``user_order``, ``fill``, ``market_position`` and
``market_lifecycle_v2`` messages, one per change, in the order they happened.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from kalshi_core.models import BookSide, Fill, Market, MarketStatus, Order, Position
from kalshi_core.money import Count, Price


@attrs.frozen(kw_only=True)
class LevelChanged:
    """``delta`` (signed) contracts at one price level of ``side``.

    ``account_id`` and ``client_order_id`` are those of the order that caused it: the taker
    whose match took from the level, else the order that joined, left or shrank.
    """

    ticker: str
    side: BookSide
    price: Price
    delta: Count
    account_id: str
    client_order_id: str


@attrs.frozen(kw_only=True)
class OrderChanged:
    """An order was created, canceled, decreased, amended or renamed (``order`` is after)."""

    order: Order


@attrs.frozen(kw_only=True)
class Filled:
    """One fill of ``order`` (as it is after the fill) and the account's position after it."""

    order: Order
    fill: Fill
    position: Position


@attrs.frozen(kw_only=True)
class PositionChanged:
    """A position changed other than by a fill (a settlement paid it out)."""

    account_id: str
    position: Position


@attrs.frozen(kw_only=True)
class MarketChanged:
    """A market was listed (``previous`` None) or moved from ``previous`` to its status."""

    market: Market
    previous: MarketStatus | None


Change = LevelChanged | OrderChanged | Filled | PositionChanged | MarketChanged
Listener = Callable[[Change], None]
