"""Kalshi's own API responses, saved as a user would save them: a folder of ``*.json`` files,
each one response body.

* ``GET /markets`` (or ``GET /events/{e}``) pages, ``{"markets": [Market, ...]}``: the markets.
  Only markets with a ``result`` of ``yes`` or ``no`` can be replayed; the others are skipped and
  counted in the set's caveats.
* ``GET /markets/trades`` pages, ``{"trades": [Trade, ...]}``: fixed-point prints, any order
  (duplicates across overlapping pages are dropped by ``trade_id``).
* ``GET /series/{s}/markets/{t}/candlesticks``, ``{"ticker": t, "candlesticks": [...]}``, or the
  batch ``GET /markets/candlesticks``, ``{"markets": [{"market_ticker", "candlesticks"}]}``:
  one quote per candlestick, at its ``end_period_ts``, from the *close* of its ``yes_bid`` and
  ``yes_ask`` (the book as it stood when the period ended; the open/high/low are not used, so
  nothing from inside the period leaks ahead of its end). A candle without both closes, or whose
  bid is not below its ask, gives no quote.
* ``GET /series/{s}``, ``{"series": Series}``: the series' category and fee terms.

A bad record raises WireFormatError naming the file and the record (``trades[3]``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs

from kalshi_core.errors import WireFormatError
from kalshi_core.exchange.loaders.base import SET_INFO_FILE, RecordedSet, as_listed, check_market
from kalshi_core.history_format import Quote
from kalshi_core.models import Market, MarketResult, Series, Trade, WireKind, dollars, timestamp
from kalshi_core.money import DOLLAR, Price
from kalshi_core.wire import from_wire

__all__ = ["KalshiApiLoader"]

_SETTLEMENT = {MarketResult.YES: DOLLAR, MarketResult.NO: 0}


@attrs.frozen(kw_only=True)
class _Ohlc:
    close: Price | None = dollars("close_dollars", default=None)


@attrs.frozen(kw_only=True)
class _Candle:
    end_period_ts: datetime = timestamp(kind=WireKind.EPOCH_S)
    yes_bid: _Ohlc = attrs.field(factory=_Ohlc)
    yes_ask: _Ohlc = attrs.field(factory=_Ohlc)


@attrs.define
class _Pages:
    """What the folder's responses hold, before they are checked against each other."""

    markets: dict[str, tuple[Market, str]] = attrs.field(factory=dict)
    trades: dict[str, tuple[Trade, str]] = attrs.field(factory=dict)
    quotes: list[tuple[Quote, str]] = attrs.field(factory=list)
    series: dict[str, Series] = attrs.field(factory=dict)


class KalshiApiLoader:
    """Reads a folder of saved ``GET /markets``, trades, candlesticks and series responses."""

    def recognises(self, folder: Path) -> bool:
        return any("markets" in _read_json(path) for path in _responses(folder))

    def load(self, folder: Path) -> RecordedSet:
        pages = _Pages()
        for path in _responses(folder):
            _read_response(path, _read_json(path), pages)
        return _recorded(pages)


def _responses(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.json") if p.name != SET_INFO_FILE and p.is_file())


def _read_json(path: Path) -> dict[str, Any]:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WireFormatError(f"{path.name}: not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise WireFormatError(f"{path.name}: expected a response object, got a {type(body)}")
    return body


def _items(path: Path, body: dict[str, Any], key: str) -> Iterator[tuple[dict[str, Any], str]]:
    items = body.get(key)
    if not isinstance(items, list):
        raise WireFormatError(f"{path.name}: {key}: expected a list")
    for index, item in enumerate(items):
        where = f"{path.name}: {key}[{index}]"
        if not isinstance(item, dict):
            raise WireFormatError(f"{where}: expected an object")
        yield item, where


def _read_response(path: Path, body: dict[str, Any], pages: _Pages) -> None:
    if "candlesticks" in body:
        _read_candles(path, str(body.get("ticker", "")), body, pages)
    elif "trades" in body:
        for item, where in _items(path, body, "trades"):
            trade = from_wire(item, Trade, where=where)
            pages.trades.setdefault(trade.trade_id, (trade, where))
    elif "markets" in body:
        _read_markets(path, body, pages)
    elif isinstance(body.get("series"), dict):
        series = from_wire(body["series"], Series, where=f"{path.name}: series")
        pages.series[series.ticker] = series
    else:
        raise WireFormatError(
            f"{path.name}: not a saved markets, trades, candlesticks or series response "
            f"(keys: {', '.join(sorted(body)) or 'none'})"
        )


def _read_markets(path: Path, body: dict[str, Any], pages: _Pages) -> None:
    for item, where in _items(path, body, "markets"):
        if "candlesticks" in item:  # the batch candlesticks response
            _read_candles(path, str(item.get("market_ticker", "")), item, pages)
            continue
        market = from_wire(item, Market, where=where)
        if market.ticker in pages.markets and pages.markets[market.ticker][0] == market:
            continue  # the same market on two overlapping pages
        check_market(market, pages.markets, where)
        pages.markets[market.ticker] = (market, where)


def _read_candles(path: Path, ticker: str, body: dict[str, Any], pages: _Pages) -> None:
    if not ticker:
        raise WireFormatError(f"{path.name}: ticker: a candlesticks response names its market")
    for item, where in _items(path, body, "candlesticks"):
        candle = from_wire(item, _Candle, where=where)
        bid, ask = candle.yes_bid.close, candle.yes_ask.close
        if bid is not None and ask is not None and 0 <= bid < ask <= DOLLAR:
            quote = Quote(ticker=ticker, ts=candle.end_period_ts, yes_bid=bid, yes_ask=ask)
            pages.quotes.append((quote, where))


def _recorded(pages: _Pages) -> RecordedSet:
    settled = {t: m for t, (m, _) in pages.markets.items() if m.result in _SETTLEMENT}
    trades = [t for t, _ in pages.trades.values() if t.ticker in settled]
    quotes = [q for q, _ in pages.quotes if q.ticker in settled]
    skipped = len(pages.markets) - len(settled)
    dropped = len(pages.trades) + len(pages.quotes) - len(trades) - len(quotes)
    caveats = [f"{skipped} saved markets without a yes/no result were skipped"] if skipped else []
    if dropped:
        caveats.append(f"{dropped} trades/candlesticks of markets not replayed were skipped")
    return RecordedSet(
        markets=tuple(as_listed(m) for m in settled.values()),
        results={t: m.result for t, m in settled.items()},
        series=_series(settled.values(), pages.series),
        trades=tuple(sorted(trades, key=lambda t: t.created_time)),
        quotes=tuple(sorted(quotes, key=lambda q: q.ts)),
        caveats=tuple(caveats),
    )


def _series(markets: Any, saved: dict[str, Series]) -> dict[str, Series]:
    found = dict(saved)
    for market in markets:
        found.setdefault(
            market.series_ticker,
            Series(ticker=market.series_ticker, title=market.series_ticker, category=""),
        )
    return found
