"""One market's central limit order book, quoted in YES prices.

Bids buy YES; asks sell YES (the same as buying NO at $1 - price). The book holds no
per-order objects: a resting order is an integer key, its remaining size an entry of one
dict and its level another, so the matching path allocates nothing the cyclic garbage
collector has to walk. Each side keeps a dict of price levels, a sorted list of the prices
(``bisect``) and its best price, best level and first key in line, kept up to date as levels
come and go, so reading the top of the book is an attribute read.

Each level is a FIFO ``deque`` of keys. Keys only ever increase (a re-queued order gets a new
one), so a key that left the book is dead for good: a cancel in the middle of a queue leaves
its entry behind, recognised as dead because its key has no remaining size. The first entry
of a queue is always live (dead ones are dropped as soon as they reach the front), a level
disappears with its last live order, and a level with many dead entries is compacted.

Two ways to drive it: with :class:`OrderState` objects (``add``/``remove``/``set_remaining``/
``head``: the venue's way, with ``on_change``), or with bare keys (``rest``/``resize``/
``cancel`` and each side's ``best``/``front``: a caller that keeps its own order records).
A book is driven one way or the other, not both.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime

from kalshi_core.models import BookSide, OrderStatus, SelfTradePrevention, TimeInForce
from kalshi_core.money import Count, Money, Price

_COMPACT_AT = 64
# Global reads: an Enum member read through its class costs a metaclass lookup on 3.11.
_BID = BookSide.BID
_RESTING = OrderStatus.RESTING


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
        """Resting, nothing filled, canceled or paid yet."""
        self.status = _RESTING
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


class Level:
    """One price's queue: keys in time order (the first one live), total size, live orders."""

    __slots__ = ("entries", "live", "price", "side", "total")

    def __init__(self, side: Ladder, price: Price) -> None:
        self.side = side
        self.price = price
        self.entries: deque[int] = deque()
        self.total: Count = 0
        self.live = 0


class Ladder:
    """One side's levels: by price, their prices ascending, and the top of the side.

    ``best`` is the best price (highest bid, lowest ask), ``front`` the key first in line
    there; both None when the side is empty. Kept apart per side so no lookup hashes a
    :class:`BookSide` (an Enum hashes in Python).
    """

    __slots__ = ("best", "front", "is_bid", "levels", "prices", "top")

    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.levels: dict[Price, Level] = {}
        self.prices: list[Price] = []
        self.best: Price | None = None
        self.front: int | None = None
        self.top: Level | None = None

    def open(self, price: Price, key: int) -> Level:
        """A new level at ``price`` holding ``key`` (first, so the top can point at it)."""
        level = self.levels[price] = Level(self, price)
        level.entries.append(key)
        bisect.insort(self.prices, price)
        self._retop()
        return level

    def drop(self, level: Level) -> None:
        price = level.price
        del self.levels[price]
        prices = self.prices
        del prices[bisect.bisect_left(prices, price)]
        self._retop()

    def _retop(self) -> None:
        prices = self.prices
        if not prices:
            self.best = self.front = self.top = None
            return
        self.best = best = prices[-1] if self.is_bid else prices[0]
        top = self.top = self.levels[best]
        self.front = top.entries[0]

    def in_priority(self) -> Iterator[Level]:
        """Levels from the best price to the worst (a snapshot of the price list)."""
        prices = reversed(self.prices) if self.is_bid else iter(self.prices)
        levels = self.levels
        return iter([levels[price] for price in prices])


class Book:
    """Price-time priority queues for one market. The venue does the accounting."""

    def __init__(self, ticker: str) -> None:
        self.ticker = ticker
        self.bids = Ladder(is_bid=True)
        self.asks = Ladder(is_bid=False)
        self._left: dict[int, Count] = {}
        self._level_of: dict[int, Level] = {}
        self._orders: dict[int, OrderState] = {}
        self._last_key = -1
        #: Remaining size of every resting order by key (read-only).
        self.remaining: Mapping[int, Count] = self._left
        #: Called with (order, signed size change at its level) after every change of an
        #: :class:`OrderState` (not of bare keys).
        self.on_change: Callable[[OrderState, Count], None] | None = None

    @property
    def order_count(self) -> int:
        return len(self._left)

    @property
    def _levels(self) -> dict[BookSide, dict[Price, Level]]:
        """Both sides' levels by price (for inspection; not used on the matching path)."""
        return {BookSide.BID: self.bids.levels, BookSide.ASK: self.asks.levels}

    def _side(self, side: BookSide) -> Ladder:
        return self.bids if side is _BID else self.asks

    def best(self, side: BookSide) -> Price | None:
        """Best price on ``side``: the highest bid or the lowest ask."""
        return self._side(side).best

    def size_at(self, side: BookSide, price: Price) -> Count:
        level = self._side(side).levels.get(price)
        return level.total if level else 0

    def depth(self, side: BookSide) -> list[tuple[Price, Count]]:
        """(price, total size) per level, ascending price."""
        ladder = self._side(side)
        levels = ladder.levels
        return [(price, levels[price].total) for price in ladder.prices]

    # ---- bare keys --------------------------------------------------------------------------

    def rest(self, key: int, is_bid: bool, price: Price, count: Count) -> None:
        """Queue ``count`` under ``key`` at the back of its level.

        Keys must increase from one call to the next (a sequence number): a key that left
        the book never comes back, which is what lets dead queue entries be dropped lazily.
        """
        if key <= self._last_key:
            raise ValueError(f"{self.ticker}: key {key} is not above {self._last_key}")
        self._last_key = key
        self._queue(key, self.bids if is_bid else self.asks, price, count)

    def resize(self, key: int, remaining: Count) -> None:
        """Change a resting order's size in place (keeps its time priority); 0 removes it."""
        if remaining <= 0:
            self._unlink(key)
            return
        left = self._left
        self._level_of[key].total += remaining - left[key]
        left[key] = remaining

    def cancel(self, key: int) -> None:
        """Take the order under ``key`` out of the book."""
        self._unlink(key)

    def queued(self, is_bid: bool) -> Iterator[tuple[int, Price, Count]]:
        """(key, price, remaining) of every resting order on a side, first in line first."""
        left = self._left
        for level in (self.bids if is_bid else self.asks).in_priority():
            price = level.price
            for key in list(level.entries):
                count = left.get(key)
                if count is not None:
                    yield key, price, count

    def _queue(self, key: int, ladder: Ladder, price: Price, count: Count) -> None:
        level = ladder.levels.get(price)
        if level is None:
            level = ladder.open(price, key)
        else:
            level.entries.append(key)
        level.total += count
        level.live += 1
        self._left[key] = count
        self._level_of[key] = level

    def _unlink(self, key: int) -> Count:
        """Take ``key`` out of its level; returns the size it had."""
        count = self._left.pop(key)
        level = self._level_of.pop(key)
        level.total -= count
        level.live -= 1
        entries = level.entries
        if not level.live:
            level.side.drop(level)
        elif entries[0] == key:
            self._advance(level)
        elif len(entries) > _COMPACT_AT and len(entries) > 2 * level.live:
            left = self._left
            level.entries = deque(k for k in entries if k in left)
        return count

    def _advance(self, level: Level) -> None:
        """Drop the departed first entry and the dead ones behind it (the level has a live one)."""
        entries, left = level.entries, self._left
        entries.popleft()
        while entries[0] not in left:
            entries.popleft()
        if level is level.side.top:
            level.side.front = entries[0]

    # ---- OrderState ---------------------------------------------------------------------------

    def add(self, order: OrderState) -> None:
        """Queue ``order`` at the back of its price level."""
        if order.queue_token:
            raise ValueError(f"{order.order_id} is already in the {self.ticker} book")
        key = self._last_key = self._last_key + 1 or 1  # never 0: 0 means "not in a book"
        order.queue_token = key
        self._orders[key] = order
        ladder = self.bids if order.side is _BID else self.asks
        self._queue(key, ladder, order.price, order.remaining)
        if self.on_change is not None:
            self.on_change(order, order.remaining)

    def remove(self, order: OrderState) -> None:
        """Take ``order`` out of the book."""
        key = order.queue_token
        del self._orders[key]
        order.queue_token = 0
        self._unlink(key)
        if self.on_change is not None:
            self.on_change(order, -order.remaining)

    def set_remaining(self, order: OrderState, remaining: Count) -> None:
        """Change a resting order's size in place (keeps its time priority); 0 removes it."""
        if remaining <= 0:
            self.remove(order)
            order.remaining = 0
            return
        key = order.queue_token
        change = remaining - order.remaining
        self._level_of[key].total += change  # first: an order not in the book changes nothing
        self._left[key] = remaining
        order.remaining = remaining
        if self.on_change is not None and change:
            self.on_change(order, change)

    def head(self, side: BookSide) -> OrderState | None:
        """The order first in line on ``side``, or None when that side is empty."""
        front = (self.bids if side is _BID else self.asks).front
        return None if front is None else self._orders[front]

    def in_priority(self, side: BookSide) -> Iterator[OrderState]:
        """Live orders on ``side`` from first in line to last (for read-only walks)."""
        orders = self._orders
        for key, _, _ in self.queued(side is BookSide.BID):
            yield orders[key]

    def resting(self) -> list[OrderState]:
        """Every live order, bids first, each side in priority order."""
        return [*self.in_priority(BookSide.BID), *self.in_priority(BookSide.ASK)]
