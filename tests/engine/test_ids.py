"""Decision ids made for a whole cycle at once are the ids made one at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from kalshi_core.engine import ids

NOW = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)


@given(
    tickers=st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=5),
    run_id=st.text(max_size=20),
    offset=st.integers(min_value=0, max_value=10**9),
)
def test_decision_ids_of_a_cycle_equal_each_decision_id(
    tickers: list[str], run_id: str, offset: int
) -> None:
    cycle_time = NOW + timedelta(microseconds=offset)
    of = ids.decision_ids(cycle_time, run_id)
    assert [of(t) for t in tickers] == [ids.decision_id(t, cycle_time, run_id) for t in tickers]
