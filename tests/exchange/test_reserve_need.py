"""A holding's reserve need, computed from the closing levels only, equals the full sum."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kalshi_core.exchange.accounts import Holding, cost_of
from kalshi_core.models import BookSide
from kalshi_core.money import CONTRACT, DOLLAR, Count, Money

changes = st.lists(
    st.tuples(
        st.sampled_from([BookSide.BID, BookSide.ASK]),
        st.integers(1, 99).map(lambda cents: cents * 100),
        st.integers(1, 500).map(lambda count: count * CONTRACT // 10 + count % 7),
    ),
    min_size=1,
    max_size=25,
)


def reference_need(held: Holding) -> Money:
    """Every level costed, the cheapest contracts on each side closing the held position."""
    total = 0
    for levels, held_opposite, is_bid in (
        (held.bids, max(0, -held.position), True),
        (held.asks, max(0, held.position), False),
    ):
        closable = held_opposite
        for price in sorted(levels, reverse=not is_bid):
            count: Count = levels[price]
            closing = min(count, closable)
            closable -= closing
            total += cost_of(price if is_bid else DOLLAR - price, count - closing)
    return total + held.fee_reserve


@settings(max_examples=300, deadline=None)
@given(changes=changes, position=st.integers(-5_000, 5_000), cancel_every=st.integers(2, 5))
def test_requirement_matches_the_full_sum(
    changes: list[tuple[BookSide, int, int]], position: Count, cancel_every: int
) -> None:
    held = Holding("T")
    held.position = position
    for step, (side, price, count) in enumerate(changes):
        held.track(side, price, count)
        assert held.requirement() == reference_need(held)
        if step % cancel_every == 0:
            held.track(side, price, -count)  # an order leaves again
            held.position = -held.position  # and a fill turned the position over
            assert held.requirement() == reference_need(held)
