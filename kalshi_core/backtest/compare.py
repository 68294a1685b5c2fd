"""Two backtests side by side (``kalshi-core backtest compare A B``).

Where both results hold the samples behind a figure, the difference B - A gets a paired
bootstrap interval: net P&L resampled by event (each event's P&L in B less its P&L in A),
Sharpe and Sortino by day. Other figures show each side's own interval and the plain
difference, without an interval of their own.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from kalshi_core.backtest import metrics
from kalshi_core.backtest.results import (
    SCHEMA_VERSION,
    dollars,
    edge_wording,
    interval_of,
    money_text,
)
from kalshi_core.errors import ConfigError
from kalshi_core.stats import DEFAULT_RESAMPLES, Interval

RESULTS_FILE = "results.json"


def load_results(path: Path) -> dict[str, Any]:
    """A ``results.json`` (or an output folder holding one), checked for its schema version."""
    file = path / RESULTS_FILE if path.is_dir() else path
    try:
        document: Any = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no {RESULTS_FILE} there (give an output folder or the file)"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"{file}: not a backtest results file ({error})") from None
    version = document.get("schema_version") if isinstance(document, dict) else None
    if version != SCHEMA_VERSION:
        raise ConfigError(
            f"{file}: schema_version {version!r}, this kalshi-core reads {SCHEMA_VERSION}"
        )
    found: dict[str, Any] = document
    return found


@attrs.frozen(kw_only=True)
class Row:
    """One figure of both runs, their difference and its interval where there is one."""

    name: str
    a: str
    b: str
    difference: str
    interval: str
    reading: str


Getter = Callable[[Mapping[str, Any]], Any]


def _at(*keys: str) -> Getter:
    def get(document: Mapping[str, Any]) -> Any:
        value: Any = document
        for key in keys:
            value = value.get(key) if isinstance(value, Mapping) else None
        return value

    return get


def _number(value: Any) -> str:
    return "-" if value is None else f"{value:.4g}"


def _money(value: Any) -> str:
    return "-" if value is None else dollars(int(value))


def _own(found: Any, show: Callable[[Any], str]) -> str:
    if not isinstance(found, Mapping):
        return ""
    return f" [{show(found['low'])}, {show(found['high'])}]"


FIGURES: tuple[tuple[str, Getter, Getter | None, Callable[[Any], str]], ...] = (
    ("net P&L", _at("pnl", "net"), _at("pnl", "net_interval"), _money),
    ("realised P&L", _at("pnl", "realised"), None, _money),
    ("unrealised P&L", _at("pnl", "unrealised"), None, _money),
    ("fees", _at("pnl", "fees"), None, _money),
    ("ROI", _at("pnl", "roi"), _at("pnl", "roi_interval"), _number),
    ("win rate", _at("pnl", "win_rate"), _at("pnl", "win_rate_interval"), _number),
    ("profit factor", _at("pnl", "profit_factor"), _at("pnl", "profit_factor_interval"), _number),
    ("Sharpe", _at("returns", "sharpe"), _at("returns", "sharpe_interval"), _number),
    ("Sortino", _at("returns", "sortino"), _at("returns", "sortino_interval"), _number),
    ("max drawdown", _at("drawdown", "max"), None, _money),
    ("average exposure", _at("exposure", "average"), None, _money),
    ("turnover", _at("exposure", "turnover"), None, _number),
    (
        "Brier (forecasts)",
        _at("forecasts", "brier", "forecasts"),
        _at("forecasts", "brier", "forecasts_interval"),
        _number,
    ),
    (
        "Brier less market's",
        _at("forecasts", "brier", "difference"),
        _at("forecasts", "brier", "difference_interval"),
        _number,
    ),
    (
        "log loss (forecasts)",
        _at("forecasts", "log_loss", "forecasts"),
        _at("forecasts", "log_loss", "forecasts_interval"),
        _number,
    ),
    ("fills", _at("session", "fills_stored"), None, _number),
)


def _difference(a: Any, b: Any, show: Callable[[Any], str]) -> str:
    if not isinstance(a, int | float) or not isinstance(b, int | float):
        return "-"
    return show(b - a)


def compare_rows(
    a: Mapping[str, Any], b: Mapping[str, Any], *, resamples: int = DEFAULT_RESAMPLES
) -> list[Row]:
    """Every figure of ``a`` and ``b``; paired intervals on net P&L, Sharpe and Sortino."""
    paired = paired_intervals(a, b, resamples=resamples)
    rows = []
    for name, value, interval, show in FIGURES:
        found = paired.get(name)
        shown = money_text if show is _money else "{:.4g}".format
        rows.append(
            Row(
                name=name,
                a=show(value(a)) + (_own(interval(a), show) if interval else ""),
                b=show(value(b)) + (_own(interval(b), show) if interval else ""),
                difference=_difference(value(a), value(b), show),
                interval="" if found is None else f"[{shown(found.low)}, {shown(found.high)}]",
                reading=edge_wording(f"B - A {name}", found, show=shown) if name in paired else "",
            )
        )
    return rows


def paired_intervals(
    a: Mapping[str, Any], b: Mapping[str, Any], *, resamples: int
) -> dict[str, Interval | None]:
    """Intervals of B - A from the samples both results keep (events' P&L, days' returns)."""
    events = _paired(_event_pnl(a), _event_pnl(b))
    days = _paired(_day_returns(a), _day_returns(b))
    options: dict[str, Any] = {"seed": 0, "resamples": resamples}

    def column(score: Callable[[Sequence[float]], float]) -> Callable[[Sequence[Any]], float]:
        return lambda rows: score([r[2] for r in rows]) - score([r[1] for r in rows])

    return {
        "net P&L": interval_of(
            events, lambda rows: sum(r[2] - r[1] for r in rows), _key, **options
        ),
        "Sharpe": interval_of(days, column(metrics.sharpe), _key, **options),
        "Sortino": interval_of(days, column(metrics.sortino), _key, **options),
    }


def _key(row: tuple[str, float, float]) -> str:
    return row[0]


def _event_pnl(document: Mapping[str, Any]) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for market in document.get("markets") or ():
        totals[str(market["event"])] += market["pnl"]
    return totals


def _day_returns(document: Mapping[str, Any]) -> dict[str, float]:
    daily = _at("returns", "daily")(document) or ()
    return {str(d["day"]): d["return"] for d in daily if d.get("return") is not None}


def _paired(a: Mapping[str, float], b: Mapping[str, float]) -> list[tuple[str, float, float]]:
    """Every key of either side; a key one side lacks counts 0 there (no trade, no move)."""
    keys = sorted(set(a) | set(b))
    return [(k, a.get(k, 0.0), b.get(k, 0.0)) for k in keys if not _nan(a.get(k), b.get(k))]


def _nan(*values: float | None) -> bool:
    return any(v is not None and math.isnan(v) for v in values)
