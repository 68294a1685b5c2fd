"""A finished backtest's figures as one document (``results.json``), and :func:`summarise`.

:func:`build_results` turns a run's records into a plain dict (schema ``SCHEMA_VERSION``,
documented in docs/backtesting.md and ``results.schema.json`` beside this module). Every
figure that can have one carries a percentile-bootstrap interval from
:mod:`kalshi_core.stats`, resampled by event (markets of one event resolve together) or by
day for daily-return figures, and a sentence that never calls a difference an edge when its
interval contains zero. :func:`dumps` writes it byte-for-byte reproducibly: sorted keys,
floats rounded to ``FLOAT_DIGITS`` decimals, no wall-clock time anywhere.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from kalshi_core.app import App
from kalshi_core.backtest import catalogue, metrics, rows
from kalshi_core.backtest.metrics import FillPnl, MarketPnl, Scored
from kalshi_core.backtest.records import FillRecord, MarketInfo, RunRecords, SettlementRecord
from kalshi_core.backtest.runner import BacktestRun, BacktestSpec, backtest_app
from kalshi_core.exchange.loaders.base import loaders_of
from kalshi_core.exchange.replay import History
from kalshi_core.money import CONTRACT, DOLLAR, Money, format_dollars
from kalshi_core.stats import DEFAULT_RESAMPLES, Interval, bootstrap, brier
from kalshi_core.storage.database import open_engine
from kalshi_core.venues.base import RunSpec
from kalshi_core.venues.simulated import history_dir, history_sets

SCHEMA_VERSION = 1
MIN_GROUPS = 5  # fewer independent groups than this: no interval, so no verdict
FLOAT_DIGITS = 6
MONEY_UNIT = "1/10000 USD"
COUNT_UNIT = "1/100 contract"
PRICE_BUCKETS = tuple(range(0, 100, 10))  # cents paid for the side bought
TIME_TO_CLOSE = ((3600, "< 1h"), (6 * 3600, "1-6h"), (24 * 3600, "6-24h"))

T = TypeVar("T")


def interval_of(
    samples: Sequence[T],
    statistic: Callable[[Sequence[T]], float],
    group_of: Callable[[T], Hashable],
    *,
    seed: int,
    resamples: int,
) -> Interval | None:
    """The bootstrap interval; None with fewer than ``MIN_GROUPS`` groups (a resample of one
    or two events says nothing about the next) or an undefined estimate."""
    if len({group_of(s) for s in samples}) < MIN_GROUPS or math.isnan(statistic(samples)):
        return None
    found = bootstrap(samples, statistic, group_of=group_of, resamples=resamples, seed=seed)
    if any(math.isnan(v) for v in (found.estimate, found.low, found.high)):
        return None
    return found


def interval_dict(found: Interval | None) -> dict[str, Any] | None:
    return None if found is None else found.as_dict()


def edge_wording(
    name: str,
    found: Interval | None,
    *,
    good: str = "above",
    against: float = 0.0,
    show: Callable[[float], str] = "{:.4g}".format,
) -> str:
    """A sentence on ``name``: only an interval wholly on one side of ``against`` is called an
    edge (``good`` says which side is better) or a loss."""
    if found is None:
        return f"{name}: no interval (fewer than {MIN_GROUPS} events or days), so no verdict"
    level = f"{found.level:.0%}"
    if not found.significant(against):
        return (
            f"{name}: the {level} interval [{show(found.low)}, {show(found.high)}] contains "
            f"{against:g}, so this is no evidence of an edge ({found.groups} groups resampled)"
        )
    side = "above" if found.low > against else "below"
    what = "an edge" if side == good else "worse than no edge"
    return (
        f"{name}: the {level} interval [{show(found.low)}, {show(found.high)}] lies {side} "
        f"{against:g}: {what} at that level ({found.groups} groups resampled)"
    )


# --- P&L -----------------------------------------------------------------------------------


def _event_of(market: MarketPnl) -> str:
    return market.event


def pnl_section(
    markets: Sequence[MarketPnl], start_equity: Money, *, seed: int, resamples: int
) -> dict[str, Any]:
    def total(sample: Sequence[MarketPnl]) -> float:
        return float(sum(m.pnl for m in sample))

    def ci(statistic: Callable[[Sequence[MarketPnl]], float]) -> Interval | None:
        return interval_of(markets, statistic, _event_of, seed=seed, resamples=resamples)

    net = sum(m.pnl for m in markets)
    fees = sum(m.fees for m in markets)
    net_ci = ci(total)
    roi_ci = ci(lambda s: total(s) / start_equity)
    win_ci = ci(lambda s: metrics.win_rate([m.pnl for m in s]))
    factor_ci = ci(lambda s: metrics.capped_profit_factor([m.pnl for m in s]))
    pnls = [m.pnl for m in markets]
    return {
        "net": net,
        "realised": sum(m.pnl for m in markets if m.status != "open"),
        "unrealised": sum(m.pnl for m in markets if m.status == "open"),
        "fees": fees,
        "gross": net + fees,
        "net_interval": interval_dict(net_ci),
        "roi": net / start_equity if start_equity else None,
        "roi_interval": interval_dict(roi_ci),
        "win_rate": metrics.win_rate(pnls),
        "win_rate_interval": interval_dict(win_ci),
        "profit_factor": metrics.profit_factor(pnls),
        "profit_factor_interval": interval_dict(factor_ci),
        "markets_traded": len(markets),
        "markets_open_at_end": sum(m.status == "open" for m in markets),
        "verdict": edge_wording("net P&L", net_ci, show=money_text),
    }


def markets_section(markets: Sequence[MarketPnl]) -> list[dict[str, Any]]:
    return [
        {
            "ticker": m.ticker,
            "event": m.event,
            "pnl": m.pnl,
            "fees": m.fees,
            "status": m.status,
            "position_at_end": m.position,
            "resolved_time": _iso(m.resolved_time),
            "final_yes_value": m.value,
            "valued": m.value_source,
        }
        for m in markets
    ]


# --- returns, drawdown, exposure ---------------------------------------------------------


def returns_section(
    markets: Sequence[MarketPnl],
    records: RunRecords,
    *,
    seed: int,
    resamples: int,
) -> dict[str, Any]:
    first = records.start_time.date() if records.start_time else None
    last = records.end_time.date() if records.end_time else None
    days = metrics.daily_pnl(markets, first, last)
    returns = metrics.daily_returns(days, records.start_equity)
    samples = list(zip((d for d, _ in days), returns, strict=True))

    def stat(score: Callable[[Sequence[float]], float]) -> Callable[[Sequence[Any]], float]:
        return lambda sample: score([r for _, r in sample])

    def per_day(sample: tuple[date, float]) -> date:
        return sample[0]

    sharpe_ci = interval_of(samples, stat(metrics.sharpe), per_day, seed=seed, resamples=resamples)
    sortino_ci = interval_of(
        samples, stat(metrics.sortino), per_day, seed=seed, resamples=resamples
    )
    return {
        "annualisation_days": metrics.DAYS_PER_YEAR,
        "daily": [
            {"day": d.isoformat(), "pnl": pnl, "return": r}
            for (d, pnl), r in zip(days, returns, strict=True)
        ],
        "sharpe": metrics.sharpe(returns),
        "sharpe_interval": interval_dict(sharpe_ci),
        "sortino": metrics.sortino(returns),
        "sortino_interval": interval_dict(sortino_ci),
        "verdict": edge_wording("Sharpe ratio", sharpe_ci),
    }


def drawdown_section(
    curve: Sequence[tuple[datetime, Money]],
    markets: Sequence[MarketPnl],
    records: RunRecords,
    *,
    seed: int,
    resamples: int,
) -> dict[str, Any]:
    found = metrics.max_drawdown(curve, records.end_time)
    return {
        "max": found.amount,
        "max_fraction": found.fraction,
        "peak_time": _iso(found.peak_time),
        "trough_time": _iso(found.trough_time),
        "recovery_time": _iso(found.recovery_time),
        "recovered": found.recovery_time is not None,
        "duration_seconds": found.duration.total_seconds(),
        "daily_interval": interval_dict(
            daily_drawdown_interval(markets, records, seed=seed, resamples=resamples)
        ),
    }


def daily_drawdown_interval(
    markets: Sequence[MarketPnl], records: RunRecords, *, seed: int, resamples: int
) -> Interval | None:
    """The max drawdown of the daily P&L path, with an interval from resampling whole days
    (drawn in random order: how deep the same days could have fallen in another order)."""
    first = records.start_time.date() if records.start_time else None
    last = records.end_time.date() if records.end_time else None
    days = metrics.daily_pnl(markets, first, last)

    def deepest(sample: Sequence[tuple[date, Money]]) -> float:
        return float(metrics.path_drawdown([pnl for _, pnl in sample]))

    return interval_of(days, deepest, lambda day: day[0], seed=seed, resamples=resamples)


def exposure_section(records: RunRecords, markets: Sequence[MarketPnl]) -> dict[str, Any]:
    found = metrics.exposure(records, markets)
    equity = records.start_equity
    return {
        "average": round(found.average),
        "peak": found.peak,
        "average_fraction": found.average / equity if equity else None,
        "peak_fraction": found.peak / equity if equity else None,
        "time_in_market": found.time_in_market,
        "traded": found.traded,
        "turnover": found.traded / equity if equity else None,
    }


def curve_section(curve: Sequence[tuple[datetime, Money]]) -> list[dict[str, Any]]:
    return [{"time": _iso(when), "equity": equity} for when, equity in curve]


# --- forecasts -----------------------------------------------------------------------------


def forecasts_section(records: RunRecords, *, seed: int, resamples: int) -> dict[str, Any]:
    scored = metrics.scored_forecasts(records.forecasts, records.markets)

    def scores(score: metrics.Score, name: str) -> dict[str, Any]:
        events = event_sums(
            (s.event, (score(s.forecast, s.outcome), score(s.market, s.outcome))) for s in scored
        )
        difference = interval_of(
            events, lambda e: _ratio(e, 0) - _ratio(e, 1), _first, seed=seed, resamples=resamples
        )
        model = interval_of(events, lambda e: _ratio(e, 0), _first, seed=seed, resamples=resamples)
        return {
            "forecasts": _ratio(events, 0),
            "forecasts_interval": interval_dict(model),
            "market": _ratio(events, 1),
            "difference": _ratio(events, 0) - _ratio(events, 1),
            "difference_interval": interval_dict(difference),
            "verdict": edge_wording(
                f"{name} of the forecasts less the market's", difference, good="below"
            ),
        }

    return {
        "forecasts": len(records.forecasts),
        "scored": len(scored),
        "markets": len({f.ticker for f in records.forecasts}),
        "events": len({s.event for s in scored}),
        "baseline": "the market's mid (else last price) the decision saw",
        "brier": scores(brier, "Brier score"),
        "log_loss": scores(metrics.log_loss, "log loss"),
        "calibration": calibration_table(scored, seed=seed, resamples=resamples),
    }


EventSums = tuple[str, tuple[float, ...], int]


def event_sums(samples: Iterable[tuple[str, tuple[float, ...]]]) -> list[EventSums]:
    """Per event (in order of first appearance): the sums of each value, and how many.

    A mean over whole events resampled equals the ratio of their sums resampled, so the
    bootstrap draws the same events and touches one row per event instead of every sample."""
    sums: dict[str, tuple[list[float], list[int]]] = {}
    for event, values in samples:
        totals, count = sums.setdefault(event, ([0.0] * len(values), [0]))
        for index, value in enumerate(values):
            totals[index] += value
        count[0] += 1
    return [(event, tuple(totals), count[0]) for event, (totals, count) in sums.items()]


def _ratio(rows: Sequence[EventSums], column: int) -> float:
    """The mean of one value over the samples of ``rows``."""
    count = sum(row[2] for row in rows)
    return sum(row[1][column] for row in rows) / count if count else math.nan


def _first(row: tuple[Any, ...]) -> Hashable:
    first: Hashable = row[0]
    return first


def calibration_table(
    scored: Sequence[Scored], *, seed: int, resamples: int, bins: int = 10
) -> list[dict[str, Any]]:
    """Per forecast-probability bin: how often it happened (with its interval by event)."""
    grouped: dict[int, list[Scored]] = defaultdict(list)
    for sample in scored:
        grouped[metrics.calibration_bin(sample.forecast, bins)].append(sample)
    rows = []
    for index in sorted(grouped):
        members = grouped[index]
        outcomes = event_sums((m.event, (float(m.outcome),)) for m in members)
        observed = interval_of(
            outcomes, lambda e: _ratio(e, 0), _first, seed=seed, resamples=resamples
        )
        rows.append(
            {
                "low": index / bins,
                "high": (index + 1) / bins,
                "count": len(members),
                "events": len({m.event for m in members}),
                "mean_forecast": math.fsum(m.forecast for m in members) / len(members),
                "mean_market": math.fsum(m.market for m in members) / len(members),
                "observed": sum(m.outcome for m in members) / len(members),
                "observed_interval": interval_dict(observed),
            }
        )
    return rows


# --- attribution ---------------------------------------------------------------------------


def price_bucket(fill_pnl: FillPnl) -> str:
    cents = fill_pnl.fill.outcome_price * 100 // DOLLAR
    low = max(b for b in PRICE_BUCKETS if b <= min(cents, 99))
    return f"{low:02d}-{low + 9:02d}c"


def time_bucket(fill_pnl: FillPnl, markets: Mapping[str, MarketInfo]) -> str:
    info = markets.get(fill_pnl.fill.ticker)
    if info is None:
        return "unknown"
    seconds = (info.close_time - fill_pnl.fill.time).total_seconds()
    for limit, name in TIME_TO_CLOSE:
        if seconds < limit:
            return name
    return ">= 24h"


def attribution_keys(markets: Mapping[str, MarketInfo]) -> dict[str, Callable[[FillPnl], str]]:
    def info(f: FillPnl) -> MarketInfo | None:
        return markets.get(f.fill.ticker)

    return {
        "strategy": lambda f: f.fill.strategy or "(unknown)",
        "series": lambda f: m.series_ticker if (m := info(f)) else "(unknown)",
        "category": lambda f: (m.category or "(none)") if (m := info(f)) else "(unknown)",
        "price_paid": price_bucket,
        "time_to_close": lambda f: time_bucket(f, markets),
    }


def attribution_section(
    fills: Sequence[FillPnl], markets: Mapping[str, MarketInfo], *, seed: int, resamples: int
) -> dict[str, list[dict[str, Any]]]:
    return {
        name: attribute(fills, key, seed=seed, resamples=resamples)
        for name, key in attribution_keys(markets).items()
    }


def attribute(
    fills: Sequence[FillPnl], key: Callable[[FillPnl], str], *, seed: int, resamples: int
) -> list[dict[str, Any]]:
    """The P&L of each group of fills, with its interval resampled by event."""
    grouped: dict[str, list[FillPnl]] = defaultdict(list)
    for fill in fills:
        grouped[key(fill)].append(fill)
    rows = []
    for name in sorted(grouped):
        members = grouped[name]
        found = interval_of(
            members,
            lambda s: float(sum(f.pnl for f in s)),
            lambda f: f.event,
            seed=seed,
            resamples=resamples,
        )
        rows.append(
            {
                "group": name,
                "pnl": sum(f.pnl for f in members),
                "fees": sum(f.fill.fee for f in members),
                "fills": len(members),
                "contracts": sum(f.fill.count for f in members),
                "markets": len({f.fill.ticker for f in members}),
                "pnl_interval": interval_dict(found),
                "verdict": edge_wording(f"P&L of {name}", found, show=money_text),
            }
        )
    return rows


# --- the document --------------------------------------------------------------------------


def build_results(
    records: RunRecords,
    *,
    run: Mapping[str, Any],
    assumptions: Sequence[str] = (),
    caveats: Mapping[str, str] | None = None,
    session: Mapping[str, Any] | None = None,
    seed: int = 0,
    resamples: int = DEFAULT_RESAMPLES,
) -> dict[str, Any]:
    """Every figure of one run (money in ``MONEY_UNIT`` integers, times ISO 8601 UTC)."""
    markets = metrics.market_pnls(records)
    fills = metrics.fill_pnls(records)
    curve = metrics.equity_curve(
        markets, records.start_equity, records.start_time, records.end_time
    )
    options = {"seed": seed, "resamples": resamples}
    return {
        "schema_version": SCHEMA_VERSION,
        "units": {"money": MONEY_UNIT, "count": COUNT_UNIT, "price": MONEY_UNIT},
        "run": {**run, "start_equity": records.start_equity},
        "session": dict(session or {}),
        "assumptions": list(assumptions),
        "data_caveats": dict(caveats or {}),
        "pnl": pnl_section(markets, records.start_equity, **options),
        "returns": returns_section(markets, records, **options),
        "drawdown": drawdown_section(curve, markets, records, **options),
        "exposure": exposure_section(records, markets),
        "equity_curve": curve_section(curve),
        "forecasts": forecasts_section(records, **options),
        "attribution": attribution_section(fills, records.markets, **options),
        "markets": markets_section(markets),
        "fills": fills_section(fills),
        "prices": prices_section(records),
    }


def fills_section(fills: Sequence[FillPnl]) -> list[dict[str, Any]]:
    return [
        {
            "time": _iso(f.fill.time),
            "ticker": f.fill.ticker,
            "action": "buy yes" if f.fill.bid else "sell yes",
            "yes_price": f.fill.yes_price,
            "count": f.fill.count,
            "fee": f.fill.fee,
            "taker": f.fill.is_taker,
            "strategy": f.fill.strategy,
            "pnl": f.pnl,
        }
        for f in fills
    ]


def prices_section(records: RunRecords) -> dict[str, list[list[Any]]]:
    """The market price each decision saw, per traded market (for fills-on-price plots)."""
    traded = {f.ticker for f in records.fills}
    paths: dict[str, list[list[Any]]] = defaultdict(list)
    for forecast in records.forecasts:
        if forecast.ticker in traded and forecast.market_price is not None:
            paths[forecast.ticker].append([_iso(forecast.time), forecast.market_price])
    return dict(paths)


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat().replace("+00:00", "Z")


def _normal(value: Any) -> Any:
    """Floats rounded (non-finite ones null) so the bytes never depend on float noise."""
    if isinstance(value, float):
        return round(value, FLOAT_DIGITS) + 0.0 if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _normal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normal(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


def dumps(results: Mapping[str, Any]) -> str:
    """``results`` as JSON text: the same figures always give the same bytes."""
    return json.dumps(_normal(results), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def dollars(amount: Money | None) -> str:
    """``-5511100`` -> ``"-$551.11"`` for terminals and the HTML page."""
    if amount is None:
        return "-"
    sign = "-" if amount < 0 else ""
    return f"{sign}${format_dollars(abs(amount))[:-2]}"


def money_text(amount: float) -> str:
    return dollars(round(amount))


def contracts(count: int) -> str:
    return f"{count / CONTRACT:g}"


# --- a finished run ------------------------------------------------------------------------


def run_description(
    spec: BacktestSpec, app: App, run_id: str, sets: Sequence[str]
) -> dict[str, Any]:
    """What the run was a function of (no paths, no wall-clock time)."""
    return {
        "run_id": run_id,
        "venue": "simulated",
        "data_sets": list(sets),
        "from": _iso(spec.start),
        "to": _iso(spec.end),
        "seed": int(app.section("run").get("seed", 0)),
        "strategies": list(app.settings.strategies.enabled),
        "forecasters": list(app.settings.forecast.models),
        "overrides": {k: spec.overrides[k] for k in sorted(spec.overrides)},
        "fill_model": fill_model(app),
        "cycle_seconds": float(app.section("run")["cycle_seconds"]),
    }


def fill_model(app: App) -> str | None:
    """``exchange.fill_model`` when this kalshi-core has that setting."""
    chosen = app.section("exchange").get("fill_model")
    return str(chosen) if chosen else None


def assumptions(app: App, resamples: int) -> list[str]:
    model = fill_model(app)
    fills = (
        f"Fills: the simulated venue's fill model {model!r} (exchange.fill_model)."
        if model
        else "Fills: the simulated venue's matching engine against a liquidity provider that "
        "quotes around the recorded prices and replays each recorded print on the tape "
        "(kalshi_core/exchange/liquidity.py); no exchange.fill_model setting in this version."
    )
    return [
        fills,
        "Fees are charged at fill time by the venue, from the series' fee schedule.",
        "A position still open when the window ends is marked to market at the last recorded "
        "price at or before the end (a quote's mid, or the last trade), never at its result; "
        "markets[].valued says which.",
        "Equity moves when a market resolves (settles, is closed out, or is marked at the "
        "end): intraday swings of open positions are not in the curve or the drawdown.",
        "Daily returns run over calendar days (0 on days nothing resolved), annualised by "
        f"sqrt({metrics.DAYS_PER_YEAR}), risk-free rate 0.",
        "Forecasts are scored against the recorded result of their market; the baseline is "
        "the market's mid (else last price) at the decision's time.",
        f"Intervals: 95% percentile bootstrap, {resamples} resamples, resampling whole events "
        "(whole days for daily-return figures), seeded by run.seed.",
    ]


def session_summary(run: BacktestRun) -> dict[str, Any]:
    report = run.report
    return {
        "cycles": report.cycles,
        "orders_placed": report.orders_placed,
        "orders_rejected": report.orders_rejected,
        "fills_on_venue": report.fills_venue,
        "fills_stored": report.fills_stored,
        "stopped_because": report.stopped_because,
        "start_equity": report.start_equity,
        "end_equity_at_cost": report.end_equity,
        "books_match_venue": report.pnl_check.matches,
    }


async def read_records(run: BacktestRun, app: App, history: History) -> RunRecords:
    """The run's rows from its database and what the recorded history says of its markets."""
    backends = {e.name: e.factory for e in app.registry("storage_backends")}
    engine = open_engine(run.database_url, backends, app.section("database"))
    try:
        fills = await rows.read_fills(engine, run.run_id)
        settlements = await rows.read_settlements(engine, run.run_id)
        forecasts = await rows.read_forecasts(engine, run.run_id)
        started, last = await rows.read_span(engine, run.run_id)
    finally:
        await engine.dispose()
    spec = run.spec or BacktestSpec(database_url=run.database_url)
    end = spec.end or max([t for t in (last, *(s.time for s in settlements)) if t], default=None)
    open_tickers = _open_tickers(fills, settlements)
    return RunRecords(
        run_id=run.run_id,
        start_equity=run.report.start_equity,
        fills=tuple(fills),
        settlements=tuple(settlements),
        forecasts=tuple(forecasts),
        markets=catalogue.market_infos(history),
        marks=catalogue.recorded_marks(history, open_tickers, end),
        start_time=spec.start or started,
        end_time=end,
    )


def _open_tickers(fills: Sequence[FillRecord], settlements: Sequence[SettlementRecord]) -> set[str]:
    held: dict[str, int] = defaultdict(int)
    for fill in fills:
        held[fill.ticker] += fill.count if fill.bid else -fill.count
    settled = {s.ticker for s in settlements}
    return {t for t, n in held.items() if n and t not in settled}


async def summarise(run: BacktestRun, *, resamples: int = DEFAULT_RESAMPLES) -> dict[str, Any]:
    """Every figure of a finished :class:`BacktestRun` (the ``results.json`` document): net
    P&L, daily returns, Sharpe, drawdown, Brier... Sweeps and walk-forward windows call this."""
    spec = run.spec or BacktestSpec(database_url=run.database_url)
    app = backtest_app(spec, warn_unknown=False)  # the run itself reported unknown keys
    venue_run = RunSpec(run_id=run.run_id, data_dir=spec.data_dir, data_sets=spec.data_sets)
    exchange = app.section("exchange")
    data_dir = history_dir(exchange, venue_run)
    sets = history_sets(exchange, venue_run)
    # read by the loaders the run used: any format it replayed can be reported on
    history = catalogue.read_history(data_dir, sets, loaders_of(app.registry("history_loaders")))
    records = await read_records(run, app, history)
    seed = int(app.section("run").get("seed", 0))
    return build_results(
        records,
        run=run_description(spec, app, run.run_id, sets),
        assumptions=assumptions(app, resamples),
        caveats=catalogue.data_caveats(data_dir, sets, history),
        session=session_summary(run),
        seed=seed,
        resamples=resamples,
    )
