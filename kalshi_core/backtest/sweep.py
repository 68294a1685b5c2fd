"""Parameter sweeps: a grid or random search over settings, each trial an isolated backtest.

A *trial* is one set of ``--set`` overrides. Each runs in its own process with its own SQLite
database (``<output>/trials/<trial>-<phase>.sqlite3``); its objective is read back from that
database: the run's net P&L by recorded day (``daily_pnl``: the change in portfolio value,
fees included, less AI spend). Trials are ranked by the **median over walk-forward windows**
(the in-sample days cut into ``windows`` consecutive spans), so one lucky day cannot carry a
trial. The best ``top`` trials are then re-run on held-out days they were never ranked on, and
the trials x days matrix gives the probability of backtest overfitting (CSCV,
:mod:`kalshi_core.backtest.overfitting`).

The local pool (``spawn`` processes, bounded) is the default executor; the data folder is local
to every worker, so each reads it from disk. :mod:`kalshi_core.backtest.distributed` runs the
same tasks on a Dask cluster. Both give byte-identical result JSON.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import multiprocessing
import random
import sqlite3
import statistics
import tomllib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

from kalshi_core.backtest.overfitting import (
    TIED,
    all_tied,
    probability_of_overfitting,
    usable_blocks,
)
from kalshi_core.backtest.runner import BacktestSpec, backtest_app, parse_override, run_backtest
from kalshi_core.errors import ConfigError, KalshiCoreError
from kalshi_core.money import DOLLAR
from kalshi_core.stats import bootstrap, mean

SCHEMA = "kalshi-core.sweep/1"
MODES = ("grid", "random")
IN_SAMPLE = "in-sample"
HOLDOUT = "holdout"
OnDone = Callable[["TrialResult"], None]


@attrs.frozen(kw_only=True)
class Space:
    """What to search: each dotted settings key with the values to try."""

    parameters: Mapping[str, tuple[Any, ...]]
    mode: str = "grid"
    samples: int = 16
    seed: int = 0

    def __attrs_post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"sweep mode {self.mode!r}: expected one of {', '.join(MODES)}")
        if not self.parameters:
            raise ConfigError("a sweep needs at least one parameter (--param key=v1,v2,...)")
        empty = [key for key, values in self.parameters.items() if not values]
        if empty:
            raise ConfigError(f"sweep parameter {empty[0]!r} has no values to try")
        if self.samples < 1:
            raise ConfigError(f"sweep samples must be at least 1, got {self.samples}")


def parse_param(text: str) -> tuple[str, tuple[Any, ...]]:
    """``key=v1,v2,...``: each value a TOML value, as ``--set`` reads it."""
    key, values = parse_override(text)
    if isinstance(values, list):
        return key, tuple(values)
    raw = text.partition("=")[2]
    return key, tuple(parse_override(f"{key}={part}")[1] for part in raw.split(","))


def load_space(path: Path) -> Space:
    """A sweep file (TOML or JSON): ``mode``, ``samples``, ``seed`` and a ``[parameters]``
    table of ``key = [values]``. Raises ConfigError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (OSError, ValueError) as error:
        raise ConfigError(f"sweep file {path}: {error}") from error
    parameters = data.get("parameters")
    if not isinstance(parameters, dict) or not all(
        isinstance(v, list) for v in parameters.values()
    ):
        raise ConfigError(f"sweep file {path}: expected a [parameters] table of key = [values]")
    return Space(
        parameters={key: tuple(values) for key, values in parameters.items()},
        mode=str(data.get("mode", "grid")),
        samples=int(data.get("samples", 16)),
        seed=int(data.get("seed", 0)),
    )


@attrs.frozen(kw_only=True)
class Trial:
    trial_id: str
    params: Mapping[str, Any]


def trials(space: Space) -> list[Trial]:
    """Every grid point, or ``samples`` distinct random points (seeded), numbered in order."""
    keys = sorted(space.parameters)
    grid = list(itertools.product(*(space.parameters[key] for key in keys)))
    if space.mode == "random" and space.samples < len(grid):
        grid = random.Random(space.seed).sample(grid, space.samples)
    width = len(str(len(grid)))
    return [
        Trial(trial_id=f"t{index:0{width}d}", params=dict(zip(keys, point, strict=True)))
        for index, point in enumerate(grid, start=1)
    ]


@attrs.frozen(kw_only=True)
class Base:
    """What every trial shares: data, strategies, base overrides, settings file."""

    data_dir: str
    data_sets: tuple[str, ...] = ()
    strategies: tuple[str, ...] = ()
    overrides: Mapping[str, Any] = attrs.field(factory=dict)
    settings_file: str | None = None
    env: str | None = None


@attrs.frozen(kw_only=True)
class TrialTask:
    """One backtest to run: a trial's settings on one window of recorded time."""

    trial: Trial
    phase: str
    start: datetime
    end: datetime
    base: Base

    @property
    def name(self) -> str:
        return f"{self.trial.trial_id}-{self.phase}"

    def spec(self, database_url: str, data_dir: str) -> BacktestSpec:
        # a fixed worker id: the run must not depend on which process ran it
        worker = {"run.worker_id": f"sweep-{self.name}"}
        return BacktestSpec(
            database_url=database_url,
            data_dir=data_dir,
            data_sets=self.base.data_sets,
            start=self.start,
            end=self.end,
            strategies=self.base.strategies,
            overrides={**self.base.overrides, **self.trial.params, **worker},
            run_id=self.name,
            settings_file=self.base.settings_file,
            env=self.base.env,
        )


@attrs.frozen(kw_only=True)
class TrialResult:
    """A finished task: net P&L by recorded day (money units), or the error that stopped it."""

    name: str
    daily: Mapping[str, int]
    orders: int = 0
    error: str = ""


def read_daily_net(database: Path, run_id: str) -> dict[str, int]:
    """The run's net P&L by day from its ``daily_pnl`` rows (value change less AI spend).

    The one objective reader; ``kalshi_core.backtest.results.summarise`` can replace it."""
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "select day, realized_pnl - ai_cost from daily_pnl where run_id = ? order by day",
            (run_id,),
        ).fetchall()
    return {str(day): int(net) for day, net in rows}


def execute_task(task: TrialTask, data_dir: str, database: Path) -> TrialResult:
    """Run one task into a fresh SQLite database (in this process) and read its objective."""
    database.unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{database}"
    try:
        run = asyncio.run(run_backtest(task.spec(url, data_dir)))
    except KalshiCoreError as error:
        return TrialResult(name=task.name, daily={}, error=f"{type(error).__name__}: {error}")
    daily = read_daily_net(database, run.run_id)
    return TrialResult(name=task.name, daily=daily, orders=run.report.orders_placed)


def check_tasks(tasks: Sequence[TrialTask], data_dir: str) -> None:
    """Validate every distinct trial's settings here, before any work is shipped."""
    seen: set[str] = set()
    for task in tasks:
        key = json.dumps(task.trial.params, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            try:
                backtest_app(task.spec("sqlite+aiosqlite://", data_dir))
            except ConfigError as error:
                raise ConfigError(f"trial {task.trial.trial_id} {key}: {error}") from error


def run_local(
    tasks: Sequence[TrialTask],
    data_dir: str,
    output: Path,
    *,
    workers: int = 2,
    on_done: OnDone | None = None,
) -> list[TrialResult]:
    """Run ``tasks`` on a bounded pool of spawned processes; results in task order."""
    folder = output / "trials"
    folder.mkdir(parents=True, exist_ok=True)
    context = multiprocessing.get_context("spawn")
    results: dict[str, TrialResult] = {}
    with ProcessPoolExecutor(
        max_workers=max(1, min(workers, len(tasks))), mp_context=context
    ) as pool:
        futures = [
            pool.submit(execute_task, t, data_dir, folder / f"{t.name}.sqlite3") for t in tasks
        ]
        for future in as_completed(futures):
            result = future.result()
            results[result.name] = result
            if on_done is not None:
                on_done(result)
    return [results[t.name] for t in tasks]


Executor = Callable[[Sequence[TrialTask], OnDone | None], list[TrialResult]]


def calendar(start: datetime, end: datetime) -> list[str]:
    """The recorded days ``[start, end)`` touches, as ISO dates."""
    last = (end - timedelta(microseconds=1)).date()
    count = (last - start.date()).days + 1
    return [(start.date() + timedelta(days=n)).isoformat() for n in range(count)]


def day_values(result: TrialResult, days: Sequence[str]) -> list[int]:
    """Net P&L on each of ``days`` (0 where the run stored no row: it did not trade)."""
    return [result.daily.get(day, 0) for day in days]


def window_totals(values: Sequence[int], windows: int) -> list[int]:
    """``values`` summed over ``windows`` consecutive, near-equal spans."""
    count = max(1, min(windows, len(values)))
    size, extra = divmod(len(values), count)
    totals, at = [], 0
    for index in range(count):
        width = size + (1 if index < extra else 0)
        totals.append(sum(values[at : at + width]))
        at += width
    return totals


def daily_interval(values: Sequence[int], seed: int = 0) -> dict[str, float | int]:
    """Mean net P&L per day with its bootstrap interval, resampled by day (money units)."""
    samples = [float(v) for v in values]
    return bootstrap(samples, mean, seed=seed).as_dict() if samples else {}


def dollars(units: float) -> float:
    return round(units / DOLLAR, 4)


@attrs.frozen(kw_only=True)
class SweepPlan:
    """A sweep: the trials, the in-sample window, the held-out days after it."""

    space: Space
    base: Base
    start: datetime
    end: datetime
    holdout_days: int = 0
    windows: int = 4
    top: int = 3
    blocks: int = 8

    def __attrs_post_init__(self) -> None:
        if self.start >= self.end:
            raise ConfigError(f"sweep window: {self.start} is not before {self.end}")
        if self.split <= self.start:
            raise ConfigError(
                f"--holdout-days {self.holdout_days} leaves no in-sample time in "
                f"{self.start:%Y-%m-%d %H:%M} .. {self.end:%Y-%m-%d %H:%M}"
            )
        if self.windows < 1 or self.top < 0:
            raise ConfigError("sweep windows must be >= 1 and top >= 0")

    @property
    def split(self) -> datetime:
        return self.end - timedelta(days=self.holdout_days)

    def in_sample_tasks(self) -> list[TrialTask]:
        return [
            TrialTask(trial=t, phase=IN_SAMPLE, start=self.start, end=self.split, base=self.base)
            for t in trials(self.space)
        ]

    def holdout_tasks(self, chosen: Sequence[Trial]) -> list[TrialTask]:
        if not self.holdout_days:
            return []
        return [
            TrialTask(trial=t, phase=HOLDOUT, start=self.split, end=self.end, base=self.base)
            for t in chosen
        ]


@attrs.frozen(kw_only=True)
class Score:
    """A result scored over a span: net by window, their median, the total."""

    windows: tuple[int, ...]
    median: float
    net: int


def score(result: TrialResult, start: datetime, end: datetime, windows: int) -> Score:
    values = day_values(result, calendar(start, end))
    totals = window_totals(values, windows)
    return Score(windows=tuple(totals), median=float(statistics.median(totals)), net=sum(values))


def rank(plan: SweepPlan, results: Sequence[TrialResult]) -> list[dict[str, Any]]:
    """One row per trial, best first: by median window net, then total, then trial id."""
    rows = []
    for task, result in zip(plan.in_sample_tasks(), results, strict=True):
        scored = score(result, plan.start, plan.split, plan.windows)
        rows.append(
            {
                "trial": task.trial.trial_id,
                "params": dict(task.trial.params),
                "windows": list(scored.windows),
                "median_window_net": scored.median,
                "net": scored.net,
                "orders": result.orders,
                "error": result.error,
            }
        )
    rows.sort(key=_rank_key)
    for position, row in enumerate(rows, start=1):
        row["rank"] = position
    return rows


def _rank_key(row: Mapping[str, Any]) -> tuple[bool, float, int, str]:
    return (bool(row["error"]), -row["median_window_net"], -row["net"], row["trial"])


def overfitting(plan: SweepPlan, results: Sequence[TrialResult]) -> dict[str, Any]:
    """CSCV's PBO over the trials x in-sample days matrix (dollars), or why there is none."""
    days = calendar(plan.start, plan.split)
    matrix = [[v / DOLLAR for v in day_values(r, days)] for r in results if not r.error]
    blocks = usable_blocks(len(days), plan.blocks)
    if len(matrix) < 2 or blocks < 2:
        return {"pbo": None, "reason": f"{len(matrix)} trials x {len(days)} days is too few"}
    if all_tied(matrix):
        return {"pbo": None, "reason": TIED}
    return probability_of_overfitting(matrix, blocks=blocks).as_dict()


def holdout_rows(plan: SweepPlan, results: Sequence[TrialResult]) -> list[dict[str, Any]]:
    days = calendar(plan.split, plan.end)
    rows = []
    for result in results:
        values = day_values(result, days)
        rows.append(
            {
                "trial": result.name.removesuffix(f"-{HOLDOUT}"),
                "net": sum(values),
                "daily": values,
                "mean_daily_net": daily_interval(values),
                "error": result.error,
            }
        )
    return rows


def run_sweep(plan: SweepPlan, execute: Executor, on_done: OnDone | None = None) -> dict[str, Any]:
    """Rank every trial in-sample, re-check the best ``top`` on the held-out days, PBO."""
    in_sample = execute(plan.in_sample_tasks(), on_done)
    table = rank(plan, in_sample)
    by_id = {t.trial_id: t for t in trials(plan.space)}
    best = [by_id[row["trial"]] for row in table[: plan.top] if not row["error"]]
    held = execute(plan.holdout_tasks(best), on_done) if best else []
    return {
        "schema": SCHEMA,
        "space": {
            "mode": plan.space.mode,
            "parameters": {k: list(v) for k, v in sorted(plan.space.parameters.items())},
            "seed": plan.space.seed,
        },
        "in_sample": {"from": plan.start.isoformat(), "to": plan.split.isoformat()},
        "holdout": {"from": plan.split.isoformat(), "to": plan.end.isoformat()},
        "windows": plan.windows,
        "units": "net P&L in 1/10,000 dollar",
        "trials": table,
        "rechecked": holdout_rows(plan, held),
        "overfitting": overfitting(plan, in_sample),
    }


def to_json(result: Mapping[str, Any]) -> str:
    """The canonical text of a result: sorted keys, so equal results are equal bytes."""
    return json.dumps(result, sort_keys=True, indent=2) + "\n"
