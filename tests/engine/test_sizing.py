"""Kelly sizing and fitting orders into a budget."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kalshi_core.engine.sizing import (
    confidence_scale,
    fit_count,
    kelly_count,
    kelly_share,
    whole_lots,
)
from kalshi_core.money import CONTRACT, DOLLAR, notional


def test_kelly_share_is_edge_over_odds() -> None:
    # belief 60%, price 50c: f* = (0.6 - 0.5) / (1 - 0.5) = 0.2
    assert kelly_share(6000, 5000) == Fraction(1, 5)


def test_kelly_share_is_zero_without_edge() -> None:
    assert kelly_share(5000, 5000) == 0
    assert kelly_share(4000, 5000) == 0
    assert kelly_share(10_000, DOLLAR) == 0


def test_kelly_count_quarter_kelly_whole_contracts() -> None:
    # bankroll $1000, f* 0.2, quarter Kelly -> $50 stake at 50c = 100 contracts
    count = kelly_count(
        6000,
        5000,
        bankroll=1000 * DOLLAR,
        kelly_fraction=Fraction(1, 4),
        max_stake=10**9,
        max_count=10**9,
    )
    assert count == 100 * CONTRACT


def test_kelly_count_respects_stake_and_count_caps() -> None:
    args = {"bankroll": 1000 * DOLLAR, "kelly_fraction": Fraction(1)}
    assert kelly_count(6000, 5000, max_stake=10 * DOLLAR, max_count=10**9, **args) == 20 * CONTRACT
    assert kelly_count(6000, 5000, max_stake=10**9, max_count=7 * CONTRACT, **args) == 7 * CONTRACT


def test_fit_count_shrinks_to_room() -> None:
    assert fit_count(10 * CONTRACT, 5000, 3 * DOLLAR) == 6 * CONTRACT
    assert fit_count(10 * CONTRACT, 5000, 100 * DOLLAR) == 10 * CONTRACT
    assert fit_count(10 * CONTRACT, 5000, 0) == 0


@given(
    probability=st.integers(0, DOLLAR),
    price=st.integers(1, DOLLAR - 1),
    fee=st.fractions(min_value=0, max_value=200),
    bankroll=st.integers(0, 10**9),
    kelly_fraction=st.fractions(min_value=0, max_value=1),
    max_stake=st.integers(-(10**6), 10**9),
    max_count=st.integers(0, 10**6),
)
def test_kelly_never_exceeds_limits_and_is_zero_without_edge(
    probability: int,
    price: int,
    fee: Fraction,
    bankroll: int,
    kelly_fraction: Fraction,
    max_stake: int,
    max_count: int,
) -> None:
    cost = price + fee
    count = kelly_count(
        probability,
        cost,
        bankroll=bankroll,
        kelly_fraction=kelly_fraction,
        max_stake=max_stake,
        max_count=max_count,
    )
    assert 0 <= count <= max_count
    assert count % CONTRACT == 0
    if count:
        assert cost * count / CONTRACT <= max_stake
        assert cost * count / CONTRACT <= bankroll
    if probability <= cost:
        assert count == 0


@given(
    count=st.integers(0, 10**6),
    price=st.integers(0, DOLLAR),
    room=st.integers(-(10**6), 10**8),
)
def test_fit_count_never_exceeds_room_or_count(count: int, price: int, room: int) -> None:
    fitted = fit_count(count, price, room)
    assert 0 <= fitted <= count
    if fitted:
        assert notional(price, fitted, round_up=True) <= room


def test_whole_lots_rounds_down() -> None:
    assert whole_lots(250) == 200
    assert whole_lots(-5) == 0


def test_confidence_scale_is_edge_over_edge_plus_stderr() -> None:
    assert confidence_scale(1000, 0) == 1
    assert confidence_scale(1000, None) == 1
    assert confidence_scale(1000, 1000) == Fraction(1, 2)
    assert confidence_scale(1000, 3000) == Fraction(1, 4)
    assert confidence_scale(0, 100) == 0
    assert confidence_scale(-500, 100) == 0


def test_kelly_count_shrinks_with_the_stderr() -> None:
    # belief 60%, price 50c: f* 0.2; full Kelly of $1000 = $200 = 400 contracts. A 10c edge
    # with a 10c stderr halves it (200 contracts), a 30c stderr quarters it (100).
    args: dict[str, Any] = {
        "bankroll": 1000 * DOLLAR,
        "kelly_fraction": Fraction(1),
        "max_stake": 10**9,
        "max_count": 10**9,
    }
    assert kelly_count(6000, 5000, **args) == 400 * CONTRACT
    assert kelly_count(6000, 5000, stderr=1000, **args) == 200 * CONTRACT
    assert kelly_count(6000, 5000, stderr=3000, **args) == 100 * CONTRACT
    assert kelly_count(6000, 5000, stderr=0, **args) == 400 * CONTRACT
