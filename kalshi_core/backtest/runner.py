"""One backtest: the engine on the ``simulated`` venue over a window of recorded history.

:func:`run_backtest` is what the ``backtest`` command, sweeps and walk-forward windows all
call: settings come from the usual layers plus the spec's overrides (``--set key=value``,
applied as a layer of their own and validated like every other), the venue is always the
in-process simulated one, and every row lands under the run's id in ``database_url``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import attrs

from kalshi_core.app import App
from kalshi_core.engine.report import SessionReport
from kalshi_core.engine.session import Session, SessionOptions, Tally
from kalshi_core.errors import ConfigError
from kalshi_core.settings_lists import override
from kalshi_core.venues.base import VenueRun

OVERRIDE_LAYER = "--set"
STRATEGY_LAYER = "--strategy"
BACKTEST_LAYER = "the backtest itself"  # run.venue, database.url: not the user's to set
# A backtest serves no /metrics endpoint: many may run at once on one machine.
BACKTEST_SETTINGS: Mapping[str, Any] = {"run.venue": "simulated", "monitoring.enabled": False}


@attrs.frozen(kw_only=True)
class BacktestSpec:
    """What a backtest is a function of, besides the settings files: data, window, overrides."""

    database_url: str
    data_dir: str = ""
    data_sets: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    strategies: tuple[str, ...] = ()
    overrides: Mapping[str, Any] = attrs.field(factory=dict)
    run_id: str = ""
    settings_file: str | None = None
    env: str | None = None


@attrs.frozen(kw_only=True)
class BacktestRun:
    run_id: str
    database_url: str
    report: SessionReport
    spec: BacktestSpec | None = None  # what it ran (the results read its data and window)


def parse_override(text: str) -> tuple[str, Any]:
    """``key=value`` with a TOML value (``0.05``, ``true``, ``["a", "b"]``; a bare word is a
    string). Raises ConfigError naming the argument."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ConfigError(f"--set {text!r}: expected key=value, e.g. risk.max_position_pct=0.02")
    try:
        return key, tomllib.loads(f"value = {raw.strip()}")["value"]
    except tomllib.TOMLDecodeError:
        return key, raw.strip()


def backtest_app(spec: BacktestSpec, *, warn_unknown: bool = True) -> App:
    """The App a backtest runs with: the settings layers, then the spec's, validated.

    Each value is recorded under the option that set it, so an error names ``--set`` or
    ``--strategy`` only when that option was given. ``warn_unknown=False``: unknown keys were
    already reported (the command checks before the run builds its own App).
    """
    app = App.create(settings_file=spec.settings_file, env=spec.env)
    layers: list[tuple[str, Mapping[str, Any]]] = [
        (OVERRIDE_LAYER, spec.overrides),
        (BACKTEST_LAYER, {**BACKTEST_SETTINGS, "database.url": spec.database_url}),
    ]
    if spec.strategies:
        layers.append((STRATEGY_LAYER, {"strategies.enabled": list(spec.strategies)}))
    for source, values in layers:
        for key, value in values.items():
            override(app.settings, key, value, source)
    app.check(warn_unknown=warn_unknown)
    return app


async def run_backtest(
    spec: BacktestSpec,
    on_cycle: Callable[[Tally, VenueRun], None] | None = None,
    *,
    warn_unknown: bool = True,
) -> BacktestRun:
    """Run the engine over the spec's history and return the run's id and report.
    ``warn_unknown=False``: the caller already reported unknown keys (``backtest_app``)."""
    app = backtest_app(spec, warn_unknown=warn_unknown)
    options = SessionOptions(
        data_dir=spec.data_dir,
        data_sets=spec.data_sets,
        start=spec.start,
        end=spec.end,
        run_id=spec.run_id,
    )
    session = Session(app, options, on_cycle=on_cycle or (lambda tally, venue: None))
    report = await session.run()
    return BacktestRun(
        run_id=session.run_id, database_url=spec.database_url, report=report, spec=spec
    )
