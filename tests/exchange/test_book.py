"""The order book on its own: levels, FIFO queues, lazy removal and compaction."""

from __future__ import annotations

from kalshi_core.exchange.book import Book, OrderState
from kalshi_core.models import BookSide, SelfTradePrevention, TimeInForce

from .support import START


def state(seq: int, side: BookSide, price: int, count: int = 100) -> OrderState:
    return OrderState(
        order_id=f"o{seq}",
        client_order_id=f"c{seq}",
        account_id="a",
        ticker="T",
        side=side,
        price=price,
        count=count,
        time_in_force=TimeInForce.GOOD_TILL_CANCELED,
        post_only=False,
        reduce_only=False,
        self_trade_prevention=SelfTradePrevention.TAKER_AT_CROSS,
        expiration_time=None,
        now=START,
        sequence=seq,
    )


def test_best_prices_and_depth() -> None:
    book = Book("T")
    for seq, price in enumerate((4000, 4200, 4100)):
        book.add(state(seq, BookSide.BID, price))
    for seq, price in enumerate((4600, 4500), start=10):
        book.add(state(seq, BookSide.ASK, price, 300))
    assert book.best(BookSide.BID) == 4200
    assert book.best(BookSide.ASK) == 4500
    assert book.depth(BookSide.BID) == [(4000, 100), (4100, 100), (4200, 100)]
    assert book.size_at(BookSide.ASK, 4600) == 300
    assert book.order_count == 5


def test_fifo_within_level_and_lazy_removal() -> None:
    book = Book("T")
    orders = [state(i, BookSide.BID, 5000) for i in range(5)]
    for o in orders:
        book.add(o)
    book.remove(orders[0])
    book.remove(orders[2])
    assert book.head(BookSide.BID) is orders[1]
    assert [o.order_id for o in book.in_priority(BookSide.BID)] == ["o1", "o3", "o4"]
    book.set_remaining(orders[1], 40)
    assert book.size_at(BookSide.BID, 5000) == 240
    book.set_remaining(orders[1], 0)
    assert not orders[1].in_book
    assert book.head(BookSide.BID) is orders[3]


def test_level_disappears_when_empty_and_readd_goes_to_back() -> None:
    book = Book("T")
    a, b = state(1, BookSide.ASK, 5000), state(2, BookSide.ASK, 5000)
    book.add(a)
    book.add(b)
    book.remove(a)
    book.add(a)  # re-queued: now behind b
    assert [o.order_id for o in book.in_priority(BookSide.ASK)] == ["o2", "o1"]
    book.remove(a)
    book.remove(b)
    assert book.best(BookSide.ASK) is None
    assert book.depth(BookSide.ASK) == []
    assert book.head(BookSide.ASK) is None


def test_many_cancels_compact_the_queue() -> None:
    book = Book("T")
    keeper = state(0, BookSide.BID, 5000)
    book.add(keeper)
    churn = [state(i, BookSide.BID, 5000) for i in range(1, 500)]
    for o in churn:
        book.add(o)
    for o in churn:
        book.remove(o)
    level = book._levels[BookSide.BID][5000]
    assert len(level.entries) < 100  # dead entries were dropped along the way
    assert book.head(BookSide.BID) is keeper
    assert book.size_at(BookSide.BID, 5000) == 100
