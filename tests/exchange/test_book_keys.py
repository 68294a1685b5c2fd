"""The order book driven by bare integer keys: the same queues as the OrderState interface."""

from __future__ import annotations

import pytest

from kalshi_core.exchange.book import Book
from kalshi_core.models import BookSide


def test_each_side_shows_its_best_price_and_first_key() -> None:
    book = Book("T")
    assert (book.bids.best, book.bids.front) == (None, None)
    book.rest(1, True, 4000, 100)
    book.rest(2, True, 4200, 100)
    book.rest(3, True, 4200, 50)
    book.rest(4, False, 4500, 300)
    assert (book.bids.best, book.bids.front) == (4200, 2)
    assert (book.asks.best, book.asks.front) == (4500, 4)
    assert book.size_at(BookSide.BID, 4200) == 150
    assert book.order_count == 4


def test_keys_must_increase_so_a_departed_key_never_returns() -> None:
    book = Book("T")
    book.rest(5, True, 4000, 100)
    book.cancel(5)
    with pytest.raises(ValueError, match="not above 5"):
        book.rest(5, True, 4000, 100)
    book.rest(6, True, 4000, 100)
    assert book.bids.front == 6


def test_resize_keeps_priority_and_zero_removes() -> None:
    book = Book("T")
    for key in (1, 2, 3):
        book.rest(key, False, 5000, 100)
    book.resize(1, 40)
    assert book.remaining[1] == 40
    assert book.asks.front == 1
    book.resize(1, 0)
    assert 1 not in book.remaining
    assert book.asks.front == 2
    assert list(book.queued(False)) == [(2, 5000, 100), (3, 5000, 100)]


def test_canceled_entries_behind_the_front_are_skipped_when_it_leaves() -> None:
    book = Book("T")
    for key in range(1, 6):
        book.rest(key, True, 5000, 100)
    book.cancel(2)
    book.cancel(3)
    book.cancel(1)  # the front leaves: 2 and 3 are dead, 4 is next
    assert book.bids.front == 4
    assert len(book.bids.levels[5000].entries) == 2


def test_the_top_moves_to_the_next_level_when_the_best_empties() -> None:
    book = Book("T")
    book.rest(1, False, 5100, 100)
    book.rest(2, False, 5000, 100)
    assert (book.asks.best, book.asks.front) == (5000, 2)
    book.cancel(2)
    assert (book.asks.best, book.asks.front) == (5100, 1)
    book.cancel(1)
    assert (book.asks.best, book.asks.front) == (None, None)
    assert book.depth(BookSide.ASK) == []


def test_many_cancels_behind_the_front_compact_the_queue() -> None:
    book = Book("T")
    book.rest(1, True, 5000, 100)
    for key in range(2, 500):
        book.rest(key, True, 5000, 100)
    for key in range(2, 500):
        book.cancel(key)
    assert len(book.bids.levels[5000].entries) < 100
    assert book.bids.front == 1
    assert list(book.queued(True)) == [(1, 5000, 100)]
