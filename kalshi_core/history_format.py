"""Recorded market history: the line formats of ``markets.jsonl``, ``trades.jsonl.gz`` and
``quotes.jsonl.gz`` (see the data sets' README), read into the domain model.

Recorded trades predate Kalshi's fixed-point migration: prices are integer cents, counts whole
contracts and the taker is ``taker_side``. They are read through the same wire converter as live
JSON (with a private legacy model), so a bad line fails with the same kind of message.
"""

from __future__ import annotations

import gzip
import json
import zlib
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
    MarketStatus,
    Side,
    Trade,
    cents,
    timestamp,
)
from kalshi_core.money import CENT, CONTRACT, DOLLAR, Count, Money, Price
from kalshi_core.wire import from_wire

__all__ = [
    "MarketRecord",
    "Quote",
    "history_lines",
    "market_from_history",
    "quote_from_history",
    "read_history",
    "record_from_history",
    "trade_from_legacy",
]

T = TypeVar("T")

_SETTLED_RESULTS = {MarketResult.YES: DOLLAR, MarketResult.NO: 0}
_FINAL_STATUSES = (MarketStatus.FINALIZED, MarketStatus.DETERMINED, MarketStatus.DISPUTED)


@attrs.frozen(kw_only=True)
class Quote:
    """A recorded top-of-book snapshot. A bid of 0 means no bid, an ask of $1 no ask.

    ``yes_bid_size`` / ``yes_ask_size`` (counts) are the displayed sizes when the recording
    has them, else None.
    """

    ticker: str
    ts: datetime = timestamp()
    yes_bid: Price = cents()
    yes_ask: Price = cents()
    yes_bid_size: Count | None = None
    yes_ask_size: Count | None = None


@attrs.frozen(kw_only=True)
class _QuoteSizes:
    yes_bid_size: int | None = None
    yes_ask_size: int | None = None


@attrs.frozen(kw_only=True)
class _RecordTerms:
    """The optional settlement and fee fields of a ``markets.jsonl`` record."""

    status: MarketStatus = MarketStatus.FINALIZED
    settlement_value: int | None = None  # cents a YES contract pays (scalar results)
    closed_time: datetime | None = timestamp(default=None)
    fee_waiver_until: datetime | None = timestamp(default=None)


@attrs.frozen(kw_only=True)
class MarketRecord:
    """A recorded market and how it ended.

    ``yes_value`` is what a YES contract paid (None for a void market, refunded at cost, and
    for a disputed one, which was never settled); ``final_status`` is ``finalized``,
    ``determined`` (result known, not final) or ``disputed``; ``closed_time`` is set when the
    market closed before its scheduled ``close_time`` (early close).
    """

    market: Market
    yes_value: Money | None
    final_status: MarketStatus = MarketStatus.FINALIZED
    closed_time: datetime | None = None
    fee_waiver_until: datetime | None = None


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
    """A ``markets.jsonl`` record -> ``Market`` with its result and ``settlement_value``.

    Extra keys (``series_ticker``, ``category``) are dropped: the series is derived from the
    event ticker and the category lives on the series.
    """
    return record_from_history(record, where=where).market


def record_from_history(record: dict[str, Any], *, where: str = "history market") -> MarketRecord:
    """A ``markets.jsonl`` record -> :class:`MarketRecord` (market, payout, final status)."""
    market = from_wire(record, Market, where=where)
    terms = from_wire(record, _RecordTerms, where=where)
    if terms.status not in _FINAL_STATUSES:
        raise WireFormatError(
            f"{where}: status: recorded market {market.ticker} must be one of "
            f"{', '.join(s.value for s in _FINAL_STATUSES)}, got {terms.status.value!r}"
        )
    yes_value = _yes_value(market, terms, where)
    if terms.closed_time is not None and not market.open_time < terms.closed_time:
        raise WireFormatError(
            f"{where}: closed_time: {market.ticker} closed at {terms.closed_time}, "
            f"not after its open_time {market.open_time}"
        )
    return MarketRecord(
        market=attrs.evolve(market, settlement_value=yes_value),
        yes_value=yes_value,
        final_status=terms.status,
        closed_time=terms.closed_time,
        fee_waiver_until=terms.fee_waiver_until,
    )


def _yes_value(market: Market, terms: _RecordTerms, where: str) -> Money | None:
    """What one YES contract paid, checked against the result (None: void or disputed)."""
    result = market.result
    if terms.status is MarketStatus.DISPUTED:
        if result is not MarketResult.NONE:
            raise WireFormatError(
                f"{where}: result: disputed market {market.ticker} has no result yet, "
                f"got {result.value!r}"
            )
        return None
    if result in _SETTLED_RESULTS:
        return _SETTLED_RESULTS[result]
    if result is MarketResult.VOID:
        return None
    value = terms.settlement_value
    if result is MarketResult.SCALAR and value is not None and 0 <= value <= 100:
        return value * CENT
    raise WireFormatError(
        f"{where}: result: recorded market {market.ticker} must have settled yes, no, void or "
        f"scalar (with settlement_value 0-100 cents), got {result.value!r} "
        f"(settlement_value {value!r})"
    )


def quote_from_history(record: dict[str, Any], *, where: str = "history quote") -> Quote:
    """A ``quotes.jsonl.gz`` record (cents, sizes in contracts) -> ``Quote`` (money units,
    counts)."""
    quote = from_wire(record, Quote, where=where)
    sizes = from_wire(record, _QuoteSizes, where=where)
    for name, size in (("yes_bid_size", sizes.yes_bid_size), ("yes_ask_size", sizes.yes_ask_size)):
        if size is not None and size < 0:
            raise WireFormatError(f"{where}: {name}: negative size {size}")
    return attrs.evolve(
        quote,
        yes_bid_size=None if sizes.yes_bid_size is None else sizes.yes_bid_size * CONTRACT,
        yes_ask_size=None if sizes.yes_ask_size is None else sizes.yes_ask_size * CONTRACT,
    )


# What a damaged file raises while it is read: a gzip stream cut short (EOFError), corrupt
# compressed bytes (zlib.error), a file that is not gzip (gzip.BadGzipFile, an OSError), bytes
# that are not UTF-8.
_UNREADABLE = (OSError, EOFError, zlib.error, UnicodeDecodeError)


def _unreadable(exc: BaseException) -> str:
    """Why a file cannot be read, in words (the exception's own text is often cryptic)."""
    if isinstance(exc, gzip.BadGzipFile):  # also a CRC or length mismatch at the end
        plain = str(exc).startswith("Not a gzipped file")
        return "not a gzip file, though its name ends in .gz" if plain else f"corrupt gzip ({exc})"
    if isinstance(exc, EOFError):
        return "the file ends early: it was cut short (an interrupted copy or download?)"
    if isinstance(exc, zlib.error):
        return f"corrupt compressed data ({exc})"
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text ({exc.reason} at byte {exc.start + 1} of the line)"
    return f"cannot read it: {exc.strerror or exc}" if isinstance(exc, OSError) else str(exc)


def history_lines(path: Path) -> Iterator[tuple[str, str]]:
    """``(where, line)`` for each line of a ``.jsonl`` or ``.jsonl.gz`` file, ``where`` being
    ``file:line``.

    A file that cannot be read or decompressed raises :class:`WireFormatError` naming the file
    and the line it broke at, never a bare ``EOFError`` (which click would turn into a silent
    ``Aborted!``) or gzip error.
    """
    opener: Any = gzip.open if path.suffix == ".gz" else open
    number = 0
    try:
        with opener(path, "rb") as lines:  # bytes, decoded line by line: errors name the line
            for number, line in enumerate(lines, start=1):
                yield f"{path.name}:{number}", line.decode("utf-8")
    except _UNREADABLE as exc:
        raise WireFormatError(f"{_place(path, number, exc)}: {_unreadable(exc)}") from None


def _place(path: Path, lines_read: int, exc: BaseException) -> str:
    """``path:line`` for the line a read broke in; just ``path`` when no line is to blame (a
    missing file, a gzip header that is not one)."""
    if isinstance(exc, UnicodeDecodeError):
        return f"{path}:{lines_read}"
    if isinstance(exc, (EOFError, zlib.error)) or (lines_read and isinstance(exc, OSError)):
        return f"{path}:{lines_read + 1}"
    return str(path)


def read_history(path: Path, parse: Callable[..., T]) -> Iterator[T]:
    """Parse each line of a ``.jsonl`` or ``.jsonl.gz`` file with ``parse``.

    ``parse`` is one of the ``*_from_history`` / ``trade_from_legacy`` functions; errors name
    the file and line number.
    """
    for where, line in history_lines(path):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise WireFormatError(f"{where}: not JSON: {exc}") from None
        yield parse(record, where=where)
