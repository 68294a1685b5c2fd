"""The order book driven by bare integer keys: the same queues as the OrderState interface."""

from __future__ import annotations

import random

import pytest

from kalshi_core.exchange.book import Book
from kalshi_core.models import BookSide

from .test_book import state


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


class _Model:
    """The book as plain lists: each side's levels by price, each a list of [key, size]."""

    def __init__(self) -> None:
        self.sides: dict[bool, dict[int, list[list[int]]]] = {True: {}, False: {}}
        self.live: dict[int, tuple[bool, int]] = {}

    def rest(self, key: int, is_bid: bool, price: int, count: int) -> None:
        self.sides[is_bid].setdefault(price, []).append([key, count])
        self.live[key] = (is_bid, price)

    def resize(self, key: int, remaining: int) -> None:
        is_bid, price = self.live[key]
        level = self.sides[is_bid][price]
        for entry in level:
            if entry[0] == key:
                entry[1] = remaining
        if remaining == 0:
            del self.live[key]
            level[:] = [entry for entry in level if entry[0] != key]
            if not level:
                del self.sides[is_bid][price]

    def queued(self, is_bid: bool) -> list[tuple[int, int, int]]:
        side = self.sides[is_bid]
        return [(k, p, c) for p in sorted(side, reverse=is_bid) for k, c in side[p]]


def _random_step(rng: random.Random, key: int, book: Book, model: _Model) -> None:
    roll = rng.random()
    if roll < 0.5 or not model.live:
        is_bid, price = rng.random() < 0.5, rng.choice([4800, 4900, 5000, 5100])
        count = rng.randint(1, 5)
        book.rest(key, is_bid, price, count)
        model.rest(key, is_bid, price, count)
        return
    if roll < 0.8:  # a cancel anywhere in a queue
        target, remaining = rng.choice(list(model.live)), 0
    else:  # a fill at the front of a side
        ladder = book.bids if rng.random() < 0.5 else book.asks
        if ladder.front is None:
            return
        target = ladder.front
        remaining = rng.randint(0, book.remaining[target])
    book.resize(target, remaining)
    model.resize(target, remaining)


@pytest.mark.parametrize("seed", range(5))
def test_random_rests_cancels_and_fills_keep_the_book_equal_to_plain_lists(seed: int) -> None:
    rng, book, model = random.Random(seed), Book("T"), _Model()
    for step in range(1, 2_000):
        _random_step(rng, 2 * step, book, model)
        for is_bid in (True, False):
            expected = model.queued(is_bid)
            ladder = book.bids if is_bid else book.asks
            assert list(book.queued(is_bid)) == expected
            assert ladder.front == (expected[0][0] if expected else None)
            assert ladder.best == (expected[0][1] if expected else None)
    assert book.order_count == len(model.live)


def test_an_order_state_not_in_the_book_cannot_be_resized_into_it() -> None:
    book = Book("T")
    order = state(1, BookSide.BID, 5000)
    book.add(state(0, BookSide.BID, 5000))
    with pytest.raises(KeyError):
        book.set_remaining(order, 40)
    assert book.order_count == 1
    assert book.size_at(BookSide.BID, 5000) == 100
