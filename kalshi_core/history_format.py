"""Recorded market history: the line formats of ``markets.jsonl``, ``trades.jsonl.gz`` and
``quotes.jsonl.gz`` (see the data sets' README), read into the domain model.

Recorded trades predate Kalshi's fixed-point migration: prices are integer cents, counts whole
contracts and the taker is ``taker_side``. They are read through the same wire converter as live
JSON (with a private legacy model), so a bad line fails with the same kind of message.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import attrs

from kalshi_core.errors import WireFormatError
from kalshi_core.models import (
    BookSide,
    Market,
    MarketResult,
    Side,
    Trade,
    cents,
    timestamp,
)
from kalshi_core.money import CONTRACT, DOLLAR, Price
from kalshi_core.wire import from_wire

__all__ = [
    "Quote",
    "market_from_history",
    "quote_from_history",
    "read_history",
    "trade_from_legacy",
]

T = TypeVar("T")

_SETTLED_RESULTS = {MarketResult.YES: DOLLAR, MarketResult.NO: 0}


@attrs.frozen(kw_only=True)
class Quote:
    """A recorded top-of-book snapshot. A bid of 0 means no bid, an ask of $1 no ask."""

    ticker: str
    ts: datetime = timestamp()
    yes_bid: Price = cents()
    yes_ask: Price = cents()


@attrs.frozen(kw_only=True)
class _LegacyTrade:
    """A ``GET /markets/trades`` print as it was before the fixed-point migration."""

    trade_id: str
    ticker: str
    created_time: datetime = timestamp()
    yes_price: Price = cents()
    no_price: Price = cents()
    count: int
    taker_side: Side


def trade_from_legacy(record: dict[str, Any], *, where: str = "history trade") -> Trade:
    """A legacy integer-cent trade record -> ``Trade``.

    ``taker_side`` is the outcome the taker bought; buying NO is selling YES, so a NO taker
    sits on the ask side of the YES book.
    """
    legacy = from_wire(record, _LegacyTrade, where=where)
    if legacy.count < 0:
        raise WireFormatError(f"{where}: count: negative contract count {legacy.count}")
    return Trade(
        trade_id=legacy.trade_id,
        ticker=legacy.ticker,
        count=legacy.count * CONTRACT,
        yes_price=legacy.yes_price,
        no_price=legacy.no_price,
        taker_outcome_side=legacy.taker_side,
        taker_book_side=BookSide.BID if legacy.taker_side is Side.YES else BookSide.ASK,
        created_time=legacy.created_time,
    )


def market_from_history(record: dict[str, Any], *, where: str = "history market") -> Market:
    """A ``markets.jsonl`` record -> ``Market``, settled at $1 (yes) or $0 (no).

    Extra keys (``series_ticker``, ``category``) are dropped: the series is derived from the
    event ticker and the category lives on the series.
    """
    market = from_wire(record, Market, where=where)
    settlement = _SETTLED_RESULTS.get(market.result)
    if settlement is None:
        raise WireFormatError(
            f"{where}: result: recorded market {market.ticker} must have settled yes or no, "
            f"got {market.result.value!r}"
        )
    return attrs.evolve(market, settlement_value=settlement)


def quote_from_history(record: dict[str, Any], *, where: str = "history quote") -> Quote:
    """A ``quotes.jsonl.gz`` record (cents) -> ``Quote`` (money units)."""
    return from_wire(record, Quote, where=where)


def read_history(path: Path, parse: Callable[..., T]) -> Iterator[T]:
    """Parse each line of a ``.jsonl`` or ``.jsonl.gz`` file with ``parse``.

    ``parse`` is one of the ``*_from_history`` / ``trade_from_legacy`` functions; errors name
    the file and line number.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise WireFormatError(f"{where}: not JSON: {exc}") from None
            yield parse(record, where=where)
