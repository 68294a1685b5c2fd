"""Built-in command ``kalshi-core exchange serve``: the local Kalshi exchange on loopback.

It replays the bundled recorded history (or ``--data DIR``) at ``--speed``, prints the base
URL, the dev account's API key id and the path of that key's private PEM, then keeps one
progress line up to date (simulated time, markets open, events applied) until Ctrl-C.

Settings come from ``[exchange]`` (host, port, speed, data_sets from the core; the keys below
from this plugin); command-line options override them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from kalshi_core.cli import current_app
from kalshi_core.errors import KalshiCoreError
from kalshi_core.exchange.faults import FaultSettings
from kalshi_core.exchange.local import BUNDLED_HISTORY, LocalExchange
from kalshi_core.hookspecs import hookimpl
from kalshi_core.money import DOLLAR
from kalshi_core.settings_rules import Rule

SECTION = "exchange"
NUMBER = (int, float)
DEFAULTS: dict[str, Any] = {
    "starting_balance_dollars": 10_000,
    "seed": 0,
    "max_skew_seconds": 60,
    "key_dir": "",
    "faults": {
        "latency_ms": 0,
        "rate_429": 0.0,
        "rate_5xx": 0.0,
        "rate_timeout": 0.0,
        "rate_drop": 0.0,
        "paused": False,
        "timeout_seconds": 60,
    },
}


def _rate(name: str, what: str) -> Rule:
    return Rule(
        key=f"exchange.faults.{name}",
        types=NUMBER,
        minimum=0,
        maximum=1,
        description=f"share of requests answered with {what}",
    )


RULES = [
    Rule(
        key="exchange.starting_balance_dollars",
        types=(int,),
        minimum=0,
        maximum=1_000_000_000,
        description="whole dollars the dev account starts with",
    ),
    Rule(key="exchange.seed", types=(int,), minimum=0, description="liquidity and fault seed"),
    Rule(
        key="exchange.max_skew_seconds",
        types=NUMBER,
        minimum=0,
        exclusive_minimum=True,
        maximum=3600,
        description="how far a request's signed timestamp may be from the wall clock",
    ),
    Rule(key="exchange.key_dir", types=(str,), description="dev API key folder; empty = default"),
    Rule(key="exchange.faults.latency_ms", types=NUMBER, minimum=0, maximum=60_000),
    _rate("rate_429", "429 too_many_requests"),
    _rate("rate_5xx", "503 service_unavailable"),
    _rate("rate_timeout", "no response (a client timeout)"),
    _rate("rate_drop", "a dropped connection"),
    Rule(key="exchange.faults.paused", types=(bool,), description="start with trading paused"),
    Rule(
        key="exchange.faults.timeout_seconds",
        types=NUMBER,
        minimum=0,
        exclusive_minimum=True,
        maximum=3600,
        description="how long a 'timeout' response is held back",
    ),
]


@hookimpl
def register_settings(register: Any) -> None:
    register(SECTION, DEFAULTS, RULES)


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(exchange)


def fault_settings(section: Mapping[str, Any], seed: int, **overrides: Any) -> FaultSettings:
    """``[exchange.faults]`` (plus command-line overrides that are not None)."""
    values = {
        **DEFAULTS["faults"],
        **section,
        **{k: v for k, v in overrides.items() if v is not None},
    }
    return FaultSettings(
        latency_ms=float(values["latency_ms"]),
        rate_429=float(values["rate_429"]),
        rate_5xx=float(values["rate_5xx"]),
        rate_timeout=float(values["rate_timeout"]),
        rate_drop=float(values["rate_drop"]),
        paused=bool(values["paused"]),
        seed=seed,
        timeout_seconds=float(values["timeout_seconds"]),
    )


def _pick(option: Any, section: Mapping[str, Any], key: str) -> Any:
    return option if option not in (None, ()) else section.get(key, DEFAULTS.get(key))


def build_exchange(section: Mapping[str, Any], options: Mapping[str, Any]) -> LocalExchange:
    """The exchange ``serve`` runs, from the ``[exchange]`` section and the options given."""
    seed = int(_pick(options.get("seed"), section, "seed"))
    data = options.get("data")
    key_dir = _pick(options.get("key_dir"), section, "key_dir")
    faults = fault_settings(section.get("faults") or {}, seed, **(options.get("faults") or {}))
    return LocalExchange.create(
        data_dir=Path(data) if data else BUNDLED_HISTORY,
        data_sets=list(_pick(options.get("data_sets"), section, "data_sets") or ()),
        speed=float(_pick(options.get("speed"), section, "speed")),
        seed=seed,
        key_dir=Path(key_dir) if key_dir else None,
        starting_balance=int(_pick(None, section, "starting_balance_dollars")) * DOLLAR,
        faults=faults,
        max_skew_seconds=float(_pick(None, section, "max_skew_seconds")),
    )


def progress_line(ex: LocalExchange) -> str:
    state = ex.progress()
    done = "finished" if state.finished else f"{state.events_applied}/{state.events_total}"
    return (
        f"\r{state.now:%Y-%m-%d %H:%M:%S}Z  markets open {state.markets_open:>4}  events {done}   "
    )


def _announce(ex: LocalExchange) -> None:
    click.echo(f"base URL           {ex.base_url}")
    click.echo(f"API key id         {ex.api_key_id}")
    click.echo(f"private key (PEM)  {ex.private_key_path}")
    click.echo("Ctrl-C stops the exchange.")


@click.group()
def exchange() -> None:
    """The local Kalshi exchange."""


@exchange.command("serve")
@click.option("--host", default=None, help="127.0.0.1, ::1 or localhost.")
@click.option("--port", type=int, default=None, help="0 = a free port.")
@click.option("--speed", type=float, default=None, help="Recorded seconds per real second.")
@click.option("--data", type=click.Path(file_okay=False), default=None, help="History dir.")
@click.option("--data-set", "data_sets", multiple=True, help="Data set to replay (repeat).")
@click.option("--seed", type=int, default=None, help="Seed for liquidity and faults.")
@click.option("--key-dir", type=click.Path(file_okay=False), default=None, help="Dev key dir.")
@click.option("--latency-ms", type=float, default=None, help="Added to every request.")
@click.option("--fault-429-rate", type=float, default=None, help="Share answered 429.")
@click.option("--fault-5xx-rate", type=float, default=None, help="Share answered 503.")
@click.option("--fault-timeout-rate", type=float, default=None, help="Share never answered.")
@click.option("--fault-drop-rate", type=float, default=None, help="Share dropped.")
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
        ex.serve_forever(
            str(_pick(options["host"], section, "host") or "127.0.0.1"),
            int(_pick(options["port"], section, "port") or 0),
            on_ready=_announce,
            on_tick=lambda running: click.echo(progress_line(running), nl=False),
        )
    except KalshiCoreError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("\nstopped")
