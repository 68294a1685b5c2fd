"""Statistical forecasters fitted on settled history: Platt, logistic, favourite-longshot, ladder.

All but the ladder are one penalised logistic regression on different features of a
:class:`~kalshi_core.forecasting.evaluation.Snapshot`:

* ``platt``: ``[1, logit(price)]`` (Platt scaling: a slope below 1 means favourites win less
  often than priced);
* ``logistic``: Platt's features plus time to close, the price move over the last hour, traded
  volume and the quoted spread;
* ``longshot``: Platt's features plus an intercept and slope per series and per category,
  penalised toward zero so a thin group keeps the pooled fit (favourite-longshot structure).

Fitting is iteratively reweighted least squares with a ridge penalty; each market's prints
share a weight of 1, as in the curve. The standard error of a forecast is the delta method on
the coefficients' covariance, ``p (1 - p) sqrt(x' C x)``. It ignores that markets of one event
move together, so treat it as a lower bound; ``kalshi-core fit`` scores with event-resampled
intervals instead.

``ladder`` fits nothing: it makes the prices of one event's strike ladder consistent
(P(above X) non-increasing in X, P(below X) non-decreasing) by weighted isotonic regression.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from kalshi_core.errors import ConfigError
from kalshi_core.forecasting.calibration import pool_adjacent_violators
from kalshi_core.forecasting.evaluation import (
    MAX_PRINTS,
    Prediction,
    Snapshot,
    snapshot_at,
)
from kalshi_core.forecasting.fitting import MarketSamples
from kalshi_core.money import DOLLAR

MODEL_KIND = "kalshi-core statistical model"
MODEL_VERSION = 1
KINDS = ("platt", "logistic", "longshot")
CLIP = 0.005
RIDGE = 1.0
GROUP_RIDGE = 10.0
ITERATIONS = 50

Floats = npt.NDArray[np.float64]


def logit(probability: float) -> float:
    clipped = min(max(probability, CLIP), 1.0 - CLIP)
    return math.log(clipped / (1.0 - clipped))


def _sigmoid(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(value, 50.0), -50.0)))


def base_features(s: Snapshot) -> dict[str, float]:
    return {"intercept": 1.0, "logit_price": logit(s.price / DOLLAR)}


def rich_features(s: Snapshot) -> dict[str, float]:
    hours = math.log1p(s.seconds_to_close / 3600.0)
    features = base_features(s)
    features["log_hours_to_close"] = hours
    features["logit_price_x_log_hours"] = features["logit_price"] * hours
    features["price_change_1h"] = s.price_change / DOLLAR
    features["log_volume"] = math.log1p(s.volume)
    features["spread"] = (s.spread or 0) / DOLLAR
    features["no_quote"] = 1.0 if s.spread is None else 0.0
    return features


def group_features(s: Snapshot) -> dict[str, float]:
    features = base_features(s)
    for prefix, group in (("series", s.series_ticker), ("category", s.category)):
        if group:
            features[f"{prefix}:{group}"] = 1.0
            features[f"{prefix}:{group}:logit_price"] = features["logit_price"]
    return features


FEATURES = {"platt": base_features, "logistic": rich_features, "longshot": group_features}


@attrs.frozen(kw_only=True)
class LogisticModel:
    """A fitted model: named coefficients and their covariance."""

    kind: str
    names: tuple[str, ...]
    coefficients: tuple[float, ...]
    covariance: tuple[tuple[float, ...], ...]
    info: Mapping[str, Any] = attrs.field(factory=dict)
    evaluation: Mapping[str, Any] = attrs.field(factory=dict)

    def _vector(self, snapshot: Snapshot) -> Floats:
        features = FEATURES[self.kind](snapshot)
        return np.array([features.get(name, 0.0) for name in self.names])

    def predict_one(self, snapshot: Snapshot) -> Prediction:
        x = self._vector(snapshot)
        p = _sigmoid(float(x @ np.array(self.coefficients)))
        variance = float(x @ np.array(self.covariance) @ x)
        return Prediction(probability=p, stderr=p * (1.0 - p) * math.sqrt(max(variance, 0.0)))

    def predict(self, snapshots: Sequence[Snapshot]) -> list[Prediction]:
        return [self.predict_one(s) for s in snapshots]

    def verdict(self) -> str:
        return str(self.evaluation.get("verdict", {}).get("label", ""))

    def to_json(self) -> str:
        data = {
            "version": MODEL_VERSION,
            "kind": MODEL_KIND,
            "model": self.kind,
            "features": list(self.names),
            "coefficients": [round(c, 8) for c in self.coefficients],
            "covariance": [[round(c, 10) for c in row] for row in self.covariance],
            "fit": dict(self.info),
            "evaluation": dict(self.evaluation),
        }
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LogisticModel:
        """Read a model file; any problem is a :class:`ConfigError` naming the file."""
        try:
            return _model_from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"model file {path} is unreadable: {exc}") from None


def _model_from_dict(data: Any) -> LogisticModel:
    _check_header(data)
    names = tuple(str(n) for n in data["features"])
    coefficients = tuple(float(c) for c in data["coefficients"])
    covariance = tuple(tuple(float(c) for c in row) for row in data["covariance"])
    _check_shape(names, coefficients, covariance)
    return LogisticModel(
        kind=str(data["model"]),
        names=names,
        coefficients=coefficients,
        covariance=covariance,
        info=dict(data.get("fit", {})),
        evaluation=dict(data.get("evaluation", {})),
    )


def _check_header(data: Any) -> None:
    if not isinstance(data, dict) or data.get("kind") != MODEL_KIND:
        raise ValueError(f"not a {MODEL_KIND} file")
    if data.get("version") != MODEL_VERSION:
        raise ValueError(f"unsupported version {data.get('version')!r}, expected {MODEL_VERSION}")
    if data.get("model") not in KINDS:
        raise ValueError(f"unknown model {data.get('model')!r}; known: {', '.join(KINDS)}")


def _check_shape(
    names: tuple[str, ...],
    coefficients: tuple[float, ...],
    covariance: tuple[tuple[float, ...], ...],
) -> None:
    size = len(names)
    rows_fit = all(len(row) == size for row in covariance)
    if len(coefficients) != size or len(covariance) != size or not rows_fit:
        raise ValueError(f"{size} features need {size} coefficients and a {size}x{size} matrix")
    if not all(math.isfinite(c) for c in coefficients):
        raise ValueError("coefficients must be finite numbers")


def training_rows(markets: Sequence[MarketSamples]) -> list[tuple[Snapshot, float, float]]:
    """(snapshot, outcome, weight): up to MAX_PRINTS prints per market sharing a weight of 1."""
    rows: list[tuple[Snapshot, float, float]] = []
    for market in markets:
        step = max(1, math.ceil(len(market.prices) / MAX_PRINTS))
        indices = range(0, len(market.prices), step)
        weight = 1.0 / len(indices)
        outcome = 1.0 if market.settled_yes else 0.0
        rows.extend((snapshot_at(market, i), outcome, weight) for i in indices)
    return rows


def fit_logistic(kind: str, markets: Sequence[MarketSamples]) -> LogisticModel:
    """Penalised IRLS; group terms (``series:``/``category:``) get the stronger penalty."""
    if kind not in FEATURES:
        raise ConfigError(f"unknown model {kind!r}; known: {', '.join(KINDS)}")
    rows = training_rows(markets)
    if not rows:
        raise ConfigError("no settled market with prices to fit on")
    names, x = _design(kind, rows)
    y = np.array([outcome for _, outcome, _ in rows])
    w = np.array([weight for _, _, weight in rows])
    penalty = np.diag([_penalty(n) for n in names])
    beta, covariance = _irls(x, y, w, penalty)
    return LogisticModel(
        kind=kind,
        names=names,
        coefficients=tuple(round(float(b), 8) for b in beta),
        covariance=tuple(tuple(round(float(c), 10) for c in row) for row in covariance),
    )


def _design(
    kind: str, rows: Sequence[tuple[Snapshot, float, float]]
) -> tuple[tuple[str, ...], Any]:
    """The feature names (intercept and price first) and the design matrix of ``rows``."""
    dicts = [FEATURES[kind](snapshot) for snapshot, _, _ in rows]
    names = tuple(sorted({name for d in dicts for name in d}, key=_feature_order))
    return names, np.array([[d.get(n, 0.0) for n in names] for d in dicts])


def _feature_order(name: str) -> tuple[int, str]:
    order = ["intercept", "logit_price"]
    return (order.index(name), name) if name in order else (len(order), name)


def _penalty(name: str) -> float:
    if name == "intercept":
        return 0.0
    return GROUP_RIDGE if ":" in name else RIDGE / 100.0 if name == "logit_price" else RIDGE


def _irls(x: Floats, y: Floats, w: Floats, penalty: Floats) -> tuple[Floats, Floats]:
    """Newton steps on the penalised weighted log likelihood; returns (beta, covariance)."""
    beta = np.zeros(x.shape[1])
    beta[_logit_column(x)] = 1.0  # start from "the price is right"
    hessian = penalty
    for _ in range(ITERATIONS):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ beta, -50, 50)))
        gradient = x.T @ (w * (y - p)) - penalty @ beta
        hessian = (x.T * (w * p * (1.0 - p))) @ x + penalty
        step = np.linalg.solve(hessian + 1e-9 * np.eye(len(beta)), gradient)
        beta = beta + step
        if float(np.max(np.abs(step))) < 1e-8:
            break
    covariance: Floats = np.asarray(
        np.linalg.inv(hessian + 1e-9 * np.eye(len(beta))), dtype=np.float64
    )
    return beta, covariance


def _logit_column(x: Floats) -> int:
    return 1 if x.shape[1] > 1 else 0


class LadderPredictor:
    """Prices of one event's strike ladder made monotone (weighted isotonic regression).

    A market's weight is 1 / (half-spread^2 + 1 bp^2): tight quotes move least. ``stderr`` is
    the half-spread combined with the size of the adjustment. Markets without a strike, or an
    event with fewer than two strikes of one type, keep their price.
    """

    def predict(self, snapshots: Sequence[Snapshot]) -> list[Prediction]:
        fixed = {s.ticker: s.price / DOLLAR for s in snapshots}
        for kind, rising in (("greater", False), ("less", True)):
            ladder = sorted(
                (s for s in snapshots if s.strike is not None and s.strike_type == kind),
                key=lambda s: s.strike or 0.0,
            )
            if len(ladder) > 1:
                fixed.update(_monotone(ladder, rising))
        return [_prediction(s, fixed[s.ticker]) for s in snapshots]


def _monotone(ladder: Sequence[Snapshot], rising: bool) -> dict[str, float]:
    sign = 1.0 if rising else -1.0
    values = [sign * s.price / DOLLAR for s in ladder]
    weights = [1.0 / (((s.spread or 0) / 2 / DOLLAR) ** 2 + 1e-8) for s in ladder]
    fitted = pool_adjacent_violators(values, weights)
    return {s.ticker: sign * v for s, v in zip(ladder, fitted, strict=True)}


def _prediction(snapshot: Snapshot, probability: float) -> Prediction:
    half_spread = (snapshot.spread or 0) / 2 / DOLLAR
    moved = probability - snapshot.price / DOLLAR
    return Prediction(probability=probability, stderr=math.hypot(half_spread, moved))
