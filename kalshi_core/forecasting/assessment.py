"""``kalshi-core fit`` end to end: choose data honestly, split by time and event, fit, score, judge.

Outcome-selected data sets (``set.json`` says ``"outcome_selected": true``) are left out of a
fit unless asked for by name with ``allow_outcome_selected``; when used, the verdict carries the
caveat and can never be "better". The fitted model is written with what it was fitted on, the
split and the verdict with its intervals, so ``run`` can warn when the active curve failed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from kalshi_core.errors import ConfigError
from kalshi_core.forecasting.calibration import (
    EMPIRICAL_BAYES,
    CalibrationCurve,
    FitInfo,
)
from kalshi_core.forecasting.evaluation import (
    HorizonScore,
    Prediction,
    Predictor,
    Snapshot,
    Verdict,
    decide,
    evaluate,
    score_dict,
)
from kalshi_core.forecasting.fitting import (
    DataSetInfo,
    FitOptions,
    MarketSamples,
    Split,
    bin_statistics,
    discover_data_sets,
    load_data_set,
    price_derived_results,
    read_set_info,
    split_by_time,
)
from kalshi_core.forecasting.statistical import KINDS, LadderPredictor, LogisticModel, fit_logistic
from kalshi_core.money import DOLLAR

MODELS = ("calibrated", *KINDS, "ladder")
Progress = Callable[[str], None]


class CurvePredictor:
    """A calibration curve as an evaluation predictor."""

    def __init__(self, curve: CalibrationCurve) -> None:
        self.curve = curve

    def predict(self, snapshots: Sequence[Snapshot]) -> list[Prediction]:
        return [
            Prediction(
                probability=self.curve.probability(s.price) / DOLLAR,
                stderr=self.curve.stderr(s.price) / DOLLAR,
            )
            for s in snapshots
        ]


@attrs.frozen(kw_only=True)
class ChosenData:
    markets: tuple[MarketSamples, ...]
    used: tuple[DataSetInfo, ...]
    excluded: tuple[DataSetInfo, ...]
    caveats: tuple[str, ...]


def choose_data(
    root: Path, names: Sequence[str], allow_outcome_selected: bool, progress: Progress
) -> ChosenData:
    """Load the data sets, leaving out (or refusing) outcome-selected ones."""
    chosen = sorted(names) if names else discover_data_sets(root)
    if not chosen:
        raise ConfigError(f"no data sets (folders with markets.jsonl) under {root}")
    used, excluded, markets = [], [], []
    for name in chosen:
        info = read_set_info(root, name)
        if info.unfit and not allow_outcome_selected:
            if names:
                raise ConfigError(_refusal(info))
            progress(f"LEFT OUT {name}: outcome-selected ({info.sampling})")
            excluded.append(info)
            continue
        loaded = load_data_set(root, name)
        progress(f"read {name}: {len(loaded)} settled markets, {_samples(loaded)} samples")
        derived = price_derived_results(root, name)
        if derived:
            progress(
                f"LEFT OUT {derived} markets of {name}: result_source final_quote "
                "(label inferred from the market's own last price)"
            )
        used.append(info)
        markets.extend(loaded)
    caveats = tuple(f"{i.name} is outcome-selected: {i.sampling}" for i in used if i.unfit)
    return ChosenData(
        markets=tuple(markets), used=tuple(used), excluded=tuple(excluded), caveats=caveats
    )


def _refusal(info: DataSetInfo) -> str:
    return (
        f"refusing to fit or score on data set {info.name!r}: it is outcome-selected "
        f"({info.sampling}); "
        "a model fitted on it learns the selection. Pass --allow-outcome-selected to fit "
        "anyway (the verdict will then never be 'better')"
    )


def _samples(markets: Sequence[MarketSamples]) -> int:
    return sum(len(m.prices) for m in markets)


@attrs.frozen(kw_only=True)
class TestData:
    """Data sets to score on instead of a held-out share of the fit data."""

    root: Path
    names: tuple[str, ...]


def split_against(fit: Sequence[MarketSamples], test: Sequence[MarketSamples]) -> Split:
    """Train on fit markets that closed before the test began and are not test markets."""
    if not test:
        raise ConfigError("the test data sets hold no settled market with prices")
    start = min(m.first_seen for m in test)
    tested = {m.ticker for m in test}
    train = [m for m in fit if m.close_time <= start and m.ticker not in tested]
    how = (
        f"scored on separate test data ({len(test)} markets from {start.isoformat()}); "
        "trained on fit markets that closed before it"
    )
    return Split(train=tuple(train), holdout=tuple(test), embargoed=len(fit) - len(train), how=how)


@attrs.frozen(kw_only=True)
class FitResult:
    """What was fitted, on what, how it scored on held-out events, and the verdict."""

    model: str
    curve: CalibrationCurve | None
    statistical: LogisticModel | None
    data: ChosenData
    split: Split
    scores: dict[str, HorizonScore]
    verdict: Verdict

    def evaluation(self) -> dict[str, Any]:
        return evaluation_dict(self.verdict, self.scores)


def evaluation_dict(verdict: Verdict, scores: dict[str, HorizonScore]) -> dict[str, Any]:
    return {
        "verdict": {
            "label": verdict.label,
            "reason": verdict.reason,
            "caveats": list(verdict.caveats),
        },
        "horizons": {h: score_dict(s) for h, s in scores.items()},
    }


def _curve_info(data: ChosenData, split: Split, options: FitOptions) -> FitInfo:
    fitted = split.train
    return FitInfo(
        data_sets=tuple(i.name for i in data.used),
        date_from=min(m.first_seen for m in fitted).date().isoformat(),
        date_to=max(m.close_time for m in fitted).date().isoformat(),
        markets=len(fitted),
        samples=_samples(fitted),
        holdout_fraction=options.holdout_fraction,
        prior_strength=options.prior_strength,
        min_samples_per_bin=options.min_samples_per_bin,
        shrinkage=EMPIRICAL_BAYES,
        split=split.how,
        holdout_markets=len(split.holdout),
        embargoed_markets=split.embargoed,
        excluded_sets=tuple(i.name for i in data.excluded),
    )


def _predictor(
    model: str, data: ChosenData, split: Split, options: FitOptions
) -> tuple[Predictor, CalibrationCurve | None, LogisticModel | None]:
    if model == "ladder":
        return LadderPredictor(), None, None
    if not split.train:
        raise ConfigError("no settled market with prices left to fit on after the split")
    if model == "calibrated":
        info = _curve_info(data, split, options)
        curve = CalibrationCurve.from_bins(bin_statistics(split.train, options.bins), info)
        return CurvePredictor(curve), curve, None
    fitted = fit_logistic(model, split.train)
    return fitted, None, fitted


def run_fit(
    model: str,
    root: Path,
    names: Sequence[str],
    options: FitOptions,
    *,
    allow_outcome_selected: bool = False,
    test: TestData | None = None,
    progress: Progress = lambda line: None,
) -> FitResult:
    """Fit ``model`` on the training events, score it on the held-out ones, judge it.

    With ``test``, the held-out part is that other data set instead: the model is fitted on
    every market of the fit data that closed before the test's first price and is not itself a
    test market.
    """
    if model not in MODELS:
        raise ConfigError(f"unknown model {model!r}; known: {', '.join(MODELS)}")
    data = choose_data(root, names, allow_outcome_selected, progress)
    data, split = _split(data, options, test, allow_outcome_selected, progress)
    predictor, curve, statistical = _predictor(model, data, split, options)
    scores = evaluate(predictor, split.holdout) if split.holdout else {}
    verdict = decide(scores, data.caveats)
    evaluation = evaluation_dict(verdict, scores)
    if curve is not None:
        curve = attrs.evolve(curve, evaluation=evaluation)
        if options.fallback_to_price and not verdict.passed:
            curve = curve.as_price(evaluation)
    if statistical is not None:
        info = _model_info(data, split, options)
        statistical = attrs.evolve(statistical, info=info, evaluation=evaluation)
    return FitResult(
        model=model,
        curve=curve,
        statistical=statistical,
        data=data,
        split=split,
        scores=scores,
        verdict=verdict,
    )


def _split(
    data: ChosenData,
    options: FitOptions,
    test: TestData | None,
    allow_outcome_selected: bool,
    progress: Progress,
) -> tuple[ChosenData, Split]:
    """A time-and-event holdout, or the separate test sets (whose caveats join the data's)."""
    if test is None:
        return data, split_by_time(data.markets, options.holdout_fraction)
    tested = choose_data(test.root, test.names, allow_outcome_selected, progress)
    joined = attrs.evolve(data, caveats=data.caveats + tested.caveats)
    return joined, split_against(data.markets, tested.markets)


def _model_info(data: ChosenData, split: Split, options: FitOptions) -> dict[str, Any]:
    return {
        "data_sets": [i.name for i in data.used],
        "excluded_sets": [i.name for i in data.excluded],
        "markets": len(split.train),
        "holdout_markets": len(split.holdout),
        "embargoed_markets": split.embargoed,
        "holdout_fraction": options.holdout_fraction,
        "split": split.how,
    }
