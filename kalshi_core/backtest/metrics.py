"""A backtest's figures: pure functions over a run's records (:mod:`.records`).

P&L is kept in the signed-YES ledger of :mod:`kalshi_core.engine.report` (a NO contract is a
short YES contract), so it matches the venue's own accounting: a fill at YES price ``p`` of
``q`` contracts, in a market whose YES contract ends up worth ``v``, made ``(v - p) q`` on a
bid and ``(p - v) q`` on an ask, less its fee. ``v`` is the settlement payout, or for a
position still open when the run ends its mark (the last recorded price). Summing those
per-fill figures gives every attribution exactly, and their total is the run's net P&L.

Money stays integer (:mod:`kalshi_core.money`); statistics (returns, Sharpe, Brier) are floats.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta

import attrs

from kalshi_core import stats
from kalshi_core.backtest.records import (
    FillRecord,
    ForecastRecord,
    Mark,
    MarketInfo,
    RunRecords,
    SettlementRecord,
)
from kalshi_core.money import CONTRACT, DOLLAR, Count, Money, Price

#: Daily figures are annualised over calendar days: prediction markets trade every day.
DAYS_PER_YEAR = 365
#: Probabilities are clipped this far from 0 and 1 before a log loss (a price of 0 is finite).
LOG_LOSS_EPSILON = 0.001
#: A resample without a losing market has an infinite profit factor; it counts as this much.
PROFIT_FACTOR_CAP = 1000.0


@attrs.frozen(kw_only=True)
class FillPnl:
    """One fill and what it made, valued at its market's final YES value."""

    fill: FillRecord
    pnl: Money
    event: str


@attrs.frozen(kw_only=True)
class MarketPnl:
    """One market we traded: its net P&L, fees and how it ended (settled, closed or open)."""

    ticker: str
    event: str
    pnl: Money
    fees: Money
    position: Count
    status: str
    resolved_time: datetime
    value: Price | None
    value_source: str


def event_of(ticker: str, markets: Mapping[str, MarketInfo]) -> str:
    """The market's event (markets of one event resolve together, so they are resampled
    together); a market unknown to the catalogue is its own event."""
    info = markets.get(ticker)
    return info.event_ticker if info is not None else ticker


def yes_payout(settlement: SettlementRecord) -> Price:
    """What one YES contract paid: $1 on yes, 0 on no; a scalar or void result from the
    venue's revenue, which pays YES holders ``v`` and NO holders ``1 - v`` per contract."""
    if settlement.result == "yes":
        return DOLLAR
    if settlement.result == "no":
        return 0
    held = settlement.yes_count - settlement.no_count
    if held == 0:
        return 0
    signed = settlement.revenue - settlement.no_count * DOLLAR // CONTRACT
    return signed * CONTRACT // held


def final_values(records: RunRecords) -> dict[str, tuple[Price | None, str]]:
    """Each traded market's final YES value and where it came from."""
    settled = {s.ticker: s for s in records.settlements}
    held: dict[str, Count] = defaultdict(int)
    for fill in records.fills:
        held[fill.ticker] += fill.count if fill.bid else -fill.count
    values: dict[str, tuple[Price | None, str]] = {}
    for ticker, position in held.items():
        if ticker in settled:
            values[ticker] = (yes_payout(settled[ticker]), f"settled {settled[ticker].result}")
        elif position == 0:  # flat: the fills' cash is the whole story, whatever the value
            values[ticker] = (0, "closed out before settlement")
        elif ticker in records.marks:
            mark: Mark = records.marks[ticker]
            values[ticker] = (mark.price, f"marked at the {mark.source}")
        else:
            values[ticker] = (None, "at cost: no price recorded")
    return values


def fill_pnl(fill: FillRecord, value: Price | None) -> Money:
    """What ``fill`` made if its market's YES contract is worth ``value`` (None: at cost)."""
    worth = fill.yes_price if value is None else value
    gain = worth * fill.count // CONTRACT - fill.yes_price * fill.count // CONTRACT
    return (gain if fill.bid else -gain) - fill.fee


def fill_pnls(records: RunRecords) -> list[FillPnl]:
    values = final_values(records)
    return [
        FillPnl(
            fill=f,
            pnl=fill_pnl(f, values[f.ticker][0]),
            event=event_of(f.ticker, records.markets),
        )
        for f in records.fills
    ]


def market_pnls(records: RunRecords) -> list[MarketPnl]:
    """Per traded market, in ticker order."""
    values = final_values(records)
    settled = {s.ticker: s for s in records.settlements}
    by_market: dict[str, list[FillRecord]] = defaultdict(list)
    for fill in records.fills:
        by_market[fill.ticker].append(fill)
    result = []
    for ticker in sorted(by_market):
        fills = by_market[ticker]
        value, source = values[ticker]
        position = sum(f.count if f.bid else -f.count for f in fills)
        status, when = _ending(ticker, position, fills, settled, records.end_time)
        result.append(
            MarketPnl(
                ticker=ticker,
                event=event_of(ticker, records.markets),
                pnl=sum(fill_pnl(f, value) for f in fills),
                fees=sum(f.fee for f in fills),
                position=0 if status == "settled" else position,
                status=status,
                resolved_time=when,
                value=value,
                value_source=source,
            )
        )
    return result


def _ending(
    ticker: str,
    position: Count,
    fills: Sequence[FillRecord],
    settled: Mapping[str, SettlementRecord],
    end: datetime | None,
) -> tuple[str, datetime]:
    last_fill = max(f.time for f in fills)
    if ticker in settled:
        return "settled", max(settled[ticker].time, last_fill)
    if position == 0:
        return "closed", last_fill
    return "open", max(end or last_fill, last_fill)


# --- P&L figures -------------------------------------------------------------------------


def win_rate(pnls: Sequence[Money]) -> float:
    """Share of markets that made money (``nan`` for none)."""
    return sum(p > 0 for p in pnls) / len(pnls) if pnls else math.nan


def profit_factor(pnls: Sequence[Money]) -> float:
    """Gross profit over gross loss, across markets; ``inf`` with no losing market."""
    wins = sum(p for p in pnls if p > 0)
    losses = -sum(p for p in pnls if p < 0)
    if losses == 0:
        return math.inf if wins > 0 else math.nan
    return wins / losses


def capped_profit_factor(pnls: Sequence[Money]) -> float:
    factor = profit_factor(pnls)
    return PROFIT_FACTOR_CAP if math.isinf(factor) else factor


def equity_curve(
    markets: Sequence[MarketPnl],
    start_equity: Money,
    start: datetime | None,
    end: datetime | None = None,
) -> list[tuple[datetime, Money]]:
    """Equity after each market resolved (settled, closed out, or marked at the end), from
    the run's start to its end."""
    ordered = sorted(markets, key=lambda m: (m.resolved_time, m.ticker))
    points: list[tuple[datetime, Money]] = []
    if ordered:
        points.append((min(start or ordered[0].resolved_time, ordered[0].resolved_time), 0))
    equity = 0
    for market in ordered:
        equity += market.pnl
        points.append((market.resolved_time, equity))
    if points and end is not None and end > points[-1][0]:
        points.append((end, equity))
    return [(when, start_equity + value) for when, value in points]


# --- drawdown ----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Drawdown:
    """The deepest fall of equity from a running peak, and how long until it was made good
    (``recovery_time`` None: not recovered by the end; the duration then runs to the end)."""

    amount: Money = 0
    fraction: float = 0.0
    peak_time: datetime | None = None
    trough_time: datetime | None = None
    recovery_time: datetime | None = None
    duration: timedelta = timedelta(0)


def max_drawdown(points: Sequence[tuple[datetime, Money]], end: datetime | None) -> Drawdown:
    """The maximum drawdown of an equity curve given as (time, equity) points."""
    if not points:
        return Drawdown()
    peak_time, peak = points[0]
    best = Drawdown()
    best_peak = peak
    for when, equity in points:
        if equity > peak:
            peak_time, peak = when, equity
        if peak - equity > best.amount:
            best = Drawdown(
                amount=peak - equity,
                fraction=(peak - equity) / peak if peak > 0 else math.nan,
                peak_time=peak_time,
                trough_time=when,
            )
            best_peak = peak
        elif best.recovery_time is None and best.amount and equity >= best_peak:
            best = attrs.evolve(best, recovery_time=when)
    if best.peak_time is None:
        return best
    until = best.recovery_time or max(end or points[-1][0], points[-1][0])
    return attrs.evolve(best, duration=until - best.peak_time)


def path_drawdown(increments: Sequence[int]) -> Money:
    """The deepest fall from a running peak of the cumulative sum of ``increments``, which
    starts at 0: the drawdown of one ordering of daily P&L (the bootstrap reorders days)."""
    equity = peak = deepest = 0
    for change in increments:
        equity += change
        peak = max(peak, equity)
        deepest = max(deepest, peak - equity)
    return deepest


# --- daily returns -----------------------------------------------------------------------


def daily_pnl(
    markets: Sequence[MarketPnl], first: date | None = None, last: date | None = None
) -> list[tuple[date, Money]]:
    """P&L by the day markets resolved, every calendar day from first to last (0 when nothing
    resolved: equity did not move)."""
    if not markets:
        return []
    by_day: dict[date, Money] = defaultdict(int)
    for market in markets:
        by_day[market.resolved_time.date()] += market.pnl
    low = min(first or min(by_day), *by_day)
    high = max(last or max(by_day), *by_day)
    return [
        (low + timedelta(days=n), by_day.get(low + timedelta(days=n), 0))
        for n in range((high - low).days + 1)
    ]


def daily_returns(days: Sequence[tuple[date, Money]], start_equity: Money) -> list[float]:
    """Each day's P&L over the equity it started with."""
    returns = []
    equity = start_equity
    for _, pnl in days:
        returns.append(pnl / equity if equity > 0 else math.nan)
        equity += pnl
    return returns


def _stdev(values: Sequence[float]) -> float:
    if len(values) < 2:
        return math.nan
    centre = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((v - centre) ** 2 for v in values) / (len(values) - 1))


def sharpe(returns: Sequence[float]) -> float:
    """Annualised Sharpe ratio of daily returns (risk-free rate 0); ``nan`` when undefined."""
    spread = _stdev(returns)
    if not returns or not spread or math.isnan(spread):
        return math.nan
    return math.fsum(returns) / len(returns) / spread * math.sqrt(DAYS_PER_YEAR)


def sortino(returns: Sequence[float]) -> float:
    """Annualised Sortino ratio: mean daily return over the downside deviation (target 0)."""
    if len(returns) < 2:
        return math.nan
    downside = math.sqrt(math.fsum(min(r, 0.0) ** 2 for r in returns) / len(returns))
    if downside == 0:
        return math.nan
    return math.fsum(returns) / len(returns) / downside * math.sqrt(DAYS_PER_YEAR)


# --- exposure ----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Exposure:
    """Money at risk in open positions (at cost): time-weighted average and peak; the share
    of the run's time any position was open; turnover (money traded over starting equity)."""

    average: float = 0.0
    peak: Money = 0
    time_in_market: float = 0.0
    traded: Money = 0


@attrs.define
class _Holding:
    held: Count = 0
    cost: Money = 0

    def fill(self, fill: FillRecord) -> None:
        delta = fill.count if fill.bid else -fill.count
        if self.held == 0 or (self.held > 0) == (delta > 0):
            self.cost += fill.outcome_price * fill.count // CONTRACT
            self.held += delta
            return
        closed = min(abs(delta), abs(self.held))
        self.cost -= self.cost * closed // abs(self.held)
        self.held += delta
        opened = abs(delta) - closed
        if opened:
            self.cost = fill.outcome_price * opened // CONTRACT


ExposureEvent = tuple[datetime, int, str, FillRecord | None]


def exposure(records: RunRecords, markets: Sequence[MarketPnl]) -> Exposure:
    """Walk fills and resolutions in time order, integrating the money at risk."""
    events = _exposure_events(records, markets)
    if not events:
        return Exposure()
    end = max(records.end_time or events[-1][0], events[-1][0])
    area, busy, peak = _integrate(events, end)
    total = (end - events[0][0]).total_seconds()
    traded = sum(f.outcome_price * f.count // CONTRACT for f in records.fills)
    return Exposure(
        average=area / total if total > 0 else float(peak),
        peak=peak,
        time_in_market=busy / total if total > 0 else 1.0,
        traded=traded,
    )


def _exposure_events(records: RunRecords, markets: Sequence[MarketPnl]) -> list[ExposureEvent]:
    """Fills, then the resolutions of closed markets, in time order (a fill before a
    resolution at the same instant)."""
    events: list[ExposureEvent] = [(f.time, 0, f.ticker, f) for f in records.fills]
    events += [(m.resolved_time, 1, m.ticker, None) for m in markets if m.status != "open"]
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    return events


def _integrate(events: Sequence[ExposureEvent], end: datetime) -> tuple[float, float, int]:
    """Money at risk times time (area), time with any at risk (busy), and the peak."""
    holdings: dict[str, _Holding] = defaultdict(_Holding)
    area = busy = 0.0
    peak = 0
    for index, (when, _, ticker, fill) in enumerate(events):
        if fill is None:
            holdings.pop(ticker, None)
        else:
            holdings[ticker].fill(fill)
        at_risk = sum(h.cost for h in holdings.values())
        peak = max(peak, at_risk)
        following = events[index + 1][0] if index + 1 < len(events) else end
        span = (following - when).total_seconds()
        area += at_risk * span
        busy += span if at_risk > 0 else 0.0
    return area, busy, peak


# --- forecast quality --------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Scored:
    """A forecast with the market price it faced and the recorded outcome (1 yes, 0 no)."""

    event: str
    forecast: float
    market: float
    outcome: int


def scored_forecasts(
    forecasts: Iterable[ForecastRecord], markets: Mapping[str, MarketInfo]
) -> list[Scored]:
    """Forecasts of markets that resolved yes or no, paired with the price at the time."""
    scored = []
    for forecast in forecasts:
        info = markets.get(forecast.ticker)
        if info is None or info.result not in ("yes", "no") or forecast.market_price is None:
            continue
        scored.append(
            Scored(
                event=info.event_ticker,
                forecast=forecast.probability,
                market=forecast.market_price,
                outcome=1 if info.result == "yes" else 0,
            )
        )
    return scored


def log_loss(probability: float, outcome: int) -> float:
    return stats.log_loss(probability, outcome, LOG_LOSS_EPSILON)


Score = Callable[[float, int], float]


def mean_score(samples: Sequence[Scored], score: Score, *, market: bool = False) -> float:
    if not samples:
        return math.nan
    return math.fsum(score(s.market if market else s.forecast, s.outcome) for s in samples) / len(
        samples
    )


def score_difference(samples: Sequence[Scored], score: Score) -> float:
    """The forecasts' mean score less the market's (negative: the forecasts did better)."""
    return mean_score(samples, score) - mean_score(samples, score, market=True)


def calibration_bin(probability: float, bins: int = 10) -> int:
    return min(int(probability * bins), bins - 1)
