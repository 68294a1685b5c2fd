"""Queue positions and how one recorded print is shared among our resting orders.

Pure functions over small records, so the invariants can be property-tested on their own:

* one print never fills more than its size across all our orders;
* an order fills only at its own price, from a print at or through it (never worse);
* an order never fills more than it has left;
* at the print's own price, the volume queued ahead of an order (``ahead``) trades first.

A print *through* an order's price proves the outside volume at that price had gone (a
seller at 48 c would have hit a 50 c bid first), so ``ahead`` drops to zero there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs

from kalshi_core.models import BookSide
from kalshi_core.money import Count, Price

__all__ = ["Queued", "allocate_print", "power_queue_depth", "risk_averse_depth"]


@attrs.define(kw_only=True)
class Queued:
    """One of our resting orders as the allocator sees it.

    ``ahead`` is the outside volume queued ahead of it at its price; None means unknown,
    and then a print at that price never reaches it (only a print through it does).
    """

    order_id: str
    side: BookSide
    price: Price
    sequence: int
    remaining: Count
    ahead: Count | None


def _through(order: Queued, price: Price) -> bool:
    return order.price > price if order.side is BookSide.BID else order.price < price


def _reached(order: Queued, price: Price) -> bool:
    return order.price >= price if order.side is BookSide.BID else order.price <= price


def _priority(order: Queued) -> tuple[int, int]:
    return (-order.price if order.side is BookSide.BID else order.price, order.sequence)


def allocate_print(
    maker_side: BookSide, price: Price, volume: Count, orders: Sequence[Queued]
) -> list[tuple[Queued, Count]]:
    """Share a print of ``volume`` at ``price`` that took ``maker_side`` among ``orders``.

    Orders are served in price-time priority; each one's position is our own volume ahead
    of it plus its outside ``ahead``. Returns ``(order, count)`` for every order that fills,
    and advances each order's ``ahead`` by the outside volume the print consumed.
    """
    candidates = sorted(
        (o for o in orders if o.side is maker_side and _reached(o, price) and o.remaining > 0),
        key=_priority,
    )
    fills: list[tuple[Queued, Count]] = []
    ours_ahead = filled_ahead = 0
    for order in candidates:
        if _through(order, price):
            order.ahead = 0
        if order.ahead is not None:
            position = ours_ahead + order.ahead
            count = min(order.remaining, max(0, volume - position))
            outside = min(position, volume) - filled_ahead
            order.ahead = min(order.ahead, max(0, order.ahead - outside))
            if count:
                fills.append((order, count))
                filled_ahead += count
        ours_ahead += order.remaining
    return fills


def risk_averse_depth(ahead: Count, before: Count, after: Count, power: float = 0.0) -> Count:
    """hftbacktest's RiskAverseQueueModel: a shrinking level never moves us forward except
    that we cannot be behind more than the level now shows."""
    return min(ahead, after)


def power_queue_depth(ahead: Count, before: Count, after: Count, power: float = 2.0) -> Count:
    """hftbacktest's ProbQueueModel with ``PowerProbQueueFunc(n)``: a level that shrank by
    ``before - after`` without trading lost volume behind us with probability
    ``f(back) / (f(back) + f(front))``, ``f(x) = x ** n``; the rest came from ahead of us.

    Additions join behind us; the estimate is rounded up (toward more volume ahead).
    """
    change = before - after
    if change <= 0:
        return min(ahead, max(after, 0))
    front, back = float(ahead), float(max(0, before - ahead))
    weight_front, weight_back = front**power, back**power
    total = weight_front + weight_back
    behind = weight_back / total if total else 0.5
    estimate = front - (1.0 - behind) * change + min(back - behind * change, 0.0)
    return max(0, min(math.ceil(estimate), after))
