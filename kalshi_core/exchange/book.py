"""One market's central limit order book, quoted in YES prices.

Bids buy YES; asks sell YES (the same as buying NO at $1 - price). Each side keeps a dict of
price levels and a sorted list of the prices (``bisect``), and each level a FIFO ``deque``,
so finding the best price is O(1) and adding a new level is O(log levels) to search.

Cancellation is lazy: every time an order joins a queue it gets a fresh ``queue_token``;
the queue entry stays behind when the order leaves, and is recognised as dead because its
token no longer matches. A level disappears as soon as its last live order leaves, and a
level with many dead entries is compacted, so dead entries never pile up.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable, Iterator
from datetime import datetime

from kalshi_core.models import BookSide, OrderStatus, SelfTradePrevention, TimeInForce
from kalshi_core.money import Count, Money, Price

_COMPACT_AT = 64


class OrderState:
    """An order's mutable state inside the venue (reported as :class:`kalshi_core.models.Order`).

    ``fill_count + remaining + canceled_count == initial_count`` always holds.
    """

    __slots__ = (
        "account_id",
        "canceled_count",
        "client_order_id",
        "created_time",
        "expiration_time",
        "fee_accrued",
        "fee_reserve",
        "fill_count",
        "initial_count",
        "maker_fees",
        "maker_fill_cost",
        "order_group_id",
        "order_id",
        "post_only",
        "price",
        "queue_token",
        "reduce_only",
        "remaining",
        "self_trade_prevention",
        "sequence",
        "side",
        "status",
        "taker_fees",
        "taker_fill_cost",
        "ticker",
        "time_in_force",
        "updated_time",
    )

    def __init__(
        self,
        *,
        order_id: str,
        client_order_id: str,
        account_id: str,
        ticker: str,
        side: BookSide,
        price: Price,
        count: Count,
        time_in_force: TimeInForce,
        post_only: bool,
        reduce_only: bool,
        self_trade_prevention: SelfTradePrevention,
        expiration_time: datetime | None,
        now: datetime,
        sequence: int,
        order_group_id: str | None = None,
    ) -> None:
        self.order_id = order_id
        self.client_order_id = client_order_id
        self.account_id = account_id
        self.ticker = ticker
        self.side = side
        self.price = price
        self.initial_count = count
        self.remaining = count
        self.time_in_force = time_in_force
        self.post_only = post_only
        self.reduce_only = reduce_only
        self.self_trade_prevention = self_trade_prevention
        self.expiration_time = expiration_time
        self.created_time = now
        self.updated_time = now
        self.sequence = sequence
        self.order_group_id = order_group_id
        self._start_resting()

    def _start_resting(self) -> None:
        """A new order: resting, nothing filled, canceled or paid yet."""
        self.status = OrderStatus.RESTING
        self.queue_token = 0
        self.fill_count: Count = 0
        self.canceled_count: Count = 0
        self.fee_reserve: Money = 0
        self.taker_fill_cost: Money = 0
        self.maker_fill_cost: Money = 0
        self.taker_fees: Money = 0
        self.maker_fees: Money = 0
        # Exact fees of both roles, in the market's fee sub-units (see exchange/fee_meter.py),
        # for the rounding accumulator.
        self.fee_accrued = 0

    @property
    def in_book(self) -> bool:
        return self.queue_token != 0

    def __repr__(self) -> str:
        return (
            f"OrderState({self.order_id} {self.account_id} {self.ticker} {self.side} "
            f"{self.price}x{self.remaining} {self.status})"
        )


class _Level:
    __slots__ = ("entries", "live", "total")

    def __init__(self) -> None:
        self.entries: deque[tuple[int, OrderState]] = deque()
        self.total: Count = 0
        self.live = 0


class _Side:
    """One side's levels by price and its prices ascending (best last for bids, first for asks).

    Kept apart per side so no lookup hashes a :class:`BookSide` (an Enum hashes in Python).
    """

    __slots__ = ("is_bid", "levels", "prices")

    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.levels: dict[Price, _Level] = {}
        self.prices: list[Price] = []

    def best(self) -> Price | None:
        prices = self.prices
        if not prices:
            return None
        return prices[-1] if self.is_bid else prices[0]

    def drop(self, price: Price) -> None:
        del self.levels[price]
        prices = self.prices
        del prices[bisect.bisect_left(prices, price)]


class Book:
    """Price-time priority queues for one market. The venue does the accounting."""

    def __init__(self, ticker: str) -> None:
        self.ticker = ticker
        self._bids = _Side(is_bid=True)
        self._asks = _Side(is_bid=False)
        self._next_token = 0
        self.order_count = 0
        #: Called with (order, signed size change at its level) after every change.
        self.on_change: Callable[[OrderState, Count], None] | None = None

    @property
    def _levels(self) -> dict[BookSide, dict[Price, _Level]]:
        """Both sides' levels by price (for inspection; not used on the matching path)."""
        return {BookSide.BID: self._bids.levels, BookSide.ASK: self._asks.levels}

    def _side(self, side: BookSide) -> _Side:
        return self._bids if side is BookSide.BID else self._asks

    def best(self, side: BookSide) -> Price | None:
        """Best price on ``side``: the highest bid or the lowest ask."""
        return self._side(side).best()

    def size_at(self, side: BookSide, price: Price) -> Count:
        level = self._side(side).levels.get(price)
        return level.total if level else 0

    def add(self, order: OrderState) -> None:
        """Queue ``order`` at the back of its price level."""
        if order.queue_token:
            raise ValueError(f"{order.order_id} is already in the {self.ticker} book")
        side = self._bids if order.side is BookSide.BID else self._asks
        price = order.price
        level = side.levels.get(price)
        if level is None:
            level = side.levels[price] = _Level()
            bisect.insort(side.prices, price)
        self._next_token = token = self._next_token + 1
        order.queue_token = token
        level.entries.append((token, order))
        level.total += order.remaining
        level.live += 1
        self.order_count += 1
        if self.on_change is not None:
            self.on_change(order, order.remaining)

    def remove(self, order: OrderState) -> None:
        """Take ``order`` out of the book (its queue entry dies lazily)."""
        side = self._bids if order.side is BookSide.BID else self._asks
        level = side.levels[order.price]
        level.total -= order.remaining
        level.live -= 1
        order.queue_token = 0
        self.order_count -= 1
        if level.live == 0:
            side.drop(order.price)
        elif len(level.entries) > _COMPACT_AT and len(level.entries) > 2 * level.live:
            level.entries = deque(e for e in level.entries if e[0] == e[1].queue_token)
        if self.on_change is not None:
            self.on_change(order, -order.remaining)

    def set_remaining(self, order: OrderState, remaining: Count) -> None:
        """Change a resting order's size in place (keeps its time priority); 0 removes it."""
        if remaining <= 0:
            self.remove(order)
            order.remaining = 0
            return
        side = self._bids if order.side is BookSide.BID else self._asks
        change = remaining - order.remaining
        side.levels[order.price].total += change
        order.remaining = remaining
        if self.on_change is not None and change:
            self.on_change(order, change)

    def head(self, side: BookSide) -> OrderState | None:
        """The order first in line on ``side``, or None when that side is empty."""
        book_side = self._bids if side is BookSide.BID else self._asks
        prices = book_side.prices
        if not prices:
            return None
        entries = book_side.levels[prices[-1] if book_side.is_bid else prices[0]].entries
        token, order = entries[0]
        while token != order.queue_token:
            entries.popleft()
            token, order = entries[0]
        return order

    def in_priority(self, side: BookSide) -> Iterator[OrderState]:
        """Live orders on ``side`` from first in line to last (for read-only walks)."""
        book_side = self._side(side)
        prices = book_side.prices
        ordered = reversed(prices) if book_side.is_bid else iter(prices)
        for price in list(ordered):
            for token, order in list(book_side.levels[price].entries):
                if token == order.queue_token:
                    yield order

    def depth(self, side: BookSide) -> list[tuple[Price, Count]]:
        """(price, total size) per level, ascending price."""
        book_side = self._side(side)
        levels = book_side.levels
        return [(price, levels[price].total) for price in book_side.prices]

    def resting(self) -> list[OrderState]:
        """Every live order, bids first, each side in priority order."""
        return [*self.in_priority(BookSide.BID), *self.in_priority(BookSide.ASK)]
