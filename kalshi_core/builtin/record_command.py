"""Built-in command ``kalshi-core record``: record the order-book feed into replayable history.

It subscribes to ``--market`` tickers, every market of ``--series`` and of ``--category`` (found
by REST listing), writes snapshots, deltas, prints, statuses and gaps into ``--out`` (one file
a day, docs/data.md), survives reconnects, and on exit (Ctrl-C, ``--duration``,
``--messages``) prints what it recorded. The connection is the ``kalshi.*`` client (the same
live guard as ``kalshi-core run``); ``--base-url`` points it at a ``kalshi-core exchange
serve``, whose dev key ``--key-dir`` finds when no ``kalshi.api_key_id`` is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from kalshi_core.app import App
from kalshi_core.builtin.kalshi_source import make_kalshi_client, make_signer
from kalshi_core.cli import EXIT_CONFIG, FiniteFloat, current_app, settings_options
from kalshi_core.client import KalshiClient, Signer
from kalshi_core.client.stream import KalshiStream, stream_url
from kalshi_core.clock import SystemClock
from kalshi_core.errors import ConfigError, KalshiCoreError
from kalshi_core.exchange.local import KEY_FILE, KEY_ID_FILE, default_key_dir
from kalshi_core.hookspecs import hookimpl
from kalshi_core.recording.format import RecordingWriter
from kalshi_core.recording.recorder import Backoff, Recorder, RecordStats, StopRule, resolve_tickers
from kalshi_core.venues.guard import LIVE_FLAG, LiveRequest, decide


def stats_table(stats: RecordStats) -> Table:
    """Markets with their snapshots, deltas, trades and gaps, and the totals."""
    table = Table(title=f"recorded {stats.messages} messages over {stats.connections} connections")
    for column in ("market", "snapshots", "deltas", "trades", "gaps"):
        table.add_column(column, justify="left" if column == "market" else "right")
    counters = (stats.snapshots, stats.deltas, stats.trades, stats.gaps)
    tickers = sorted(set().union(*counters))
    for ticker in tickers:
        table.add_row(ticker, *(str(c[ticker]) for c in counters))
    table.add_section()
    table.add_row("total", *(str(sum(c.values())) for c in counters))
    return table


def _signer(app: App, key_dir: str | None) -> Signer | None:
    signer = make_signer(app.section("kalshi"))
    if signer is not None:
        return signer
    folder = Path(key_dir) if key_dir else default_key_dir()
    if not (folder / KEY_FILE).is_file():
        return None
    return Signer.from_file((folder / KEY_ID_FILE).read_text().strip(), folder / KEY_FILE)


def _client(
    app: App, base_url: str | None, confirmed: bool, signer: Signer | None
) -> tuple[KalshiClient, bool, str]:
    """The REST client, whether it may leave this machine (the live guard), and its URL."""
    section = app.section("kalshi")
    url = base_url or str(section.get("base_url") or "")
    if not url:
        raise ConfigError("record needs an exchange: pass --base-url or set kalshi.base_url")
    decision = decide(
        LiveRequest(
            env=str(app.settings.current_env).lower(),
            mode=str(app.settings.get("mode", "paper")),
            base_url=url,
            confirmed=confirmed,
            has_credentials=signer is not None,
            api_key_id=signer.key_id if signer else "",
        )
    )
    if signer is None:
        raise ConfigError("record needs credentials: set kalshi.api_key_id and a private key")
    client = make_kalshi_client(
        section, base_url=url, allow_remote=decision.allow_remote, signer=signer
    )
    return client, decision.allow_remote, url


async def _record(app: App, options: dict[str, Any], made: list[Recorder]) -> None:
    signer = _signer(app, options["key_dir"])
    client, remote, url = _client(app, options["base_url"], options["confirm_live"], signer)
    assert signer is not None
    async with client:
        tickers = await _tickers(client, options)
        writer = RecordingWriter(Path(options["out"]))
        recorder = Recorder(
            client=client,
            connect=lambda: KalshiStream(stream_url(url), signer, allow_remote=remote),
            tickers=tickers,
            writer=writer,
            clock=SystemClock(),
            backoff=Backoff(),
            stop=StopRule(messages=options["messages"] or 0),
        )
        made.append(recorder)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(recorder.run(), timeout=options["duration"])


async def _tickers(client: KalshiClient, options: dict[str, Any]) -> list[str]:
    tickers = await resolve_tickers(
        client,
        markets=options["markets"],
        series=options["series"],
        categories=options["categories"],
    )
    if not tickers:
        raise ConfigError("nothing to record: give --market, --series or --category")
    return tickers


@click.command()
@settings_options
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Recording dir.")
@click.option("--market", "markets", multiple=True, help="Market ticker (repeat).")
@click.option("--series", "series", multiple=True, help="Every open market of a series.")
@click.option("--category", "categories", multiple=True, help="Every open market of a category.")
@click.option("--base-url", default=None, help="REST base URL (default kalshi.base_url).")
@click.option("--key-dir", default=None, help="A local exchange's dev key dir.")
@click.option(
    "--duration", type=FiniteFloat(min=0), default=None, help="Stop after this many seconds."
)
@click.option(
    "--messages", type=click.IntRange(min=1), default=None, help="Stop after this many messages."
)
@click.option(LIVE_FLAG, "confirm_live", is_flag=True, help="Required to record from Kalshi.")
def record(**options: Any) -> None:
    """Record order books, trades and market statuses into replayable history."""
    app = current_app()
    made: list[Recorder] = []
    try:
        asyncio.run(_record(app, options, made))
    except KeyboardInterrupt:
        click.echo("interrupted: the files hold every complete record", err=True)
    except KalshiCoreError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_CONFIG)
    for recorder in made:
        Console().print(stats_table(recorder.stats))
        click.echo(f"files ({len(recorder.writer.files)}):")
        for path in recorder.writer.files:
            click.echo(f"  {path}")


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(record)
