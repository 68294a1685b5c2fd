"""Candlesticks built from the venue's own trade tape (bid and ask inferred from prints)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs
from starlette.requests import Request

from kalshi_core.exchange.http.errors import bad
from kalshi_core.exchange.http.params import EPOCH, query_bool, query_int, query_time
from kalshi_core.exchange.http.shapes import epoch_seconds
from kalshi_core.models import BookSide, Market, Trade
from kalshi_core.money import Count, Money, format_count, format_dollars

PERIODS = (1, 60, 1440)
MAX_CANDLES = 10_000


@attrs.frozen
class CandleQuery:
    start: datetime
    end: datetime
    period: timedelta
    include_latest_before_start: bool


def candle_query(request: Request) -> CandleQuery:
    start, end = query_time(request, "start_ts"), query_time(request, "end_ts")
    if start is None or end is None or end < start:
        raise bad("start_ts and end_ts (Unix seconds, start <= end) are required")
    minutes = query_int(request, "period_interval", 0, 0, 1440)
    if minutes not in PERIODS:
        raise bad(f"period_interval must be one of {PERIODS} minutes, got {minutes}")
    period = timedelta(minutes=minutes)
    if (end - start) / period > MAX_CANDLES:
        raise bad(f"at most {MAX_CANDLES} candlesticks per request")
    latest = query_bool(request, "include_latest_before_start") or False
    return CandleQuery(start, end, period, latest)


def _ohlc(values: Sequence[Money]) -> dict[str, str]:
    return {
        "open_dollars": format_dollars(values[0]),
        "low_dollars": format_dollars(min(values)),
        "high_dollars": format_dollars(max(values)),
        "close_dollars": format_dollars(values[-1]),
    }


def _bucket_end(moment: datetime, period: timedelta) -> datetime:
    seconds = int(period.total_seconds())
    since = epoch_seconds(moment)
    return EPOCH + timedelta(seconds=-(-since // seconds) * seconds)


@attrs.define
class _Quotes:
    """Best bid/ask inferred from prints: a YES-buying taker paid the ask, a seller hit
    the bid. Without a print on a side the last known value carries on."""

    bid: Money
    ask: Money

    def candle(self, trades: Sequence[Trade]) -> tuple[dict[str, str], dict[str, str]]:
        bids, asks = [self.bid], [self.ask]
        for trade in trades:
            if trade.taker_book_side is BookSide.BID:
                asks.append(trade.yes_price)
            else:
                bids.append(trade.yes_price)
        bids, asks = bids[1:] or bids, asks[1:] or asks
        self.bid, self.ask = bids[-1], asks[-1]
        return _ohlc(bids), _ohlc(asks)


def _candle(
    end: datetime, trades: Sequence[Trade], quotes: _Quotes, previous: Money | None, oi: Count
) -> dict[str, Any]:
    prices = [t.yes_price for t in trades]
    volume = sum(t.count for t in trades)
    mean = sum(t.yes_price * t.count for t in trades) // volume
    price = {**_ohlc(prices), "mean_dollars": format_dollars(mean)}
    price.update(min_dollars=price["low_dollars"], max_dollars=price["high_dollars"])
    if previous is not None:
        price["previous_dollars"] = format_dollars(previous)
    yes_bid, yes_ask = quotes.candle(trades)
    return {
        "end_period_ts": epoch_seconds(end),
        "yes_bid": yes_bid,
        "yes_ask": yes_ask,
        "price": price,
        "volume_fp": format_count(volume),
        "open_interest_fp": format_count(oi),
    }


def build_candles(trades: Sequence[Trade], market: Market, query: CandleQuery) -> list[Any]:
    """Candles for the periods that have trades, ending in ``[start, end]`` (plus the last
    one before ``start`` when asked). Open interest is the market's current one."""
    buckets: dict[datetime, list[Trade]] = {}
    for trade in trades:
        if trade.created_time <= query.end:
            buckets.setdefault(_bucket_end(trade.created_time, query.period), []).append(trade)
    first = trades[0].yes_price if trades else 0
    quotes, previous = _Quotes(first, first), None
    before = [end for end in buckets if end < query.start]
    keep_from = max(before) if before and query.include_latest_before_start else query.start
    candles = []
    for end in sorted(buckets):
        candle = _candle(end, buckets[end], quotes, previous, market.open_interest)
        previous = buckets[end][-1].yes_price
        if end >= keep_from:
            candles.append(candle)
    return candles


def event_candles(
    markets: Sequence[Market], tape: Callable[[str], Sequence[Trade]], query: CandleQuery
) -> dict[str, Any]:
    """``GET .../events/{event}/candlesticks``: each market's candles, in ticker order.

    The event's markets share one budget of :data:`MAX_CANDLES` periods; a range wider than
    that is cut short, and ``adjusted_end_ts`` says where (Kalshi's maxAggregateCandidates).
    """
    ordered = sorted(markets, key=lambda m: m.ticker)
    periods = MAX_CANDLES // max(len(ordered), 1)
    end = min(query.end, query.start + periods * query.period)
    cut = attrs.evolve(query, end=end)
    return {
        "market_tickers": [m.ticker for m in ordered],
        "market_candlesticks": [build_candles(tape(m.ticker), m, cut) for m in ordered],
        "adjusted_end_ts": epoch_seconds(end),
    }
