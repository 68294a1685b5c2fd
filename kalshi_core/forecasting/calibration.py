"""Calibration curves: market price -> empirical P(yes), monotone and smoothed.

A curve is built from per-bin statistics of observed prices of settled markets (see
:mod:`kalshi_core.forecasting.fitting`). Each bin's empirical rate is shrunk toward the
diagonal (the bin's mid price) with a Beta prior worth ``prior_strength`` markets, bins with
too little evidence keep the prior alone, and pool-adjacent-violators makes the result
non-decreasing. The curve is stored as a small JSON file: the raw bin statistics travel with
the fitted probabilities, so a forecaster can re-derive the curve with other smoothing settings.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from kalshi_core.errors import ConfigError
from kalshi_core.money import DOLLAR, Price

FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
EMPIRICAL_BAYES = "empirical-bayes"
FIXED_PRIOR = "fixed-prior"
FLOAT_PLACES = 6
CURVE_KIND = "kalshi-core calibration curve"


def pool_adjacent_violators(values: Sequence[float], weights: Sequence[float]) -> list[float]:
    """Weighted isotonic (non-decreasing) least-squares fit of ``values``.

    Adjacent blocks whose means decrease are merged into their weighted mean until none do.
    """
    if len(values) != len(weights):
        raise ValueError(f"PAV needs one weight per value, got {len(values)} and {len(weights)}")
    blocks: list[list[float]] = []  # [mean, weight, length]
    for value, weight in zip(values, weights, strict=True):
        blocks.append([value, weight, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean2, weight2, len2 = blocks.pop()
            mean1, weight1, len1 = blocks[-1]
            total = weight1 + weight2
            merged = (mean1 * weight1 + mean2 * weight2) / total if total > 0 else mean1
            blocks[-1] = [merged, total, len1 + len2]
    fitted: list[float] = []
    for mean, _, length in blocks:
        fitted.extend([mean] * int(length))
    return fitted


@attrs.frozen(kw_only=True)
class BinStats:
    """Evidence in one price bin ``[lower, upper)`` (the last bin includes $1).

    ``weight`` and ``yes_weight`` count markets, not samples: each market's samples share a
    total weight of 1, so a busy market counts as much as a quiet one.
    """

    lower: Price
    upper: Price
    samples: int = 0
    markets: int = 0
    weight: float = 0.0
    yes_weight: float = 0.0

    @property
    def center(self) -> float:
        """The bin's mid price as a probability (the prior's mean)."""
        return (self.lower + self.upper) / 2 / DOLLAR


@attrs.frozen(kw_only=True)
class FitInfo:
    """Where a curve came from: data sets, date range, split and smoothing parameters."""

    data_sets: tuple[str, ...] = ()
    date_from: str = ""
    date_to: str = ""
    markets: int = 0
    samples: int = 0
    holdout_fraction: float = 0.0
    prior_strength: float = 2.0
    min_samples_per_bin: int = 5
    shrinkage: str = FIXED_PRIOR
    split: str = ""
    holdout_markets: int = 0
    embargoed_markets: int = 0
    excluded_sets: tuple[str, ...] = ()


def between_bin_variance(bins: Sequence[BinStats], min_markets: int) -> float:
    """Empirical-Bayes estimate of how far true bin rates stray from the diagonal (tau^2).

    Method of moments: the mean squared deviation of observed rates from the bin centres,
    minus the mean binomial sampling variance of those rates; zero when the deviations are no
    larger than noise would make them.
    """
    deviations: list[float] = []
    noise: list[float] = []
    for stats in bins:
        if stats.markets >= min_markets and stats.weight > 0:
            deviations.append((stats.yes_weight / stats.weight - stats.center) ** 2)
            noise.append(_sampling_variance(stats))
    if not deviations:
        return 0.0
    return max(0.0, (sum(deviations) - sum(noise)) / len(deviations))


def _sampling_variance(stats: BinStats) -> float:
    rate = min(max(stats.center, 0.005), 0.995)
    return rate * (1.0 - rate) / max(stats.weight, 1e-9)


def prior_strengths(bins: Sequence[BinStats], info: FitInfo) -> list[float]:
    """Per-bin prior weight (in markets) of the pull toward the diagonal.

    Fixed prior: ``info.prior_strength`` everywhere. Empirical Bayes (beta-binomial): a bin's
    true rate ~ Beta(mean = centre, variance = tau^2), i.e. a prior worth
    ``c (1 - c) / tau^2 - 1`` markets; tau^2 = 0 (the curve is noise) makes it infinite, so
    the curve is the diagonal, the price itself.
    """
    if info.shrinkage != EMPIRICAL_BAYES:
        return [info.prior_strength] * len(bins)
    tau2 = between_bin_variance(bins, info.min_samples_per_bin)
    if tau2 <= 0:
        return [math.inf] * len(bins)
    return [max(stats.center * (1.0 - stats.center) / tau2 - 1.0, 0.0) for stats in bins]


def smooth(bins: Sequence[BinStats], info: FitInfo) -> list[float]:
    """Per-bin P(yes): Beta-prior shrinkage toward the diagonal, then PAV (monotone)."""
    rates: list[float] = []
    weights: list[float] = []
    for stats, prior in zip(bins, prior_strengths(bins, info), strict=True):
        evidence = stats.weight if stats.markets >= info.min_samples_per_bin else 0.0
        yes = stats.yes_weight if evidence else 0.0
        if math.isinf(prior):
            rates.append(stats.center)
            weights.append(1.0)
            continue
        total = evidence + prior
        rates.append((yes + prior * stats.center) / total if total > 0 else stats.center)
        weights.append(total)
    return pool_adjacent_violators(rates, weights)


@attrs.frozen(kw_only=True)
class CalibrationCurve:
    """A fitted price -> probability map; :meth:`probability` interpolates between bins."""

    bins: tuple[BinStats, ...]
    probabilities: tuple[float, ...]
    info: FitInfo = attrs.field(factory=FitInfo)
    evaluation: Mapping[str, Any] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if not self.bins or len(self.bins) != len(self.probabilities):
            raise ValueError("a calibration curve needs one probability per bin, at least one")
        if any(low > high for low, high in itertools.pairwise(self.probabilities)):
            raise ValueError("calibration curve probabilities must be non-decreasing")

    @classmethod
    def from_bins(cls, bins: Sequence[BinStats], info: FitInfo) -> CalibrationCurve:
        fitted = smooth(bins, info)
        rounded = tuple(round(p, FLOAT_PLACES) for p in fitted)
        return cls(bins=tuple(bins), probabilities=rounded, info=info)

    def refit(self, *, min_samples_per_bin: int) -> CalibrationCurve:
        """The same evidence smoothed with another minimum of markets per bin."""
        info = attrs.evolve(self.info, min_samples_per_bin=min_samples_per_bin)
        return CalibrationCurve.from_bins(self.bins, info)

    def as_price(self, evaluation: Mapping[str, Any]) -> CalibrationCurve:
        """The same evidence and verdict, but following the price: for a curve without edge."""
        shipped = dict(evaluation, shipped="price: the fitted curve showed no edge")
        centres = tuple(round(b.center, FLOAT_PLACES) for b in self.bins)
        return attrs.evolve(self, probabilities=centres, evaluation=shipped)

    def probability(self, price: Price) -> int:
        """P(yes) in basis points for a YES price in money units, linear between bin centres."""
        if self.is_identity():
            return max(0, min(DOLLAR, price))
        centers = [b.center * DOLLAR for b in self.bins]
        if price <= centers[0]:
            return _basis_points(self.probabilities[0])
        for index in range(1, len(centers)):
            if price <= centers[index]:
                left, right = centers[index - 1], centers[index]
                share = (price - left) / (right - left)
                low, high = self.probabilities[index - 1], self.probabilities[index]
                return _basis_points(low + share * (high - low))
        return _basis_points(self.probabilities[-1])

    def verdict(self) -> str:
        """The label ``kalshi-core fit`` gave this curve ("" when it was never evaluated)."""
        return str(self.evaluation.get("verdict", {}).get("label", ""))

    def is_identity(self) -> bool:
        """True when the curve is the price itself (within half a basis point per bin)."""
        return all(
            abs(p - b.center) < 0.5 / DOLLAR
            for b, p in zip(self.bins, self.probabilities, strict=True)
        )

    def stderr(self, price: Price) -> int:
        """Standard error (basis points) of the curve at ``price``: its bin's binomial error.

        A bin of ``n`` markets with rate ``p`` is known to about ``sqrt(p (1 - p) / n)``; a
        bin without enough markets knows nothing beyond the prior, ``sqrt(p (1 - p))``.
        """
        stats = self.bin_of(price)
        rate = min(max(self.probability(price) / DOLLAR, 0.005), 0.995)
        enough = stats.markets >= self.info.min_samples_per_bin and stats.weight > 0
        count = stats.weight if enough else 1.0
        return _basis_points(math.sqrt(rate * (1.0 - rate) / max(count, 1.0)))

    def evidence_share(self, price: Price) -> float:
        """How much of the bin holding ``price`` is data rather than prior (0..1)."""
        stats = self.bin_of(price)
        if stats.markets < self.info.min_samples_per_bin:
            return 0.0
        prior = prior_strengths(self.bins, self.info)[self.bins.index(stats)]
        if math.isinf(prior):
            return 0.0
        total = stats.weight + prior
        return stats.weight / total if total > 0 else 0.0

    def bin_of(self, price: Price) -> BinStats:
        for stats in self.bins:
            if price < stats.upper:
                return stats
        return self.bins[-1]

    def to_json(self) -> str:
        """Deterministic JSON text (sorted keys, rounded floats, trailing newline)."""
        return json.dumps(_curve_dict(self), indent=2, sort_keys=True) + "\n"

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> CalibrationCurve:
        """Read a curve file; any problem is a :class:`ConfigError` naming the file."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return _curve_from_dict(data)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"calibration curve {path} is unreadable: {exc}") from None


def _basis_points(probability: float) -> int:
    return max(0, min(DOLLAR, round(probability * DOLLAR)))


def _curve_dict(curve: CalibrationCurve) -> dict[str, Any]:
    bins = []
    for stats, probability in zip(curve.bins, curve.probabilities, strict=True):
        row = attrs.asdict(stats)
        row["weight"] = round(stats.weight, FLOAT_PLACES)
        row["yes_weight"] = round(stats.yes_weight, FLOAT_PLACES)
        row["probability"] = probability
        bins.append(row)
    info = attrs.asdict(curve.info)
    info["data_sets"] = list(curve.info.data_sets)
    info["excluded_sets"] = list(curve.info.excluded_sets)
    out = {"version": FORMAT_VERSION, "kind": CURVE_KIND, "fit": info, "bins": bins}
    if curve.evaluation:
        out["evaluation"] = dict(curve.evaluation)
    return out


def _curve_from_dict(data: Mapping[str, Any]) -> CalibrationCurve:
    if not isinstance(data, Mapping):
        raise TypeError("expected a JSON object")
    if data.get("version") not in READABLE_VERSIONS:
        raise ValueError(f"unsupported version {data.get('version')!r}, expected {FORMAT_VERSION}")
    fit = dict(data["fit"])
    fit["data_sets"] = tuple(fit.get("data_sets", ()))
    fit["excluded_sets"] = tuple(fit.get("excluded_sets", ()))
    info = FitInfo(**fit)
    rows = [dict(row) for row in data["bins"]]
    probabilities = tuple(_probability(row.pop("probability")) for row in rows)
    bins = tuple(BinStats(**row) for row in rows)
    _check_bins(bins)
    evaluation = data.get("evaluation", {})
    if not isinstance(evaluation, Mapping):
        raise TypeError("evaluation must be a JSON object")
    return CalibrationCurve(
        bins=bins, probabilities=probabilities, info=info, evaluation=dict(evaluation)
    )


def _probability(value: Any) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:  # also rejects NaN
        raise ValueError(f"bin probability {value!r} outside 0..1")
    return number


def _check_bins(bins: Sequence[BinStats]) -> None:
    """Bins must tile 0..$1 in order with non-negative evidence."""
    for index, stats in enumerate(bins):
        if not 0 <= stats.lower < stats.upper <= DOLLAR:
            raise ValueError(f"bin {index} has bounds {stats.lower}..{stats.upper}")
        if min(stats.samples, stats.markets, stats.weight, stats.yes_weight) < 0:
            raise ValueError(f"bin {index} has negative evidence")
        if stats.yes_weight > stats.weight + 1e-6:
            raise ValueError(f"bin {index} has more YES weight than weight")
    for index, (left, right) in enumerate(itertools.pairwise(bins), start=1):
        if left.upper != right.lower:
            raise ValueError(f"bin {index} starts at {right.lower}, not at {left.upper}")
