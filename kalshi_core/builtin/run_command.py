"""Built-in command ``kalshi-core run``: the trading loop, paper by default."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from datetime import UTC, datetime

import click
from rich.console import Console
from rich.live import Live
from rich.table import Table

from kalshi_core.builtin.calibrated_forecaster import active_curve_warning
from kalshi_core.cli import EXIT_CONFIG, FiniteFloat, current_app, settings_options
from kalshi_core.dashboard.serve import serve_for_run
from kalshi_core.engine.report import SessionReport
from kalshi_core.engine.session import (
    Session,
    SessionOptions,
    Tally,
    live_guard,
)
from kalshi_core.errors import KalshiCoreError
from kalshi_core.hookspecs import hookimpl
from kalshi_core.money import format_dollars
from kalshi_core.venues.base import VenueRun
from kalshi_core.venues.guard import LIVE_FLAG

RECORDED_TIME = click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"])


def as_utc(when: datetime | None) -> datetime | None:
    """A command line's time, which is recorded (UTC) time."""
    return None if when is None else when.replace(tzinfo=UTC)


def summary(tally: Tally, venue: VenueRun) -> Table:
    """The live summary: cycle, simulated time, markets, orders, fills, exposure, cash."""
    table = Table(title=f"kalshi-core run: {venue.description}", show_header=False)
    last = tally.last
    portfolio = last.portfolio if last else None
    rows = [
        ("cycle", str(tally.cycles)),
        ("time", venue.clock.now().strftime("%Y-%m-%d %H:%M UTC")),
        ("markets open", str(last.markets if last else 0)),
        ("forecasts (total)", str(tally.forecasts)),
        ("orders placed / rejected", f"{tally.placed} / {tally.rejected}"),
        ("fills this cycle", str(last.fills if last else 0)),
        ("cash", f"${format_dollars(portfolio.cash)}" if portfolio else "-"),
        ("exposure", f"${format_dollars(portfolio.positions_value)}" if portfolio else "-"),
        ("kill switch", "TRIPPED" if last and last.kill_switch else "armed"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def _progress(live: Live | None) -> Callable[[Tally, VenueRun], None]:
    """The live summary on a terminal; otherwise a progress line every 25 cycles."""
    if live is not None:
        return lambda tally, venue: live.update(summary(tally, venue), refresh=True)

    def plain(tally: Tally, venue: VenueRun) -> None:
        if tally.cycles % 25 == 1:
            when = venue.clock.now()
            click.echo(
                f"cycle {tally.cycles} at {when:%Y-%m-%d %H:%M}: "
                f"{tally.placed} orders placed so far"
            )

    return plain


@click.command()
@settings_options
@click.option("--cycles", type=click.IntRange(min=1), help="Stop after N cycles.")
@click.option("--duration", type=FiniteFloat(min=0), help="Stop after SECONDS of wall time.")
@click.option(
    "--speed",
    type=FiniteFloat(min=0),
    help="Pace the display: recorded seconds per wall second (default run.speed; 0 = as fast "
    "as possible). The results do not depend on it.",
)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="Folder of recorded history data sets (default exchange.data_dir, else the bundled).",
)
@click.option(
    "--data-set",
    "data_sets",
    multiple=True,
    help="Data set of that folder to replay (repeat; default: every set in --data).",
)
@click.option(
    "--from",
    "start",
    type=RECORDED_TIME,
    help="Replay recorded history from this UTC time (YYYY-MM-DD or YYYY-MM-DDTHH:MM).",
)
@click.option(
    "--to", "end", type=RECORDED_TIME, help="Replay recorded history up to this UTC time."
)
@click.option("--run-id", default="", help="Name this run (default: derived from the command).")
@click.option(
    LIVE_FLAG,
    "confirm_live",
    is_flag=True,
    help="Required, with mode = 'live', to trade real money.",
)
def run(
    *,
    cycles: int | None,
    duration: float | None,
    speed: float | None,
    confirm_live: bool,
    data_dir: str | None,
    data_sets: tuple[str, ...],
    run_id: str,
    start: datetime | None,
    end: datetime | None,
    **_: str | None,
) -> None:
    """Trade: paper-trade the bundled history on the local exchange by default.

    Ctrl-C (or SIGTERM) finishes the current cycle, settles every order whose state is
    unknown, prints the session report and exits.
    """
    options = SessionOptions(
        cycles=cycles,
        duration=duration,
        speed=speed,
        confirm_live=confirm_live,
        data_dir=data_dir or "",
        data_sets=data_sets,
        run_id=run_id,
        start=as_utc(start),
        end=as_utc(end),
    )
    session, report = _run_session(options)
    click.echo("\n".join(report.lines()))
    warning = active_curve_warning(current_app())
    if warning is not None:
        click.echo(f"WARNING: {warning}")
    if session.storage_failure:  # the report stands, but the run did not end well
        sys.exit(1)


def _run_session(options: SessionOptions) -> tuple[Session, SessionReport]:
    """The session, with the live summary on a terminal; a user error exits 2 in one line."""
    console = Console()
    live = Live(console=console, auto_refresh=False) if console.is_terminal else None
    session = Session(current_app(), options, on_cycle=_progress(live), companion=serve_for_run)
    try:
        plan = live_guard(current_app(), options).plan
        if plan:
            click.echo(f"About to start {plan}. Ctrl-C stops after the current cycle.")
        if live is not None:
            live.start()
        report = asyncio.run(session.run())
        click.echo(f"run id: {session.run_id}")
    except KalshiCoreError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_CONFIG)
    finally:
        if live is not None:
            live.stop()
    return session, report


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(run)
