"""Built-in command ``kalshi-core decisions``: why a run's markets were not traded.

Reads the database only (the run's stored decisions, verdicts, forecasts and the quotes the
forecasts saw); see :mod:`kalshi_core.engine.explain` for what each count means.
"""

from __future__ import annotations

import asyncio
import json
import sys

import click
from rich.console import Console
from rich.table import Table

from kalshi_core.cli import EXIT_CONFIG, current_app, settings_options
from kalshi_core.engine.explain import Explanation, explain_run, explanation_lines
from kalshi_core.engine.session import open_database
from kalshi_core.engine.units import usd
from kalshi_core.errors import KalshiCoreError
from kalshi_core.hookspecs import hookimpl


async def _explain(run_id: str | None) -> Explanation | None:
    app = current_app()
    database = await open_database(app)
    try:
        return await explain_run(database, run_id, app.section("validators.min_edge"))
    finally:
        await database.close()


def outcomes_table(ex: Explanation) -> Table:
    table = Table(title=f"why markets were not traded: run {ex.run_id} ({ex.decisions} decisions)")
    for column in ("outcome", "decisions", "example market", "example reason"):
        table.add_column(column, justify="right" if column == "decisions" else "left")
    for o in ex.outcomes:
        table.add_row(o.name, str(o.count), o.example_ticker, o.example_reason)
    return table


def edges_table(ex: Explanation) -> Table:
    below = len(ex.edges) - ex.cleared - ex.unproven
    table = Table(
        title=(
            f"edges against min_edge {usd(ex.min_edge)} + {float(ex.stderrs):g} x stderr: "
            f"{ex.cleared} cleared, {below} below, {ex.unproven} unproven (no stderr)"
        )
    )
    table.add_column("cents", justify="right")
    table.add_column("edge - threshold", justify="right")
    table.add_column("unproven: edge - min_edge", justify="right")
    table.add_column("")
    proven, unproven = ex.histogram(), ex.unproven_histogram()
    most = max((n + u for (_, n), (_, u) in zip(proven, unproven, strict=True)), default=0)
    for (label, count), (_, bare) in zip(proven, unproven, strict=True):
        bar = "#" * (count * 40 // most if most else 0)
        rest = "." * (bare * 40 // most if most else 0)
        table.add_row(label, str(count), str(bare), f"[green]{bar}[/]{rest}")
    return table


@click.command()
@settings_options
@click.option("--run-id", default=None, help="The run to explain (default: the latest).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def decisions(run_id: str | None, as_json: bool, **_: str | None) -> None:
    """Why markets were not traded: decisions counted by rejecting validator (with an
    example reason) and the forecasts' edges against the min_edge threshold."""
    try:
        explanation = asyncio.run(_explain(run_id))
    except KalshiCoreError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_CONFIG)
    if explanation is None or explanation.decisions == 0:
        where = f"run {run_id!r} has" if run_id else "this database has"
        click.echo(f"Error: {where} no stored decisions (see `kalshi-core run`)", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(explanation.as_dict(), indent=2, sort_keys=True))
        return
    console = Console()
    if not console.is_terminal:
        click.echo("\n".join(explanation_lines(explanation)))
        return
    console.print(outcomes_table(explanation))
    console.print(edges_table(explanation))


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(decisions)
