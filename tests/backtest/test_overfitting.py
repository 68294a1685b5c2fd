"""CSCV's probability of backtest overfitting, checked by hand on small matrices."""

from __future__ import annotations

import math
import random

import pytest

from kalshi_core.backtest.overfitting import (
    all_tied,
    probability_of_overfitting,
    relative_rank,
    split_blocks,
    usable_blocks,
)


def test_one_dominating_trial_is_never_overfit() -> None:
    matrix = [[5, 5, 5, 5], [1, 2, 0, 1], [0, 1, 2, 0]]
    result = probability_of_overfitting(matrix, blocks=4)
    # the winner is always trial 0, ranked 3rd of 3 out of sample: w = 3/4, logit = ln 3
    assert result.combinations == 6
    assert result.logits == pytest.approx([math.log(3)] * 6)
    assert result.pbo == 0.0
    assert result.probability_of_loss == 0.0


def test_two_trials_that_swap_are_always_overfit() -> None:
    result = probability_of_overfitting([[1, -1], [-1, 1]], blocks=2)
    # each half's winner loses the other half: rank 1 of 2, w = 1/3
    assert result.logits == pytest.approx([math.log(0.5), math.log(0.5)])
    assert result.pbo == 1.0
    assert result.probability_of_loss == 1.0


def test_a_hand_computed_mixed_case_with_ties() -> None:
    # A = [2,0,0,0], B = [1,1,1,2], one period per block; in-sample ties go to A (first).
    # splits {0,1},{0,2}: A wins, loses OOS (w=1/3); {0,3},{1,2}: B wins, beats A OOS (w=2/3);
    # {1,3},{2,3}: B wins, ties A OOS (w=1/2, logit 0, counted as overfit).
    result = probability_of_overfitting([[2, 0, 0, 0], [1, 1, 1, 2]], blocks=4)
    ln2 = math.log(2)
    assert result.logits == pytest.approx([-ln2, -ln2, ln2, ln2, 0.0, 0.0])
    assert result.pbo == pytest.approx(4 / 6)


def test_choosing_among_noise_is_a_coin_flip() -> None:
    figures = []
    for seed in range(6):
        rng = random.Random(seed)
        matrix = [[rng.gauss(0, 1) for _ in range(48)] for _ in range(40)]
        figures.append(probability_of_overfitting(matrix, blocks=8).pbo)
    assert 0.35 <= sum(figures) / len(figures) <= 0.65


def test_real_skill_under_noise_gives_a_low_figure() -> None:
    rng = random.Random(1)
    matrix = [[rng.gauss(0, 1) for _ in range(48)] for _ in range(20)]
    matrix[7] = [value + 1.5 for value in matrix[7]]
    assert probability_of_overfitting(matrix, blocks=8).pbo < 0.1


def test_blocks_cover_every_period_once() -> None:
    parts = split_blocks(10, 4)
    assert [len(p) for p in parts] == [3, 3, 2, 2]
    assert [i for p in parts for i in p] == list(range(10))
    assert usable_blocks(7, 8) == 6
    assert usable_blocks(1, 8) == 0


def test_relative_rank_averages_ties() -> None:
    assert relative_rank([1, 1, 1], 0) == pytest.approx(0.5)
    assert relative_rank([3, 1, 2], 0) == pytest.approx(0.75)


@pytest.mark.parametrize(
    ("matrix", "blocks", "message"),
    [
        ([[1, 2, 3, 4]], 2, "at least 2 trials"),
        ([[1, 2], [1, 2, 3]], 2, "same periods"),
        ([[1, 2, 3], [1, 2, 3]], 3, "even block count"),
        ([[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], 4, "every trial scored the same"),
        ([[1, -2], [1, -2]], 2, "PBO is undefined"),
    ],
)
def test_bad_matrices_are_refused(matrix: list[list[float]], blocks: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        probability_of_overfitting(matrix, blocks=blocks)


def test_all_tied_needs_every_trial_identical_on_every_period() -> None:
    assert all_tied([[0, 0], [0, 0]])
    assert all_tied([[3, -1], [3, -1], [3, -1]])
    assert not all_tied([[0, 0], [0, 0.01]])
    assert not all_tied([[1, 2], [2, 1]])  # the same total, not the same days
    # one trial ahead on a single day is a spread to choose on: the figure is computed
    assert probability_of_overfitting([[0, 0, 0, 1], [0, 0, 0, 0]], blocks=2).pbo == 0.5
