"""A user's own recordings as two CSV files (header row required, extra columns ignored):

* ``markets.csv``: ``ticker,event_ticker,title,open_time,close_time,result`` (times RFC 3339
  UTC such as ``2026-03-01T14:00:00Z``, result ``yes`` or ``no``; an optional ``category``).
* ``trades.csv``: ``ticker,time,price,count,taker_side``, one print per row in time order:
  ``price`` the YES price in dollars with 2 to 4 decimals (``0.42``, ``0.0930``), ``count``
  contracts (``10``, ``2.50``), ``taker_side`` the outcome the taker bought (``yes``/``no``).

Errors name the file and line (``trades.csv:7: price: ...``).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import attrs

from kalshi_core.errors import WireFormatError
from kalshi_core.exchange.loaders.base import (
    RecordedSet,
    as_listed,
    check_known,
    check_market,
    series_of,
)
from kalshi_core.history_format import market_from_history
from kalshi_core.models import BookSide, Market, MarketResult, Side, Trade, count_fp, dollars
from kalshi_core.models import timestamp as wire_time
from kalshi_core.money import DOLLAR, Count, Price
from kalshi_core.wire import from_wire

__all__ = ["CsvTradesLoader"]

MARKETS_CSV = "markets.csv"
TRADES_CSV = "trades.csv"
T = TypeVar("T")


@attrs.frozen(kw_only=True)
class _CsvTrade:
    ticker: str
    time: datetime = wire_time()
    price: Price = dollars()
    count: Count = count_fp()
    taker_side: Side


class CsvTradesLoader:
    """Reads ``markets.csv`` + ``trades.csv``."""

    def recognises(self, folder: Path) -> bool:
        return (folder / MARKETS_CSV).is_file() and (folder / TRADES_CSV).is_file()

    def load(self, folder: Path) -> RecordedSet:
        results: dict[str, MarketResult] = {}
        category: dict[str, str] = {}
        markets = list(_rows(folder / MARKETS_CSV, _market_reader(results, category)))
        trades = list(_rows(folder / TRADES_CSV, _trade_reader(set(results))))
        return RecordedSet(
            markets=tuple(markets),
            results=results,
            series=series_of(markets, category),
            trades=tuple(trades),
        )


def _rows(path: Path, parse: Callable[[dict[str, str], str], T]) -> Iterator[T]:
    for row, where, columns in _csv_rows(path):
        missing = [k for k, v in row.items() if k is not None and v is None]
        if missing or None in row:
            raise WireFormatError(f"{where}: expected {columns} columns")
        yield parse(row, where)


def _csv_rows(path: Path) -> Iterator[tuple[dict[str, str], str, int]]:
    """Each row, where it is (``file:line``) and the header's column count; a file that cannot
    be read or is not UTF-8 raises :class:`WireFormatError` naming it."""
    line = 0
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                line = reader.line_num
                yield row, f"{path.name}:{line}", len(reader.fieldnames or [])
    except (OSError, UnicodeDecodeError) as exc:
        place = f"{path}:{line + 1}" if line else str(path)
        problem = exc.reason if isinstance(exc, UnicodeDecodeError) else exc.strerror or exc
        raise WireFormatError(f"{place}: cannot read it: {problem}") from None


def _market_reader(
    results: dict[str, MarketResult], category: dict[str, str]
) -> Callable[[dict[str, str], str], Market]:
    def parse(row: dict[str, str], where: str) -> Market:
        market = market_from_history(dict(row, status="finalized"), where=where)
        check_market(market, results, where)
        results[market.ticker] = market.result
        category[market.ticker] = row.get("category") or ""
        return as_listed(market)

    return parse


def _trade_reader(known: set[str]) -> Callable[[dict[str, str], str], Trade]:
    def parse(row: dict[str, str], where: str) -> Trade:
        record: dict[str, Any] = dict(row)
        line = from_wire(record, _CsvTrade, where=where)
        check_known(line.ticker, known, where, MARKETS_CSV)
        if not 0 < line.price < DOLLAR or line.count <= 0:
            raise WireFormatError(
                f"{where}: price/count: a print is at a price strictly inside (0, 1) for a "
                f"positive count, got {row.get('price')} x {row.get('count')}"
            )
        return Trade(
            trade_id=f"{where}",
            ticker=line.ticker,
            count=line.count,
            yes_price=line.price,
            no_price=DOLLAR - line.price,
            taker_outcome_side=line.taker_side,
            taker_book_side=BookSide.BID if line.taker_side is Side.YES else BookSide.ASK,
            created_time=line.time,
        )

    return parse
