"""Built-in command ``kalshi-core exchange serve``: the local Kalshi exchange on loopback.

It replays the bundled recorded history (or ``--data DIR``) at ``--speed``, prints the base
URL, the dev account's API key id and the path of that key's private PEM, then keeps one
progress line up to date (simulated time, markets open, events applied) until Ctrl-C.

Settings come from ``[exchange]`` (host, port, speed, data_sets from the core; the keys below
from this plugin); command-line options override them.
"""

from __future__ import annotations

import asyncio
from typing import Any

import click

from kalshi_core.cli import FiniteFloat, UserError, current_app
from kalshi_core.clock import PacedClock, ReplayClock
from kalshi_core.errors import KalshiCoreError
from kalshi_core.exchange.config import DEFAULTS, RULES, SECTION, build_exchange, pick
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.hookspecs import hookimpl


@hookimpl
def register_settings(register: Any) -> None:
    register(SECTION, DEFAULTS, RULES)


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(exchange)


def progress_line(ex: LocalExchange) -> str:
    state = ex.progress()
    done = "finished" if state.finished else f"{state.events_applied}/{state.events_total}"
    return (
        f"\r{state.now:%Y-%m-%d %H:%M:%S}Z  markets open {state.markets_open:>4}  events {done}   "
    )


def _announce(ex: LocalExchange) -> None:
    click.echo(f"base URL           {ex.base_url}")
    if ex.stepped_time is not None:
        click.echo("clock              stepped: kalshi-core run (kalshi.base_url) steps it")
    elif isinstance(ex.clock, PacedClock) and not isinstance(ex.clock.pace, ReplayClock):
        click.echo("time               present: recorded history shifted to now, wall clock")
    click.echo(f"API key id         {ex.api_key_id}")
    click.echo(f"private key (PEM)  {ex.private_key_path}")
    click.echo("Ctrl-C stops the exchange.")


RATE = FiniteFloat(0, 1)  # a fault's share of requests (exchange.faults.rate_*)


@click.group()
def exchange() -> None:
    """The local Kalshi exchange."""


@exchange.command("serve")
@click.option("--host", default=None, help="127.0.0.1, ::1 or localhost.")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="0 = a free port.")
@click.option(
    "--speed",
    type=FiniteFloat(min=0, min_open=True, max=1_000_000),
    default=None,
    help="Recorded seconds per real second.",
)
@click.option("--data", type=click.Path(file_okay=False), default=None, help="History dir.")
@click.option("--data-set", "data_sets", multiple=True, help="Data set to replay (repeat).")
@click.option(
    "--seed", type=click.IntRange(min=0), default=None, help="Seed for liquidity and faults."
)
@click.option(
    "--clock",
    type=click.Choice(["replay", "stepped"]),
    default=None,
    help="replay: recorded time runs at --speed; stepped: stands still until a client "
    "(kalshi-core run) steps it, cycle by cycle (default exchange.clock).",
)
@click.option(
    "--time",
    type=click.Choice(["recorded", "present"]),
    default=None,
    help="recorded: timestamps on recorded time; present: the history shifted to start now, "
    "on the wall clock at speed 1 (default exchange.time).",
)
@click.option("--key-dir", type=click.Path(file_okay=False), default=None, help="Dev key dir.")
@click.option(
    "--latency-ms", type=FiniteFloat(0, 60_000), default=None, help="Added to every request."
)
@click.option("--fault-429-rate", type=RATE, default=None, help="Share answered 429.")
@click.option("--fault-5xx-rate", type=RATE, default=None, help="Share answered 503.")
@click.option("--fault-timeout-rate", type=RATE, default=None, help="Share never answered.")
@click.option("--fault-drop-rate", type=RATE, default=None, help="Share dropped.")
@click.option("--paused/--not-paused", default=None, help="Start with trading paused.")
def serve(**options: Any) -> None:
    """Serve the local exchange on loopback, replaying recorded history."""
    app = current_app()
    section = app.section(SECTION)
    faults = {
        "latency_ms": options.pop("latency_ms"),
        "rate_429": options.pop("fault_429_rate"),
        "rate_5xx": options.pop("fault_5xx_rate"),
        "rate_timeout": options.pop("fault_timeout_rate"),
        "rate_drop": options.pop("fault_drop_rate"),
        "paused": options.pop("paused"),
    }
    try:
        ex = build_exchange(section, {**options, "faults": faults})
        asyncio.run(app.startup())
    except KalshiCoreError as exc:
        raise UserError(str(exc)) from exc
    try:
        ex.serve_forever(
            str(pick(options["host"], section, "host") or "127.0.0.1"),
            int(pick(options["port"], section, "port") or 0),
            on_ready=_announce,
            on_tick=lambda running: click.echo(progress_line(running), nl=False),
        )
    except KalshiCoreError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        asyncio.run(app.shutdown())
    click.echo("\nstopped")
