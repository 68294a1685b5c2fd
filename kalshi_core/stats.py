"""Confidence intervals that respect how prediction-market outcomes cluster.

Markets of one event (the strikes of one index close, say) resolve together, so treating their
outcomes as independent samples overstates certainty. Every interval here comes from a
percentile bootstrap that resamples whole *groups* (events, days) with replacement: the
statistic is recomputed on each resample, and the interval is the central ``level`` mass of
those values. It is deterministic: the same samples, groups and seed give the same interval.

No figure in a report may be called an edge when its interval contains zero; :meth:`Interval.
significant` is the one test every report and verdict uses.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TypeVar

import attrs

T = TypeVar("T")

DEFAULT_RESAMPLES = 2000
DEFAULT_LEVEL = 0.95


@attrs.frozen(kw_only=True)
class Interval:
    """A point estimate and its bootstrap confidence interval."""

    estimate: float
    low: float
    high: float
    level: float = DEFAULT_LEVEL
    resamples: int = DEFAULT_RESAMPLES
    groups: int = 0

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def significant(self, against: float = 0.0) -> bool:
        """True only when the whole interval lies on one side of ``against``."""
        return not self.contains(against)

    def as_dict(self) -> dict[str, float | int]:
        return {
            "estimate": self.estimate,
            "low": self.low,
            "high": self.high,
            "level": self.level,
            "resamples": self.resamples,
            "groups": self.groups,
        }


def group_samples(samples: Iterable[T], group_of: Callable[[T], Hashable]) -> list[list[T]]:
    """The samples in groups, groups in order of first appearance (so results are stable)."""
    groups: dict[Hashable, list[T]] = {}
    for sample in samples:
        groups.setdefault(group_of(sample), []).append(sample)
    return list(groups.values())


def bootstrap(
    samples: Sequence[T],
    statistic: Callable[[Sequence[T]], float],
    *,
    group_of: Callable[[T], Hashable] | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> Interval:
    """``statistic`` over ``samples`` with a percentile interval from resampling groups.

    ``group_of`` names each sample's cluster (an event ticker, a day); without it every sample
    is its own group. Raises ``ValueError`` on no samples or a level outside (0, 1).
    """
    if not samples:
        raise ValueError("bootstrap needs at least one sample")
    if not 0.0 < level < 1.0:
        raise ValueError(f"bootstrap level must lie strictly between 0 and 1, got {level}")
    groups = group_samples(samples, group_of or id)
    rng = random.Random(seed)
    values = sorted(statistic(_resample(groups, rng)) for _ in range(resamples))
    return Interval(
        estimate=statistic(samples),
        low=_quantile(values, (1.0 - level) / 2.0),
        high=_quantile(values, 1.0 - (1.0 - level) / 2.0),
        level=level,
        resamples=resamples,
        groups=len(groups),
    )


def _resample(groups: Sequence[Sequence[T]], rng: random.Random) -> list[T]:
    drawn = rng.choices(range(len(groups)), k=len(groups))
    return [sample for index in drawn for sample in groups[index]]


def _quantile(ordered: Sequence[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default rule)."""
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    weight = position - below
    return ordered[below] * (1.0 - weight) + ordered[above] * weight


def mean(values: Sequence[float]) -> float:
    """The arithmetic mean; ``nan`` for no values (a resample can never be empty)."""
    return math.fsum(values) / len(values) if values else math.nan


def brier(probability: float, outcome: float) -> float:
    """The Brier score of one forecast: its squared distance from the outcome (0 or 1)."""
    return (probability - outcome) ** 2


def log_loss(probability: float, outcome: float, epsilon: float = 1e-4) -> float:
    """Natural-log loss of one forecast; ``probability`` is clipped to [epsilon, 1 - epsilon]
    so a forecast of exactly 0 or 1 stays finite."""
    clipped = min(max(probability, epsilon), 1.0 - epsilon)
    return -math.log(clipped if outcome else 1.0 - clipped)
