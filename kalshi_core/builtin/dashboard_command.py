"""Built-in command ``kalshi-core dashboard``: the web dashboard over the database alone.

It shows what every run stored (several workers on one PostgreSQL included) and the backtest
reports; its controls are refused, since no engine is attached. ``kalshi-core run`` serves the
same dashboard with its engine attached when ``dashboard.enabled`` is set (docs/dashboard.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from typing import Any

import click

from kalshi_core.app import App
from kalshi_core.cli import EXIT_CONFIG, current_app, settings_options
from kalshi_core.dashboard.app import Dashboard
from kalshi_core.dashboard.serve import serve_dashboard
from kalshi_core.dashboard.settings import DashboardOptions
from kalshi_core.errors import KalshiCoreError
from kalshi_core.hookspecs import hookimpl
from kalshi_core.monitoring.session import model_budget
from kalshi_core.storage.database import Database


@click.command()
@settings_options
@click.option("--host", default=None, help="Address to serve on (default dashboard.host).")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=None, help="Port (default dashboard.port)."
)
@click.option(
    "--reports",
    "reports_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder of backtest outputs to list (default dashboard.reports_dir).",
)
def dashboard(
    *, host: str | None, port: int | None, reports_dir: str | None, **_: str | None
) -> None:
    """Serve the web dashboard over the database until Ctrl-C (read-only: no engine here)."""
    chosen = {"host": host, "port": port, "reports_dir": reports_dir}
    overrides = {key: value for key, value in chosen.items() if value is not None}
    try:
        asyncio.run(_serve(current_app(), overrides))
    except KalshiCoreError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_CONFIG)


async def _serve(app: App, overrides: dict[str, Any]) -> None:
    app.check()
    options = DashboardOptions.from_app(app, model_budget=model_budget(app), overrides=overrides)
    backends = {e.name: e.factory for e in app.registry("storage_backends")}
    section = app.section("database")
    database = await Database.open(section.get("url", ""), backends, section)
    try:
        board = Dashboard(database=database, options=options)
        async with serve_dashboard(board, required=True) as url:
            click.echo(f"dashboard at {url}/ (read-only; Ctrl-C stops)")
            await _until_interrupted()
    finally:
        await database.close()


async def _until_interrupted() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(dashboard)
