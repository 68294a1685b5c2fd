"""Cancel/replace for strategies that manage resting quotes (the market maker).

A strategy with ``manages_quotes = True`` proposes, each cycle, the complete set of orders it
wants resting in each market it was asked about. Here those proposals are matched against its
orders already resting: an exact match (same market, book side, price and remaining size)
stays untouched and keeps its queue priority; a resting quote nobody re-proposed is canceled;
a proposal with no match is placed. Other strategies' orders are never touched.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

import attrs

from kalshi_core.models import Order, OrderIntent, to_book

QuoteKey = tuple[str, str, str, int, int]  # strategy, ticker, book side, yes price, count


@attrs.frozen(kw_only=True)
class QuotePlan:
    place: tuple[OrderIntent, ...]
    cancel: tuple[Order, ...]
    kept: tuple[Order, ...]


def intent_key(intent: OrderIntent) -> QuoteKey:
    side, price = to_book(intent.side, intent.action, intent.price)
    return (intent.strategy, intent.ticker, side.value, price, intent.count)


def order_key(order: Order, strategy: str) -> QuoteKey:
    return (strategy, order.ticker, order.book_side.value, order.yes_price, order.remaining_count)


def plan_quotes(
    approved: Sequence[OrderIntent],
    resting: Sequence[Order],
    strategy_of: Callable[[Order], str | None],
    quoting: Collection[str],
    tickers: Collection[str],
) -> QuotePlan:
    """Split ``approved`` into what to place, and quoting strategies' resting orders in
    ``tickers`` into what to cancel and what to keep."""
    managed = _managed(resting, strategy_of, quoting, tickers)
    wanted: dict[QuoteKey, OrderIntent] = {}
    place: list[OrderIntent] = []
    for intent in approved:
        if intent.strategy in quoting and intent_key(intent) not in wanted:
            wanted[intent_key(intent)] = intent
        elif intent.strategy not in quoting:
            place.append(intent)
    kept: list[Order] = []
    cancel: list[Order] = []
    for order, strategy in managed:
        key = order_key(order, strategy)
        (kept if wanted.pop(key, None) is not None else cancel).append(order)
    place.extend(wanted.values())
    return QuotePlan(place=tuple(place), cancel=tuple(cancel), kept=tuple(kept))


def _managed(
    resting: Sequence[Order],
    strategy_of: Callable[[Order], str | None],
    quoting: Collection[str],
    tickers: Collection[str],
) -> list[tuple[Order, str]]:
    """Resting orders in ``tickers`` that belong to a quoting strategy, with its name."""
    found = []
    for order in resting:
        strategy = strategy_of(order) if order.ticker in tickers else None
        if strategy is not None and strategy in quoting:
            found.append((order, strategy))
    return found
