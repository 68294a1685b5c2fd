"""Built-in commands ``kalshi-core sweep``, ``kalshi-core walk-forward`` and
``kalshi-core check-lookahead``: parameter sweeps, walk-forward and the look-ahead check.

Each is a plain click command, so the ``backtest`` group can adopt them as sub-commands
(``backtest.add_command(sweep)``) without change.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from kalshi_core.backtest import lookahead
from kalshi_core.backtest.runner import parse_override
from kalshi_core.backtest.sweep import (
    Base,
    Executor,
    OnDone,
    Space,
    SweepPlan,
    TrialResult,
    TrialTask,
    check_tasks,
    dollars,
    load_space,
    parse_param,
    run_local,
    run_sweep,
    to_json,
)
from kalshi_core.backtest.walkforward import WalkForwardPlan, run_walk_forward
from kalshi_core.builtin.run_command import RECORDED_TIME
from kalshi_core.cli import EXIT_CONFIG, settings_options
from kalshi_core.errors import KalshiCoreError
from kalshi_core.exchange.local import BUNDLED_HISTORY
from kalshi_core.hookspecs import hookimpl

Command = Callable[..., None]


def data_options(command: Command) -> Command:
    """What every trial shares: history, window, strategies, overrides."""
    options: list[Callable[[Command], Command]] = [
        click.option(
            "--data",
            "data_dir",
            type=click.Path(file_okay=False, exists=True),
            help="Folder of recorded history data sets (default: the bundled).",
        ),
        click.option("--data-set", "data_sets", multiple=True, help="Data set (repeat)."),
        click.option(
            "--from",
            "start",
            type=RECORDED_TIME,
            required=True,
            help="Start of recorded (UTC) time.",
        ),
        click.option(
            "--to", "end", type=RECORDED_TIME, required=True, help="End of recorded (UTC) time."
        ),
        click.option("--strategy", "strategies", multiple=True, help="Strategy (repeat)."),
        click.option(
            "--set",
            "overrides",
            multiple=True,
            metavar="KEY=VALUE",
            help="A setting every trial shares (repeat).",
        ),
        click.option(
            "--output",
            type=click.Path(file_okay=False),
            required=True,
            help="Folder for the trials' databases and the JSON result.",
        ),
        settings_options,
    ]
    for option in reversed(options):
        command = option(command)
    return command


def space_options(command: Command) -> Command:
    """The search space and where the trials run."""
    options: list[Callable[[Command], Command]] = [
        click.option(
            "--param",
            "params",
            multiple=True,
            metavar="KEY=V1,V2,...",
            help="A setting to sweep and its values (repeat).",
        ),
        click.option(
            "--sweep-file",
            type=click.Path(dir_okay=False, exists=True),
            help="TOML/JSON sweep file: mode, samples, seed, [parameters].",
        ),
        click.option("--mode", type=click.Choice(["grid", "random"]), default=None),
        click.option(
            "--samples",
            type=click.IntRange(min=1),
            default=None,
            help="Random mode: how many trials.",
        ),
        click.option("--seed", type=int, default=None, help="Random mode: the seed."),
        executor_options,
    ]
    for option in reversed(options):
        command = option(command)
    return command


def executor_options(command: Command) -> Command:
    """Where the trials run: the local pool, or Dask."""
    options: list[Callable[[Command], Command]] = [
        click.option(
            "--workers",
            type=click.IntRange(min=1),
            default=2,
            help="Local pool processes (or LocalCluster workers).",
        ),
        click.option(
            "--cluster",
            type=click.Choice(["local"]),
            default=None,
            help="Run on a Dask LocalCluster this command starts.",
        ),
        click.option(
            "--scheduler",
            metavar="ADDRESS",
            default=None,
            help="Run on the Dask scheduler at ADDRESS (tcp://host:8786).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def build_space(
    params: Sequence[str],
    sweep_file: str | None,
    mode: str | None,
    samples: int | None,
    seed: int | None,
) -> Space:
    """The sweep file's space, with ``--param`` values added and flags on top."""
    base = load_space(Path(sweep_file)) if sweep_file else None
    parameters = dict(base.parameters) if base else {}
    parameters.update(parse_param(text) for text in params)
    return Space(
        parameters=parameters,
        mode=mode or (base.mode if base else "grid"),
        samples=samples or (base.samples if base else 16),
        seed=base.seed if seed is None and base else (seed or 0),
    )


def space_from(options: Mapping[str, Any]) -> Space:
    """The trials the space options (``--param``, ``--sweep-file``, ``--mode`` ...) describe."""
    keys = ("params", "sweep_file", "mode", "samples", "seed")
    return build_space(*(options[key] for key in keys))


def build_base(options: Mapping[str, Any]) -> Base:
    return Base(
        data_dir=str(options.get("data_dir") or BUNDLED_HISTORY),
        data_sets=tuple(options.get("data_sets") or ()),
        strategies=tuple(options.get("strategies") or ()),
        overrides=dict(parse_override(text) for text in options.get("overrides") or ()),
        settings_file=options.get("_settings"),
        env=options.get("_env"),
    )


def _tracked(execute: Executor, progress: Progress) -> Executor:
    def run(tasks: Sequence[TrialTask], on_done: OnDone | None) -> list[TrialResult]:
        bar = progress.add_task(f"{tasks[0].phase.split('-')[-1]} trials", total=len(tasks))

        def done(result: TrialResult) -> None:
            progress.advance(bar)
            if on_done is not None:
                on_done(result)

        return execute(tasks, done)

    return run


@contextlib.contextmanager
def executor(base: Base, output: Path, options: Mapping[str, Any]) -> Iterator[Executor]:
    """The local pool, or Dask (``--cluster local`` / ``--scheduler``) with the history
    scattered to the workers once."""
    workers = int(options.get("workers") or 2)
    if not (options.get("cluster") or options.get("scheduler")):
        yield lambda tasks, on_done: run_local(
            tasks, base.data_dir, output, workers=workers, on_done=on_done
        )
        return
    from kalshi_core.backtest import distributed  # noqa: PLC0415 - the optional extra

    payload = distributed.pack_history(Path(base.data_dir), base.data_sets)
    with distributed.dask_client(options.get("scheduler"), workers) as client:
        yield lambda tasks, on_done: distributed.run_on_dask(
            client, tasks, payload, output, on_done
        )


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )


def _fail(error: KalshiCoreError) -> None:
    click.echo(f"Error: {error}", err=True)
    sys.exit(EXIT_CONFIG)


def _window(options: Mapping[str, Any]) -> tuple[datetime, datetime]:
    start: datetime = options["start"]  # both required: click refuses a command without them
    end: datetime = options["end"]
    return start.replace(tzinfo=UTC), end.replace(tzinfo=UTC)


@click.command()
@data_options
@space_options
@click.option(
    "--holdout-days",
    type=click.IntRange(min=0),
    default=0,
    help="Last days of the window kept out of the ranking, to re-check the best on.",
)
@click.option(
    "--windows",
    type=click.IntRange(min=1),
    default=4,
    help="Walk-forward windows the in-sample days are cut into (ranked by median).",
)
@click.option("--top", type=click.IntRange(min=0), default=3, help="How many to re-check.")
@click.option("--blocks", type=click.IntRange(min=2), default=8, help="CSCV blocks (even).")
def sweep(**options: Any) -> None:
    """Sweep settings over recorded history: rank trials, re-check the best, PBO."""
    try:
        base = build_base(options)
        start, end = _window(options)
        space = space_from(options)
        plan = SweepPlan(
            space=space,
            base=base,
            start=start,
            end=end,
            holdout_days=options["holdout_days"],
            windows=options["windows"],
            top=options["top"],
            blocks=options["blocks"],
        )
        check_tasks(plan.in_sample_tasks(), base.data_dir)
        output = Path(options["output"])
        with _progress() as progress, executor(base, output, options) as execute:
            result = run_sweep(plan, _tracked(execute, progress))
    except KalshiCoreError as error:
        _fail(error)
    (output / "sweep.json").write_text(to_json(result), encoding="utf-8")
    Console().print(sweep_table(result))
    click.echo(overfitting_line(result["overfitting"]))
    click.echo(f"results: {output / 'sweep.json'}")


def sweep_table(result: Mapping[str, Any], rows: int = 10) -> Table:
    table = Table(title="trials by median window net P&L ($)")
    for column in ("rank", "trial", "params", "median window", "net", "orders", "held-out"):
        table.add_column(column)
    held = {row["trial"]: row for row in result["rechecked"]}
    for row in result["trials"][:rows]:
        recheck = held.get(row["trial"])
        table.add_row(
            str(row["rank"]),
            row["trial"],
            short_params(row["params"]),
            f"{dollars(row['median_window_net']):.2f}",
            f"{dollars(row['net']):.2f}",
            str(row["orders"]) if not row["error"] else f"failed: {row['error']}",
            f"{dollars(recheck['net']):.2f}" if recheck else "",
        )
    return table


def short_params(params: Mapping[str, Any]) -> str:
    """``min_edge_cents=3 kelly_fraction=0.1``: each key's last part, unless two share it."""
    last = [key.rsplit(".", 1)[-1] for key in params]
    names = last if len(set(last)) == len(last) else list(params)
    return " ".join(f"{name}={value}" for name, value in zip(names, params.values(), strict=True))


def overfitting_line(figure: Mapping[str, Any]) -> str:
    if figure.get("pbo") is None:
        return f"probability of backtest overfitting: n/a ({figure.get('reason')})"
    return (
        f"probability of backtest overfitting (CSCV, {figure['blocks']} blocks, "
        f"{figure['combinations']} splits): {figure['pbo']:.2f}; "
        f"in-sample best lost out of sample in {figure['probability_of_loss']:.0%} of splits"
    )


@click.command("walk-forward")
@data_options
@space_options
@click.option("--train-days", type=click.FloatRange(min=0, min_open=True), required=True)
@click.option("--test-days", type=click.FloatRange(min=0, min_open=True), required=True)
@click.option(
    "--step-days",
    type=click.FloatRange(min=0),
    default=0.0,
    help="How far each window moves on (default: the test length).",
)
@click.option(
    "--windows",
    type=click.IntRange(min=1),
    default=2,
    help="Sub-windows of a train span that the choice's median runs over.",
)
@click.option(
    "--fit",
    is_flag=True,
    help="Refit the calibrated forecaster's curve on each train window first.",
)
def walk_forward(**options: Any) -> None:
    """Choose settings on each train window, test them on the next, roll; report all."""
    try:
        base = build_base(options)
        start, end = _window(options)
        space = space_from(options)
        plan = WalkForwardPlan(
            space=space,
            base=base,
            start=start,
            end=end,
            train_days=options["train_days"],
            test_days=options["test_days"],
            step_days=options["step_days"],
            windows=options["windows"],
        )
        check_tasks(plan.train_tasks(plan.rolling()[0]), base.data_dir)
        output = Path(options["output"])
        with _progress() as progress, executor(base, output, options) as execute:
            curves = output / "curves" if options["fit"] else None
            result = run_walk_forward(plan, _tracked(execute, progress), fit_into=curves)
    except KalshiCoreError as error:
        _fail(error)
    (output / "walk-forward.json").write_text(to_json(result), encoding="utf-8")
    Console().print(walk_forward_table(result))
    click.echo(f"results: {output / 'walk-forward.json'}")


def walk_forward_table(result: Mapping[str, Any]) -> Table:
    table = Table(title="walk-forward: chosen on train, tested on the next window ($)")
    for column in ("window", "train", "test", "chosen", "train median", "test net"):
        table.add_column(column)
    for row in result["windows"]:
        table.add_row(
            str(row["window"]),
            f"{row['train_from'][:16]} .. {row['train_to'][:16]}",
            f"{row['test_from'][:16]} .. {row['test_to'][:16]}",
            short_params(row["params"]),
            f"{dollars(row['train_median_window_net']):.2f}",
            f"{dollars(row['test_net']):.2f}",
        )
    aggregate = result["aggregate"]
    interval = aggregate["mean_daily_net"]
    ci = (
        f"mean/day {dollars(interval['estimate']):.2f} "
        f"[{dollars(interval['low']):.2f}, {dollars(interval['high']):.2f}]"
        if interval
        else ""
    )
    table.add_row(
        "all",
        "",
        f"{aggregate['test_days']} days",
        "",
        "",
        f"{dollars(aggregate['test_net']):.2f} {ci}",
    )
    return table


@click.command("check-lookahead")
@data_options
@click.option(
    "--cuts",
    type=click.IntRange(min=1),
    default=3,
    help="How many cut points, spread evenly over the window.",
)
def check_lookahead(**options: Any) -> None:
    """Re-run truncated copies of the history; report any decision that changed (exit 1)."""
    try:
        base = build_base(options)
        start, end = _window(options)
        report = lookahead.check(base, start, end, Path(options["output"]), cuts=options["cuts"])
    except KalshiCoreError as error:
        _fail(error)
    for line in report.lines():
        click.echo(line)
    if report.biased:
        sys.exit(1)


@hookimpl
def register_commands(cli: click.Group) -> None:
    for command in (sweep, walk_forward, check_lookahead):
        cli.add_command(command)
