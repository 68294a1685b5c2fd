"""bench_matching's peer books: the SortedDict reference matches kalshi-core's Book exactly.

No timing here: the speed comparison is the benchmark's (``tox -e bench-matching``). These tests
check that the books the benchmark races do the same work, so its ratios compare like with like.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from bench_matching import Op, make_flow
from peer_books import (
    FlowOp,
    Outcome,
    first_difference,
    nautilus_apis,
    nautilus_runner,
    race,
    run_kalshi_book,
    run_sorted_dict,
)

from kalshi_core.models import BookSide

BID, ASK = BookSide.BID, BookSide.ASK


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sorted_dict_book_trades_exactly_as_the_kalshi_book(seed: int) -> None:
    flow = make_flow(4_000, 5, seed)
    book, peer = run_kalshi_book(flow, 5), run_sorted_dict(flow, 5)
    assert first_difference(book, peer) is None
    assert book.trades == peer.trades
    assert book.resting == peer.resting
    # The flow exercises what matters: many trades, partial fills, a deep book left over.
    assert len(book.trades) > 1_000
    assert len(book.resting) > 500
    assert any(count < op.count for (_, taker, _, count) in book.trades for op in [flow[taker]])


def test_both_books_follow_price_then_time_priority_and_drop_ioc_leftovers() -> None:
    flow = [
        Op("order", 0, side=ASK, price=5200, count=300),  # 0: worse price, first in time
        Op("order", 0, side=ASK, price=5100, count=200),  # 1: best price, first there
        Op("order", 0, side=ASK, price=5100, count=100),  # 2: best price, second there
        Op("order", 0, side=ASK, price=5100, count=500),  # 3: canceled below
        Op("cancel", 0, target=3),  # 4 (order ids are flow positions)
        Op("order", 0, side=BID, price=5150, count=250),  # 5: takes 1, part of 2
        Op("order", 0, side=BID, price=5200, count=900, ioc=True),  # 6: the rest; no rest
        Op("order", 0, side=BID, price=5000, count=100),  # 7: rests
    ]
    expected = Outcome(
        trades=[(1, 5, 5100, 200), (2, 5, 5100, 50), (2, 6, 5100, 50), (0, 6, 5200, 300)],
        resting=[(0, 7, True, 5000, 100)],
    )
    for run in (run_kalshi_book, run_sorted_dict):
        assert first_difference(expected, run(flow, 1)) is None, run.__name__


def test_first_difference_names_the_first_departure() -> None:
    good = Outcome(trades=[(1, 2, 5000, 100), (3, 4, 5100, 100)], resting=[(0, 5, True, 4900, 1)])
    moved = Outcome(trades=[(1, 2, 5000, 100), (3, 4, 5000, 100)], resting=good.resting)
    short = Outcome(trades=good.trades, resting=[])
    assert first_difference(good, good) is None
    assert first_difference(good, moved) == (
        "trades[1]: expected (3, 4, 5100, 100), got (3, 4, 5000, 100)"
    )
    assert first_difference(good, short) == "resting: expected 1 entries, got 0"


def test_the_race_refuses_a_book_that_disagrees() -> None:
    def lifo_at_each_level(flow: Sequence[FlowOp], markets: int) -> Outcome:
        outcome = run_sorted_dict(flow, markets)
        outcome.trades.reverse()
        return outcome

    runners = {"kalshi_core Book": run_kalshi_book, "broken": lifo_at_each_level}
    disagrees = r"broken disagrees with kalshi_core Book: trades\[0\]"
    with pytest.raises(AssertionError, match=disagrees):
        race(runners, make_flow(500, 2, 4), 2, rounds=1)


@pytest.mark.parametrize("binding", ["cython", "pyo3"])
def test_nautilus_books_trade_exactly_as_the_kalshi_book(binding: str) -> None:
    apis = nautilus_apis()
    if not apis:
        pytest.skip("nautilus_trader not installed (Python >= 3.12: tox -e bench-matching)")
    flow = make_flow(3_000, 4, 5)
    peer = nautilus_runner(apis[binding])(flow, 4)
    assert first_difference(run_kalshi_book(flow, 4), peer) is None
