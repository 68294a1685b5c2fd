"""Built-in command ``kalshi-core backtest``: the engine on recorded history, and its reports.

``kalshi-core backtest --output DIR`` runs one backtest (:mod:`kalshi_core.backtest.runner`)
into a database of its own inside ``DIR`` and writes ``results.json`` and ``report.html``
there; ``kalshi-core backtest compare A B`` puts two of them side by side. Further
sub-commands (sweeps, walk-forward) join the same group: add them with
``backtest.add_command(...)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import shutil
import sys
import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from kalshi_core.backtest.compare import compare_rows, load_results
from kalshi_core.backtest.html_report import render
from kalshi_core.backtest.results import dollars, dumps, summarise
from kalshi_core.backtest.runner import (
    BacktestRun,
    BacktestSpec,
    backtest_app,
    parse_override,
    run_backtest,
)
from kalshi_core.builtin.run_command import RECORDED_TIME, as_utc
from kalshi_core.builtin.sweep_command import check_lookahead as lookahead_command
from kalshi_core.builtin.sweep_command import sweep, walk_forward
from kalshi_core.cli import EXIT_CONFIG, current_app, settings_options
from kalshi_core.engine.session import Tally
from kalshi_core.errors import ConfigError, KalshiCoreError
from kalshi_core.hookspecs import hookimpl
from kalshi_core.venues.base import LocalTime, OpenVenue, VenueRun

DATABASE_FILE = "backtest.sqlite3"
RESULTS_FILE = "results.json"
REPORT_FILE = "report.html"
#: The exit status of a backtest stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report
#: it). Unlike `run`, whose stop is a normal end, an interrupted backtest's figures cover only
#: part of the window: a script must not take them for the whole.
EXIT_INTERRUPTED = 130
INTERRUPTED = "interrupted"  # how the session's stopped_because begins after Ctrl-C / SIGTERM


class EventRate(ProgressColumn):
    """Recorded events applied per wall second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("- events/s" if speed is None else f"{speed:,.0f} events/s")


def replay_progress(venue: VenueRun) -> tuple[int, int] | None:
    """Events applied and in total, on a venue replaying history in this process."""
    if isinstance(venue, OpenVenue) and isinstance(venue.time, LocalTime):
        return venue.time.simulated.progress
    return None


@attrs.define
class Meter:
    """The progress bar's view of the replay: events applied of the total."""

    progress: Progress
    task: TaskID | None = None
    applied: int = 0
    total: int = 0
    reached: datetime | None = None  # the recorded time of the last cycle run

    def __call__(self, tally: Tally, venue: VenueRun) -> None:
        self.reached = venue.clock.now()
        found = replay_progress(venue)
        if found is None:
            return
        self.applied, self.total = found
        if self.task is None:
            self.task = self.progress.add_task("replaying", total=self.total)
        self.progress.update(self.task, completed=self.applied, total=self.total)


def progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        EventRate(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
    )


def default_database(output: Path) -> str:
    """The backtest's own SQLite file in ``output``: never the trading database."""
    return f"sqlite+aiosqlite:///{(output / DATABASE_FILE).resolve()}"


OWN_FILES = (DATABASE_FILE, RESULTS_FILE, REPORT_FILE)
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def nearest_existing(path: Path) -> Path:
    """``path``'s closest ancestor that exists, symbolic links resolved (the staging folder
    goes there: on the same file system as ``path``, and creating no folder the user named)."""
    for parent in path.resolve().parents:
        if parent.is_dir():
            return parent
    return Path.cwd()


def make_staging(output: Path) -> Path:
    """The staging folder: beside ``output``, else inside it when its parent is read-only.
    Made by mkdir, not mkdtemp: it may become ``output`` and keeps the umask's mode."""
    name = f".{output.resolve().name}.partial-{secrets.token_hex(6)}"
    try:
        staging = nearest_existing(output) / name
        staging.mkdir()
    except PermissionError:
        if not output.is_dir():
            raise
        staging = output / name
        staging.mkdir()
    return staging


@contextlib.contextmanager
def staging_folder(output: Path) -> Iterator[Path]:
    """A fresh hidden folder that the run writes into; removed on the way out whatever
    happened (a bad argument found late, a crash, a second Ctrl-C), so the previous backtest
    in ``output`` is only ever replaced by a finished one."""
    staging = make_staging(output)
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def publish(staging: Path, output: Path, own_database: bool) -> None:
    """Move the new run's files from ``staging`` into ``output``, replacing the previous
    backtest's (its database only when the run used the default file: one named by
    ``--database`` lives elsewhere and the old file here is left as it was)."""
    if not output.exists():
        output.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(output)
        return
    names = OWN_FILES if own_database else (RESULTS_FILE, REPORT_FILE)
    for name in names:
        if name == DATABASE_FILE:
            # a stale -wal beside a new database file would be replayed into it
            for suffix in SQLITE_SIDE_FILES:
                (output / (name + suffix)).unlink(missing_ok=True)
        if (staging / name).exists():
            os.replace(staging / name, output / name)
        else:
            (output / name).unlink(missing_ok=True)


def build_spec(options: Mapping[str, Any], database_url: str) -> BacktestSpec:
    """The spec the command line describes (``--set`` values parsed, ``--seed`` as run.seed)."""
    overrides = dict(parse_override(text) for text in options["overrides"])
    if options["seed"] is not None:
        overrides["run.seed"] = options["seed"]
    root = click.get_current_context().find_root().params
    app = current_app()
    return BacktestSpec(
        database_url=database_url,
        data_dir=options["data_dir"] or "",
        data_sets=tuple(options["data_sets"]),
        start=as_utc(options["start"]),
        end=as_utc(options["end"]),
        strategies=tuple(options["strategies"]),
        overrides=overrides,
        settings_file=str(app.settings_file) if app.settings_file else None,
        env=options.get("_env") or root.get("env"),
    )


@attrs.frozen(kw_only=True)
class Outcome:
    run: BacktestRun
    results: dict[str, Any]
    events: int
    seconds: float
    reached: datetime | None = None

    @property
    def interrupted(self) -> bool:
        """Stopped by Ctrl-C / SIGTERM: the figures cover only part of the window."""
        return self.run.report.stopped_because.startswith(INTERRUPTED)


def execute(spec: BacktestSpec, console: Console) -> Outcome:
    """Run the backtest under a progress bar, then compute its results."""
    with progress_bar(console) as progress:
        meter = Meter(progress)
        started = time.monotonic()  # wall time for the terminal only; no result depends on it
        # the command's own check (backtest_app) already reported unknown keys
        run = asyncio.run(run_backtest(spec, meter, warn_unknown=False))
        seconds = time.monotonic() - started
    with console.status("computing results (bootstrap intervals)"):
        # the document as results.json holds it (non-finite figures null), for every reader
        results = json.loads(dumps(asyncio.run(summarise(run))))
    return Outcome(
        run=run, results=results, events=meter.applied, seconds=seconds, reached=meter.reached
    )


def write_reports(output: Path, results: Mapping[str, Any]) -> tuple[Path, Path]:
    json_path, html_path = output / RESULTS_FILE, output / REPORT_FILE
    json_path.write_text(dumps(results), encoding="utf-8")
    html_path.write_text(render(results), encoding="utf-8")
    return json_path, html_path


def summary_table(results: Mapping[str, Any]) -> Table:
    """The concise end-of-run summary."""
    pnl, returns, draw = results["pnl"], results["returns"], results["drawdown"]
    brier = results["forecasts"]["brier"]
    table = Table(title=f"backtest {results['run']['run_id']}", show_header=False)
    rows = [
        (
            "net P&L",
            f"{dollars(pnl['net'])} (realised {dollars(pnl['realised'])}, "
            f"unrealised {dollars(pnl['unrealised'])}, fees {dollars(pnl['fees'])})",
        ),
        (
            "markets traded",
            f"{pnl['markets_traded']} ({pnl['markets_open_at_end']} open at "
            "the end, marked at the last recorded price)",
        ),
        (
            "win rate / profit factor",
            f"{_fmt(pnl['win_rate'], '{:.1%}')} / {_fmt(pnl['profit_factor'])}",
        ),
        ("Sharpe / Sortino", f"{_fmt(returns['sharpe'])} / {_fmt(returns['sortino'])}"),
        ("max drawdown", f"{dollars(draw['max'])} ({_fmt(draw['max_fraction'], '{:.2%}')})"),
        ("Brier forecasts / market", f"{_fmt(brier['forecasts'])} / {_fmt(brier['market'])}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def _fmt(value: Any, pattern: str = "{:.3g}") -> str:
    return "-" if value is None else pattern.format(value)


def verdicts(results: Mapping[str, Any]) -> list[str]:
    return [
        results["pnl"]["verdict"],
        results["returns"]["verdict"],
        results["forecasts"]["brier"]["verdict"],
    ]


#: One line per order and per migration step would bury the progress bar; the audit trail
#: is in the backtest's database all the same.
QUIET_LOGGERS = ("kalshi_core.audit", "kalshi_core.alerts", "alembic")


@contextlib.contextmanager
def quiet_logs() -> Iterator[None]:
    """Audit and alert lines at WARNING and above while the progress bar runs; the levels
    are put back afterwards (the command may run inside a longer-lived process)."""
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(max(logger.getEffectiveLevel(), logging.WARNING))
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def fail(error: Exception) -> None:
    """A user's mistake: one line, exit 2, nothing written."""
    click.echo(f"Error: {error}", err=True)
    sys.exit(EXIT_CONFIG)


@click.group(invoke_without_command=True)
@settings_options
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, exists=True),
    help="Folder of recorded history data sets (default exchange.data_dir, else the bundled).",
)
@click.option("--data-set", "data_sets", multiple=True, help="Data set to replay (repeat).")
@click.option("--from", "start", type=RECORDED_TIME, help="Window start, UTC (YYYY-MM-DD[THH:MM]).")
@click.option("--to", "end", type=RECORDED_TIME, help="Window end, UTC (YYYY-MM-DD[THH:MM]).")
@click.option("--strategy", "strategies", multiple=True, help="Strategy to run (repeat).")
@click.option(
    "--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a setting (TOML)."
)
@click.option("--seed", type=int, help="run.seed: the venue's random choices.")
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for results.json, report.html and the backtest's own database.",
)
@click.option(
    "--database", "database_url", help=f"Database URL (default: {DATABASE_FILE} in --output)."
)
@click.option(
    "--check-lookahead",
    is_flag=True,
    help="Instead of the backtest: re-run truncated copies of the window and report any "
    "decision that changed (exit 1 on a look-ahead bias; see `backtest check-lookahead`).",
)
@click.pass_context
def backtest(
    ctx: click.Context,
    /,
    output: Path | None,
    database_url: str | None,
    check_lookahead: bool,
    **options: Any,
) -> None:
    """Backtest: the engine on recorded history; writes results.json and report.html.

    Sub-commands: compare, sweep, walk-forward, check-lookahead.
    """
    if ctx.invoked_subcommand is not None:
        return
    if output is None:
        raise click.UsageError("--output DIR is required: results.json and report.html go there")
    if check_lookahead:
        run_lookahead_check(ctx, output, options)
        return
    try:
        spec = build_spec(options, database_url or default_database(output))
        backtest_app(spec)  # a bad --set or --strategy is refused before anything is touched
        check_window(spec)
        outcome = run_into(output, spec, own_database=not database_url)
    except (KalshiCoreError, OSError) as error:
        fail(error)
    except KeyboardInterrupt:  # a second Ctrl-C, while the results were computed
        click.echo(
            f"Error: interrupted before the results were written; {output} is as it was",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)
    finish(outcome, (output / RESULTS_FILE, output / REPORT_FILE))
    if outcome.interrupted:
        sys.exit(EXIT_INTERRUPTED)


def run_into(output: Path, spec: BacktestSpec, own_database: bool) -> Outcome:
    """Run the backtest in a staging folder and publish it into ``output`` once its reports
    are written: whatever stops it earlier leaves ``output`` as it was."""
    with staging_folder(output) as staging:
        if own_database:
            spec = attrs.evolve(spec, database_url=default_database(staging))
        with quiet_logs():
            outcome = execute(spec, Console(stderr=True))
        write_reports(staging, outcome.results)
        publish(staging, output, own_database=own_database)
    return outcome


def check_window(spec: BacktestSpec) -> None:
    """An inverted window, refused before any folder is made (an empty one, or an unknown
    data set, is found when the history loads: inside the staging folder, then removed)."""
    if spec.start is not None and spec.end is not None and spec.start >= spec.end:
        raise ConfigError(f"the window's start {spec.start:%Y-%m-%d %H:%M} is not before its end")


def run_lookahead_check(ctx: click.Context, output: Path, options: Mapping[str, Any]) -> None:
    """``--check-lookahead``: the same history, window and settings, checked for look-ahead."""
    if options.get("start") is None or options.get("end") is None:
        raise click.UsageError("--check-lookahead needs a window: --from and --to")
    shared = ("data_dir", "data_sets", "start", "end", "strategies", "overrides")
    ctx.invoke(lookahead_command, output=str(output), cuts=3, **{k: options.get(k) for k in shared})


def finish(outcome: Outcome, written: tuple[Path, Path]) -> None:
    console = Console()
    console.print(summary_table(outcome.results))
    for line in verdicts(outcome.results):
        console.print(f"  {line}", highlight=False)
    rate = outcome.events / outcome.seconds if outcome.seconds > 0 else 0.0
    console.print(
        f"{outcome.events:,} recorded events and {outcome.run.report.cycles:,} cycles in "
        f"{outcome.seconds:.1f} s ({rate:,.0f} events/s); "
        f"wrote {written[0]} and {written[1]}",
        highlight=False,
    )
    if outcome.interrupted:
        console.print(interrupted_line(outcome), highlight=False)


def interrupted_line(outcome: Outcome) -> str:
    """What an interrupted backtest's figures cover: the window only up to where it stopped."""
    reached = "before its first cycle"
    if outcome.reached is not None:
        reached = f"up to {outcome.reached:%Y-%m-%d %H:%M} UTC"
    end = outcome.results["run"].get("to")
    window = f"window ending {end}" if end else "recorded history"
    return (
        f"INTERRUPTED: this backtest covers the {window} only {reached}; every figure above "
        "is partial (results.json: session.stopped_because)"
    )


@backtest.command()
@click.argument("first", type=click.Path(exists=True, path_type=Path))
@click.argument("second", type=click.Path(exists=True, path_type=Path))
def compare(first: Path, second: Path) -> None:
    """Two backtests side by side: A and B are output folders or results.json files."""
    try:
        a, b = load_results(first), load_results(second)
    except KalshiCoreError as error:
        fail(error)
    table = Table(title=f"A = {a['run']['run_id']}   B = {b['run']['run_id']}")
    for column in ("figure", "A", "B", "B - A", "95% interval of B - A"):
        table.add_column(column)
    rows = compare_rows(a, b)
    for row in rows:
        table.add_row(row.name, row.a, row.b, row.difference, row.interval)
    console = Console()
    console.print(table)
    if not same_history(a, b):
        console.print(
            "  A and B replayed different data or windows: events and days are "
            "paired by name, and one missing on a side counts 0 there."
        )
    for row in rows:
        if row.reading:
            console.print(f"  {row.reading}", highlight=False)


def same_history(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    keys = ("data_sets", "from", "to")
    return all(a["run"].get(k) == b["run"].get(k) for k in keys)


for _command in (sweep, walk_forward, lookahead_command):
    backtest.add_command(_command)


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(backtest)
