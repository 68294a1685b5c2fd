"""The local exchange's settings (``[exchange]``) and how an exchange is built from them:
shared by ``kalshi-core exchange serve`` and the ``paper`` venue that ``kalshi-core run`` uses."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kalshi_core.exchange.faults import FaultSettings
from kalshi_core.exchange.local import BUNDLED_HISTORY, LocalExchange
from kalshi_core.exchange.replay import sets_in
from kalshi_core.exchange.timeshift import TIME_MODES
from kalshi_core.money import DOLLAR
from kalshi_core.settings_rules import Rule

SECTION = "exchange"
NUMBER = (int, float)
DEFAULTS: dict[str, Any] = {
    "starting_balance_dollars": 10_000,
    "seed": 0,
    "max_skew_seconds": 60,
    "key_dir": "",
    "clock": "replay",
    "time": "recorded",
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
    Rule(
        key="exchange.clock",
        types=(str,),
        choices=("replay", "stepped"),
        description="replay: recorded time runs at exchange.speed; stepped: a client steps it",
    ),
    Rule(
        key="exchange.time",
        types=(str,),
        choices=TIME_MODES,
        description="recorded: timestamps on recorded time; present: the history shifted to "
        "start now, on the wall clock (speed 1)",
    ),
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


def pick(option: Any, section: Mapping[str, Any], key: str) -> Any:
    return option if option not in (None, ()) else section.get(key, DEFAULTS.get(key))


def _time_mode(section: Mapping[str, Any], options: Mapping[str, Any]) -> str:
    """``exchange.time``, except for an exchange a session steps (``kalshi-core run``), which
    stays on recorded time: its runs must repeat exactly."""
    return "recorded" if options.get("stepped") else str(pick(options.get("time"), section, "time"))


def build_exchange(section: Mapping[str, Any], options: Mapping[str, Any]) -> LocalExchange:
    """The exchange ``serve`` runs, from the ``[exchange]`` section and the options given.

    ``--data DIR`` without ``--data-set`` replays every data set in ``DIR``."""
    seed = int(pick(options.get("seed"), section, "seed"))
    data = options.get("data")
    sets = options.get("data_sets") or (sets_in(Path(data)) if data else None)
    key_dir = pick(options.get("key_dir"), section, "key_dir")
    faults = fault_settings(section.get("faults") or {}, seed, **(options.get("faults") or {}))
    data = data or section.get("data_dir")
    clock = pick(options.get("clock"), section, "clock")
    return LocalExchange.create(
        data_dir=Path(data) if data else BUNDLED_HISTORY,
        data_sets=list(pick(sets, section, "data_sets") or ()),
        speed=float(pick(options.get("speed"), section, "speed")),
        seed=seed,
        key_dir=Path(key_dir) if key_dir else None,
        starting_balance=int(pick(None, section, "starting_balance_dollars")) * DOLLAR,
        faults=faults,
        max_skew_seconds=float(pick(None, section, "max_skew_seconds")),
        stepped=bool(options.get("stepped")) or clock == "stepped",
        id_namespace=options.get("id_namespace"),
        window=options.get("window") or (None, None),
        fill_model=options.get("fill_model"),
        latency=options.get("latency"),
        time_mode=_time_mode(section, options),
    )
