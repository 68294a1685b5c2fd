"""bench_matching's Book rows: driven by bare keys and through OrderState, the same trades.

No timing here (see ``test_peer_books.py``): the two rows must do the same work.
"""

from __future__ import annotations

import pytest
from bench_matching import make_flow, run_book
from peer_books import first_difference, run_kalshi_book, run_kalshi_orders


@pytest.mark.parametrize("seed", [5, 6])
def test_the_book_through_order_states_trades_exactly_as_through_keys(seed: int) -> None:
    flow = make_flow(4_000, 5, seed)
    by_keys = run_kalshi_book(flow, 5)
    assert first_difference(by_keys, run_kalshi_orders(flow, 5)) is None
    assert run_book(flow, 5)[0] == len(by_keys.trades)
