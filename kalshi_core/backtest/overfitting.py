"""The probability of backtest overfitting (PBO) by combinatorially symmetric cross-validation.

Bailey, Borwein, López de Prado and Zhu, "The Probability of Backtest Overfitting" (2015):
the trials x periods matrix of returns is cut into ``S`` contiguous blocks of periods. For
every one of the C(S, S/2) ways to pick half of the blocks as the in-sample set (the rest
out-of-sample), the trial that did best in-sample is found, and its out-of-sample relative
rank ``w`` in (0, 1) becomes the logit ``log(w / (1 - w))``. PBO is the share of logits at or
below zero: how often the in-sample winner is at best median out of sample.

A selection with real skill gives PBO near 0; choosing among pure noise gives about 0.5.
Ties count half (average ranks), and the in-sample winner among equals is the first trial, so
the figure is deterministic.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Callable, Sequence

import attrs

Statistic = Callable[[Sequence[float]], float]
DEFAULT_BLOCKS = 8


@attrs.frozen(kw_only=True)
class Overfitting:
    """PBO and what it was computed from."""

    pbo: float
    blocks: int
    combinations: int
    trials: int
    periods: int
    logits: tuple[float, ...]
    # share of splits whose in-sample winner lost money out of sample (statistic < 0)
    probability_of_loss: float

    def as_dict(self) -> dict[str, float | int]:
        return {
            "pbo": self.pbo,
            "blocks": self.blocks,
            "combinations": self.combinations,
            "trials": self.trials,
            "periods": self.periods,
            "median_logit": statistics.median(self.logits),
            "probability_of_loss": self.probability_of_loss,
        }


def mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def usable_blocks(periods: int, wanted: int = DEFAULT_BLOCKS) -> int:
    """The largest even block count <= ``wanted`` that gives every block a period."""
    blocks = min(wanted, periods)
    return blocks - blocks % 2


def split_blocks(periods: int, blocks: int) -> list[range]:
    """``blocks`` contiguous, near-equal ranges of period indexes (the earlier ones longer)."""
    size, extra = divmod(periods, blocks)
    bounds = [0]
    for index in range(blocks):
        bounds.append(bounds[-1] + size + (1 if index < extra else 0))
    return [range(lo, hi) for lo, hi in itertools.pairwise(bounds)]


def relative_rank(values: Sequence[float], index: int) -> float:
    """The rank of ``values[index]`` among ``values`` (1 = worst, ties averaged) / (N + 1)."""
    chosen = values[index]
    below = sum(1 for v in values if v < chosen)
    equal = sum(1 for v in values if v == chosen)
    return (below + (equal + 1) / 2) / (len(values) + 1)


def _scores(matrix: Sequence[Sequence[float]], rows: Sequence[int], stat: Statistic) -> list[float]:
    return [stat([trial[i] for i in rows]) for trial in matrix]


TIED = "every trial scored the same on every period: there is no best trial to overfit"


def all_tied(matrix: Sequence[Sequence[float]]) -> bool:
    """Every trial has the same returns (a sweep where nothing traded, say): every split's
    winner is arbitrary and ranks at the median, so the figure would read 1.0 for no reason."""
    return all(list(trial) == list(matrix[0]) for trial in matrix[1:])


def _check(matrix: Sequence[Sequence[float]], blocks: int) -> int:
    if len(matrix) < 2:
        raise ValueError(f"CSCV needs at least 2 trials to choose among, got {len(matrix)}")
    periods = {len(trial) for trial in matrix}
    if len(periods) != 1:
        raise ValueError(f"every trial needs the same periods, got lengths {sorted(periods)}")
    count = periods.pop()
    if blocks < 2 or blocks % 2 or blocks > count:
        raise ValueError(f"CSCV needs an even block count in 2..{count} periods, got {blocks}")
    if all_tied(matrix):
        raise ValueError(f"PBO is undefined: {TIED}")
    return count


def probability_of_overfitting(
    matrix: Sequence[Sequence[float]],
    blocks: int = DEFAULT_BLOCKS,
    statistic: Statistic = mean,
) -> Overfitting:
    """PBO of choosing the best row of ``matrix`` (trials x periods of returns).

    ``statistic`` scores a trial on a set of periods (default: the mean return). Raises
    ValueError for fewer than 2 trials, trials that all scored the same, ragged rows, or a
    block count that is odd, below 2 or above the number of periods.
    """
    periods = _check(matrix, blocks)
    parts = split_blocks(periods, blocks)
    logits: list[float] = []
    losses = 0
    for chosen in itertools.combinations(range(blocks), blocks // 2):
        inside = [i for b in chosen for i in parts[b]]
        outside = [i for b in range(blocks) if b not in chosen for i in parts[b]]
        in_scores = _scores(matrix, inside, statistic)
        out_scores = _scores(matrix, outside, statistic)
        best = in_scores.index(max(in_scores))
        rank = relative_rank(out_scores, best)
        logits.append(math.log(rank / (1.0 - rank)))
        losses += out_scores[best] < 0
    return Overfitting(
        pbo=sum(1 for logit in logits if logit <= 0) / len(logits),
        blocks=blocks,
        combinations=len(logits),
        trials=len(matrix),
        periods=periods,
        logits=tuple(logits),
        probability_of_loss=losses / len(logits),
    )
