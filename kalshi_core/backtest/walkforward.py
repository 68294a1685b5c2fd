"""Walk-forward: choose settings on one window of recorded time, test them on the next, roll.

Rolling windows of ``train_days`` then ``test_days`` advance by ``step_days`` over
``[start, end)``. On each train window every trial of the sweep runs; the one with the best
median over ``windows`` sub-windows of the train span (as :func:`kalshi_core.backtest.sweep.
rank` ranks) is chosen, and a fresh backtest with its settings runs on the test window, which
no choice ever saw. The report lists every window and the aggregate of the test windows: their
net P&L and the mean daily net with a bootstrap interval resampled by day.

With ``fit``, the ``calibrated`` forecaster's curve is refitted on each train window first
(``kalshi-core fit``'s :func:`~kalshi_core.forecasting.fitting.fit_history` on a copy of the
history holding only the markets that closed inside the train span), and that window's train
trials and test run read it through ``forecasters.calibrated.curve_path``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

from kalshi_core.backtest.lookahead import (
    MARKETS,
    TIMED_FILES,
    parse_time,
    read_records,
    write_records,
)
from kalshi_core.backtest.sweep import (
    Base,
    Executor,
    OnDone,
    Space,
    TrialResult,
    TrialTask,
    calendar,
    daily_interval,
    day_values,
    score,
    trials,
)
from kalshi_core.errors import ConfigError
from kalshi_core.forecasting.fitting import FitOptions, fit_history

SCHEMA = "kalshi-core.walk-forward/1"
CURVE_KEY = "forecasters.calibrated.curve_path"


@attrs.frozen(kw_only=True)
class Window:
    index: int
    train_start: datetime
    train_end: datetime
    test_end: datetime

    def as_dict(self) -> dict[str, str]:
        return {
            "train_from": self.train_start.isoformat(),
            "train_to": self.train_end.isoformat(),
            "test_from": self.train_end.isoformat(),
            "test_to": self.test_end.isoformat(),
        }


def rolling_windows(
    start: datetime, end: datetime, train: timedelta, test: timedelta, step: timedelta
) -> list[Window]:
    """Every train+test window that fits in ``[start, end)``. Raises ConfigError for none."""
    if min(train, test, step) <= timedelta(0):
        raise ConfigError("walk-forward train, test and step must all be positive")
    found: list[Window] = []
    at = start
    while at + train + test <= end:
        found.append(
            Window(
                index=len(found) + 1,
                train_start=at,
                train_end=at + train,
                test_end=at + train + test,
            )
        )
        at += step
    if not found:
        raise ConfigError(
            f"no walk-forward window of {train.days} train + {test.days} test days fits in "
            f"{start:%Y-%m-%d %H:%M} .. {end:%Y-%m-%d %H:%M}"
        )
    return found


@attrs.frozen(kw_only=True)
class WalkForwardPlan:
    space: Space
    base: Base
    start: datetime
    end: datetime
    train_days: float
    test_days: float
    step_days: float = 0.0  # 0: step by the test length
    windows: int = 2  # sub-windows of a train span that the median runs over
    curves: Mapping[int, str] = attrs.field(factory=dict)  # window -> its fitted curve file

    def base_for(self, window: Window) -> Base:
        curve = self.curves.get(window.index)
        if curve is None:
            return self.base
        overrides = {**self.base.overrides, CURVE_KEY: curve}
        return attrs.evolve(self.base, overrides=overrides)

    def rolling(self) -> list[Window]:
        step = self.step_days or self.test_days
        return rolling_windows(
            self.start,
            self.end,
            timedelta(days=self.train_days),
            timedelta(days=self.test_days),
            timedelta(days=step),
        )

    def train_tasks(self, window: Window) -> list[TrialTask]:
        return [
            TrialTask(
                trial=t,
                phase=f"w{window.index}-train",
                start=window.train_start,
                end=window.train_end,
                base=self.base_for(window),
            )
            for t in trials(self.space)
        ]


def choose(plan: WalkForwardPlan, window: Window, results: Sequence[TrialResult]) -> TrialTask:
    """The train task with the best median window net (then total, then trial id)."""
    tasks = plan.train_tasks(window)
    scored = [
        (score(r, window.train_start, window.train_end, plan.windows), task)
        for task, r in zip(tasks, results, strict=True)
        if not r.error
    ]
    if not scored:
        raise ConfigError(f"every trial failed on walk-forward window {window.index}")
    best = min(scored, key=lambda pair: (-pair[0].median, -pair[0].net, pair[1].trial.trial_id))
    return best[1]


def slice_history(
    source: Path, sets: Sequence[str], start: datetime, end: datetime, target: Path
) -> Path:
    """Copies of data sets ``sets`` holding only the markets that closed in ``[start, end)``,
    with their prints and quotes (all from before their close, so before ``end``)."""
    for name in sets:
        folder, copy = source / name, target / name
        if not (folder / MARKETS).is_file():
            raise ConfigError(f"data set {name!r} has no {MARKETS} in {source}")
        copy.mkdir(parents=True, exist_ok=True)
        markets = [
            m
            for m in read_records(folder / MARKETS)
            if start <= parse_time(str(m["close_time"])) < end
        ]
        write_records(copy / MARKETS, markets)
        tickers = {m["ticker"] for m in markets}
        for file in TIMED_FILES:
            if (folder / file).is_file():
                kept = [r for r in read_records(folder / file) if r["ticker"] in tickers]
                write_records(copy / file, kept)
    return target


def fit_curves(plan: WalkForwardPlan, rolling: Sequence[Window], folder: Path) -> dict[int, Any]:
    """Fit the calibration curve on each train window; the curve files land in ``folder``."""
    source = Path(plan.base.data_dir)
    sets = list(plan.base.data_sets) or sorted(p.parent.name for p in source.glob(f"*/{MARKETS}"))
    fitted: dict[int, Any] = {}
    for window in rolling:
        root = slice_history(
            source, sets, window.train_start, window.train_end, folder / f"w{window.index}-data"
        )
        try:
            report = fit_history(root, sets, FitOptions())
        except ConfigError as error:
            raise ConfigError(f"walk-forward window {window.index}: fit: {error}") from error
        path = folder / f"w{window.index}-curve.json"
        report.curve.save(path)
        fitted[window.index] = {
            "path": str(path.resolve()),
            "curve": path.name,
            "fitted_markets": report.fitted_markets,
            "brier_raw": report.brier_raw,
            "brier_calibrated": report.brier_calibrated,
        }
    return fitted


def run_walk_forward(
    plan: WalkForwardPlan,
    execute: Executor,
    on_done: OnDone | None = None,
    fit_into: Path | None = None,
) -> dict[str, Any]:
    """Train sweeps of every window (one batch), then each window's test run (one batch).
    With ``fit_into``, the calibration curve is first refitted on each train window there."""
    rolling = plan.rolling()
    fitted = fit_curves(plan, rolling, fit_into) if fit_into is not None else {}
    plan = attrs.evolve(plan, curves={k: v.pop("path") for k, v in fitted.items()})
    batch = [task for window in rolling for task in plan.train_tasks(window)]
    done = {r.name: r for r in execute(batch, on_done)}
    chosen = [choose(plan, w, [done[t.name] for t in plan.train_tasks(w)]) for w in rolling]
    tests = _test_tasks(plan, rolling, chosen)
    tested = execute(tests, on_done)
    rows = [
        {**_row(plan, w, c, done[c.name], t), "fit": fitted.get(w.index)}
        for w, c, t in zip(rolling, chosen, tested, strict=True)
    ]
    every_day = [v for row in rows for v in row["test_daily"]]
    return {
        "schema": SCHEMA,
        "train_days": plan.train_days,
        "test_days": plan.test_days,
        "step_days": plan.step_days or plan.test_days,
        "units": "net P&L in 1/10,000 dollar",
        "windows": rows,
        "aggregate": {
            "test_net": sum(every_day),
            "test_days": len(every_day),
            "mean_daily_net": daily_interval(every_day),
        },
    }


def _test_tasks(
    plan: WalkForwardPlan, rolling: Sequence[Window], chosen: Sequence[TrialTask]
) -> list[TrialTask]:
    """Each window's chosen settings on its test span, with the window's curve if fitted."""
    return [
        TrialTask(
            trial=c.trial,
            phase=f"w{w.index}-test",
            start=w.train_end,
            end=w.test_end,
            base=plan.base_for(w),
        )
        for w, c in zip(rolling, chosen, strict=True)
    ]


def _row(
    plan: WalkForwardPlan,
    window: Window,
    chosen: TrialTask,
    train: TrialResult,
    test: TrialResult,
) -> dict[str, Any]:
    trained = score(train, window.train_start, window.train_end, plan.windows)
    daily = day_values(test, calendar(window.train_end, window.test_end))
    return {
        **window.as_dict(),
        "window": window.index,
        "chosen": chosen.trial.trial_id,
        "params": dict(chosen.trial.params),
        "train_median_window_net": trained.median,
        "test_net": sum(daily),
        "test_daily": daily,
        "test_error": test.error,
    }
