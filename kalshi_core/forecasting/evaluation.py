"""Honest evaluation of a forecaster on settled history: decision-time horizons, intervals, verdict.

A forecaster is scored where a decision is made, not on every print:

* at 1 h, 3 h, 6 h and 24 h before the close (the last price seen at or before that moment);
* at the market's first observed price;
* over all prints (at most :data:`MAX_PRINTS` evenly spaced per market, each market weighted 1).

Each horizon reports the Brier score and log loss of the model and of the market price, the
model-minus-market difference, the model's resolution and a reliability table; every figure
carries a bootstrap interval that resamples whole *events* (:func:`kalshi_core.stats.bootstrap`),
so the strikes of one index close count as one draw, not six. The verdict calls the model
"better" only when the interval of the Brier difference lies wholly below zero; the seed is fixed,
so the same data and settings always give the same verdict.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, Protocol

import attrs

from kalshi_core import stats
from kalshi_core.forecasting.fitting import MarketSamples
from kalshi_core.money import DOLLAR, Price
from kalshi_core.stats import Interval, bootstrap, brier

MAX_PRINTS = 20
MIN_EVENTS = 10
RELIABILITY_BINS = 10
EPSILON = 1e-4
RESAMPLES = 1000
SEED = 15
PRIMARY = "all"

HORIZONS: tuple[tuple[str, timedelta | None], ...] = (
    ("1h", timedelta(hours=1)),
    ("3h", timedelta(hours=3)),
    ("6h", timedelta(hours=6)),
    ("24h", timedelta(hours=24)),
    ("first", None),
    ("all", None),
)


@attrs.frozen(kw_only=True)
class Snapshot:
    """What a forecaster can see of one market at one moment."""

    ticker: str
    event_ticker: str
    series_ticker: str = ""
    category: str = ""
    price: Price
    spread: Price | None = None
    seconds_to_close: float = 0.0
    price_change: Price = 0
    volume: float = 0.0
    strike: float | None = None
    strike_type: str = ""


@attrs.frozen(kw_only=True)
class Prediction:
    """P(yes) as a probability and its standard error (both 0..1)."""

    probability: float
    stderr: float


class Predictor(Protocol):
    """Forecasts every market of one event seen at one moment (a ladder needs its siblings)."""

    def predict(self, snapshots: Sequence[Snapshot]) -> list[Prediction]: ...


class MarketPrice:
    """The baseline: the market's own price, with the half-spread as its uncertainty."""

    def predict(self, snapshots: Sequence[Snapshot]) -> list[Prediction]:
        return [
            Prediction(probability=s.price / DOLLAR, stderr=(s.spread or 0) / 2 / DOLLAR)
            for s in snapshots
        ]


@attrs.frozen(kw_only=True)
class Row:
    """One scored forecast: its event (the bootstrap's group), weight, outcome and both odds."""

    event: str
    weight: float
    outcome: float
    market: float
    model: float


def snapshot_at(market: MarketSamples, index: int) -> Snapshot:
    """The market as it looked at its ``index``-th observation."""
    moment = market.times[index] if market.times else market.first_seen
    hour_ago = _index_at(market, moment - timedelta(hours=1))
    before = market.prices[hour_ago if hour_ago is not None else 0]
    return Snapshot(
        ticker=market.ticker,
        event_ticker=market.event_ticker or market.ticker,
        series_ticker=market.series_ticker,
        category=market.category,
        price=market.prices[index],
        spread=market.spreads[index] if market.spreads else None,
        seconds_to_close=max(0.0, (market.close_time - moment).total_seconds()),
        price_change=market.prices[index] - before,
        volume=market.volumes[index] if market.volumes else 0.0,
        strike=market.strike,
        strike_type=market.strike_type,
    )


def _index_at(market: MarketSamples, moment: Any) -> int | None:
    """The last observation at or before ``moment``."""
    position = bisect.bisect_right(market.times, moment)
    return position - 1 if position > 0 else None


def _event_view(siblings: Sequence[MarketSamples], moment: Any) -> list[Snapshot]:
    views = []
    for sibling in siblings:
        index = _index_at(sibling, moment)
        if index is not None:
            views.append(snapshot_at(sibling, index))
    return views


def _pick(predictor: Predictor, views: Sequence[Snapshot], ticker: str) -> tuple[float, float]:
    predictions = predictor.predict(views)
    for view, prediction in zip(views, predictions, strict=True):
        if view.ticker == ticker:
            return view.price / DOLLAR, prediction.probability
    raise ValueError(f"predictor dropped market {ticker}")


def _moments(market: MarketSamples, horizon: str, before: timedelta | None) -> list[Any]:
    if horizon == "first":
        return [market.times[0]]
    if before is None:
        step = max(1, math.ceil(len(market.times) / MAX_PRINTS))
        return list(market.times[::step])
    moment = market.close_time - before
    return [moment] if _index_at(market, moment) is not None else []


def score_rows(
    predictor: Predictor,
    markets: Sequence[MarketSamples],
    horizon: str,
    before: timedelta | None,
) -> list[Row]:
    """The forecasts of ``predictor`` at one horizon, each market's rows weighing 1 in all."""
    events: dict[str, list[MarketSamples]] = defaultdict(list)
    for market in markets:
        events[market.event_ticker or market.ticker].append(market)
    rows: list[Row] = []
    for market in markets:
        siblings = events[market.event_ticker or market.ticker]
        moments = _moments(market, horizon, before)
        for moment in moments:
            price, model = _pick(predictor, _event_view(siblings, moment), market.ticker)
            rows.append(
                Row(
                    event=market.event_ticker or market.ticker,
                    weight=1.0 / len(moments),
                    outcome=1.0 if market.settled_yes else 0.0,
                    market=price,
                    model=model,
                )
            )
    return rows


def log_loss(p: float, outcome: float) -> float:
    return stats.log_loss(p, outcome, EPSILON)


Loss = Callable[[float, float], float]


def mean_loss(rows: Sequence[Row], loss: Loss, model: bool) -> float:
    total = sum(r.weight for r in rows)
    value = sum(r.weight * loss(r.model if model else r.market, r.outcome) for r in rows)
    return value / total


def loss_difference(rows: Sequence[Row], loss: Loss) -> float:
    """Model minus market: negative means the model is better."""
    return mean_loss(rows, loss, True) - mean_loss(rows, loss, False)


def _reliability_bin(p: float) -> int:
    return min(int(p * RELIABILITY_BINS), RELIABILITY_BINS - 1)


def resolution(rows: Sequence[Row]) -> float:
    """Murphy's resolution: how far the outcome rate of each forecast bin is from the base rate."""
    total = sum(r.weight for r in rows)
    base = sum(r.weight * r.outcome for r in rows) / total
    weight: dict[int, float] = defaultdict(float)
    hits: dict[int, float] = defaultdict(float)
    for row in rows:
        weight[_reliability_bin(row.model)] += row.weight
        hits[_reliability_bin(row.model)] += row.weight * row.outcome
    return sum(w * (hits[b] / w - base) ** 2 for b, w in weight.items() if w > 0) / total


@attrs.frozen(kw_only=True)
class ReliabilityBin:
    """Forecasts falling in ``[lower, upper)``: how many, their mean, and how often YES won."""

    lower: float
    upper: float
    forecasts: int
    events: int
    mean_forecast: float
    observed: Interval


@attrs.frozen(kw_only=True)
class HorizonScore:
    """Every figure of one horizon, each with its interval (resampled by event)."""

    horizon: str
    markets: int
    events: int
    differing_events: int
    brier_market: Interval
    brier_model: Interval
    brier_difference: Interval
    log_loss_market: Interval
    log_loss_model: Interval
    log_loss_difference: Interval
    resolution: Interval
    reliability: tuple[ReliabilityBin, ...]


@attrs.frozen(kw_only=True)
class EventTotals:
    """One event's rows summed: the bootstrap resamples these, which is resampling by event
    and gives the same statistic as the rows themselves, far faster."""

    weight: float
    outcomes: float
    brier_model: float
    brier_market: float
    log_loss_model: float
    log_loss_market: float
    bins: tuple[tuple[float, float], ...]  # per reliability bin: (weight, YES weight)


def event_totals(rows: Sequence[Row]) -> list[EventTotals]:
    grouped: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[row.event].append(row)
    return [_totals(members) for members in grouped.values()]


def _totals(rows: Sequence[Row]) -> EventTotals:
    bins = [[0.0, 0.0] for _ in range(RELIABILITY_BINS)]
    for row in rows:
        bins[_reliability_bin(row.model)][0] += row.weight
        bins[_reliability_bin(row.model)][1] += row.weight * row.outcome
    return EventTotals(
        weight=sum(r.weight for r in rows),
        outcomes=sum(r.weight * r.outcome for r in rows),
        brier_model=sum(r.weight * brier(r.model, r.outcome) for r in rows),
        brier_market=sum(r.weight * brier(r.market, r.outcome) for r in rows),
        log_loss_model=sum(r.weight * log_loss(r.model, r.outcome) for r in rows),
        log_loss_market=sum(r.weight * log_loss(r.market, r.outcome) for r in rows),
        bins=tuple((w, h) for w, h in bins),
    )


def _per_weight(field: str) -> Callable[[Sequence[EventTotals]], float]:
    def statistic(events: Sequence[EventTotals]) -> float:
        return float(sum(getattr(e, field) for e in events)) / sum(e.weight for e in events)

    return statistic


def _difference(model: str, market: str) -> Callable[[Sequence[EventTotals]], float]:
    def statistic(events: Sequence[EventTotals]) -> float:
        total = float(sum(getattr(e, model) - getattr(e, market) for e in events))
        return total / sum(e.weight for e in events)

    return statistic


def event_resolution(events: Sequence[EventTotals]) -> float:
    """Murphy's resolution from the events' per-bin sums."""
    total = sum(e.weight for e in events)
    base = sum(e.outcomes for e in events) / total
    value = 0.0
    for index in range(RELIABILITY_BINS):
        weight = sum(e.bins[index][0] for e in events)
        if weight > 0:
            hits = sum(e.bins[index][1] for e in events)
            value += weight * (hits / weight - base) ** 2
    return value / total


def _observed_in(index: int) -> Callable[[Sequence[EventTotals]], float]:
    def statistic(events: Sequence[EventTotals]) -> float:
        weight = sum(e.bins[index][0] for e in events)
        return sum(e.bins[index][1] for e in events) / weight if weight > 0 else math.nan

    return statistic


def _interval(
    events: Sequence[EventTotals], statistic: Callable[[Sequence[EventTotals]], float]
) -> Interval:
    return bootstrap(events, statistic, resamples=RESAMPLES, seed=SEED)


def reliability_table(rows: Sequence[Row]) -> tuple[ReliabilityBin, ...]:
    binned: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        binned[_reliability_bin(row.model)].append(row)
    table = []
    for index in sorted(binned):
        members = binned[index]
        total = sum(r.weight for r in members)
        table.append(
            ReliabilityBin(
                lower=index / RELIABILITY_BINS,
                upper=(index + 1) / RELIABILITY_BINS,
                forecasts=len(members),
                events=len({r.event for r in members}),
                mean_forecast=sum(r.weight * r.model for r in members) / total,
                observed=_interval(event_totals(members), _observed_in(index)),
            )
        )
    return tuple(table)


def score_horizon(horizon: str, rows: Sequence[Row], markets: int) -> HorizonScore:
    events = event_totals(rows)
    return HorizonScore(
        horizon=horizon,
        markets=markets,
        events=len(events),
        differing_events=len({r.event for r in rows if abs(r.model - r.market) > 1e-9}),
        brier_market=_interval(events, _per_weight("brier_market")),
        brier_model=_interval(events, _per_weight("brier_model")),
        brier_difference=_interval(events, _difference("brier_model", "brier_market")),
        log_loss_market=_interval(events, _per_weight("log_loss_market")),
        log_loss_model=_interval(events, _per_weight("log_loss_model")),
        log_loss_difference=_interval(events, _difference("log_loss_model", "log_loss_market")),
        resolution=_interval(events, event_resolution),
        reliability=reliability_table(rows),
    )


@attrs.frozen(kw_only=True)
class Verdict:
    """``better`` / ``worse`` / ``no edge`` / ``not measured``, why, and the data's caveats."""

    label: str
    reason: str
    caveats: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.label == "better"


def decide(scores: Mapping[str, HorizonScore], caveats: Sequence[str] = ()) -> Verdict:
    """Better only when the all-prints Brier difference is wholly below zero and no horizon
    is significantly worse; ``worse`` when any horizon's difference is wholly above zero."""
    caveated = tuple(caveats)
    if PRIMARY not in scores or scores[PRIMARY].events < MIN_EVENTS:
        reason = f"fewer than {MIN_EVENTS} held-out events: no verdict"
        return Verdict(label="not measured", reason=reason, caveats=caveated)
    measured = {h: s for h, s in scores.items() if s.differing_events >= MIN_EVENTS}
    if PRIMARY not in measured:
        reason = f"the model differs from the price in fewer than {MIN_EVENTS} held-out events"
        return Verdict(label="no edge", reason=reason, caveats=caveated)
    worse = [h for h, s in measured.items() if s.brier_difference.low > 0]
    if worse:
        return Verdict(
            label="worse",
            reason=f"Brier significantly worse than the price at {', '.join(worse)}",
            caveats=tuple(caveats),
        )
    primary = measured[PRIMARY].brier_difference
    if primary.high < 0 and not caveats:
        return Verdict(label="better", reason=_difference_text(primary), caveats=())
    why = "the data is outcome-selected; " if caveats and primary.high < 0 else ""
    return Verdict(
        label="no edge",
        reason=f"{why}{_difference_text(primary)} (interval contains zero or data is caveated)",
        caveats=tuple(caveats),
    )


def _difference_text(interval: Interval) -> str:
    return (
        f"Brier difference (model - price) over all prints {interval.estimate:+.5f} "
        f"[{interval.low:+.5f}, {interval.high:+.5f}]"
    )


def evaluate(predictor: Predictor, markets: Sequence[MarketSamples]) -> dict[str, HorizonScore]:
    """Every horizon with at least one scored market."""
    scores: dict[str, HorizonScore] = {}
    for horizon, before in HORIZONS:
        rows = score_rows(predictor, markets, horizon, before)
        if rows:  # each market's rows weigh 1 in all, so the weights count markets
            scores[horizon] = score_horizon(horizon, rows, round(sum(r.weight for r in rows)))
    return scores


def score_dict(score: HorizonScore) -> dict[str, Any]:
    """A horizon's figures as plain JSON-able data (rounded) for the model file."""
    keep = (
        "brier_market",
        "brier_model",
        "brier_difference",
        "log_loss_market",
        "log_loss_model",
        "log_loss_difference",
        "resolution",
    )
    out: dict[str, Any] = {
        "markets": score.markets,
        "events": score.events,
        "differing_events": score.differing_events,
    }
    for name in keep:
        out[name] = {k: round(v, 6) for k, v in getattr(score, name).as_dict().items()}
    return out
