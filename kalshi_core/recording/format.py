"""The recorded order-book format that ``kalshi-core record`` writes (docs/data.md).

A recording is a data-set folder: a ``set.json`` naming the ``recorded_l2`` loader and one
JSON-lines file per UTC day, ``l2-YYYY-MM-DD.jsonl``, the day of each record's exchange time.
Every line is one record ``{"type", "ts_ms", ...}``:

* ``market``: ``{"market": <GET /markets object>}``, the market and its status when seen;
* ``snapshot``: ``{"ticker", "sid", "seq", "yes": [[price, count], ...], "no": [...]}``;
* ``delta``: ``{"ticker", "sid", "seq", "side": "yes"|"no", "price", "delta"}``;
* ``trade``: ``{"trade": <GET /markets/trades object>}``;
* ``lifecycle``: ``{"ticker", "event", "msg"}``, a market lifecycle message as received;
* ``gap``: ``{"tickers", "reason"}``: what happened in these markets from here to their next
  snapshot is unknown (a dropped connection or a skipped sequence number).

Prices are integers in 1/10,000 dollar and counts in 1/100 contract (:mod:`kalshi_core.money`);
``ts_ms`` is milliseconds since the epoch on the exchange's clock. A kill mid-write can leave
only the last line of a file cut short: the reader skips it with a warning naming the file and
line; any other bad line is a :class:`~kalshi_core.errors.WireFormatError` naming both.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import attrs

from kalshi_core.errors import WireFormatError
from kalshi_core.history_format import Quote
from kalshi_core.models import Market, OrderBook, PriceLevel, Side, Trade
from kalshi_core.money import DOLLAR, Count, Price
from kalshi_core.wire import from_wire, to_wire

__all__ = [
    "LOADER_NAME",
    "RECORD_TYPES",
    "BookQuote",
    "BookTracker",
    "Line",
    "RecordingWriter",
    "day_file",
    "day_of",
    "read_recording",
    "recording_files",
    "to_ms",
]

LOADER_NAME = "recorded_l2"
RECORD_TYPES = ("market", "snapshot", "delta", "trade", "lifecycle", "gap")
_DAY_FILE = re.compile(r"^l2-(\d{4}-\d{2}-\d{2})\.jsonl$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
log = logging.getLogger(__name__)

Record = dict[str, Any]


def to_ms(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def from_ms(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def day_of(ts_ms: int) -> date:
    """The UTC day a record belongs to: the day of its exchange time."""
    return from_ms(ts_ms).date()


def day_file(day: date) -> str:
    return f"l2-{day.isoformat()}.jsonl"


def recording_files(folder: Path) -> list[Path]:
    """The folder's day files, oldest day first."""
    return sorted(p for p in folder.iterdir() if p.is_file() and _DAY_FILE.match(p.name))


@attrs.frozen(kw_only=True)
class BookQuote(Quote):
    """A recorded full book: every level of both sides as it stood after record ``step``.

    The top of book (``yes_bid`` / ``yes_ask`` and their sizes) is filled in from the levels,
    so a fill model that knows only quotes still reads it.
    """

    yes: tuple[PriceLevel, ...] = ()
    no: tuple[PriceLevel, ...] = ()
    step: int = 0

    @classmethod
    def of(cls, book: OrderBook, ts: datetime, step: int) -> BookQuote:
        bid = book.yes[-1] if book.yes else None
        ask = book.no[-1] if book.no else None
        return cls(
            ticker=book.ticker,
            ts=ts,
            yes_bid=bid.price if bid else 0,
            yes_ask=DOLLAR - ask.price if ask else DOLLAR,
            yes_bid_size=bid.count if bid else None,
            yes_ask_size=ask.count if ask else None,
            yes=book.yes,
            no=book.no,
            step=step,
        )

    def orderbook(self) -> OrderBook:
        return OrderBook(ticker=self.ticker, yes=self.yes, no=self.no)


# ---- writing ----------------------------------------------------------------------------------


def levels_json(levels: tuple[PriceLevel, ...]) -> list[list[int]]:
    return [[level.price, level.count] for level in levels]


def market_line(market: Market, ts_ms: int) -> Record:
    return {"type": "market", "ts_ms": ts_ms, "market": to_wire(market)}


def trade_line(trade: Trade, ts_ms: int) -> Record:
    return {"type": "trade", "ts_ms": ts_ms, "trade": to_wire(trade)}


class RecordingWriter:
    """Appends records to the day file of their ``ts_ms``; ``sync`` makes a batch durable.

    Files are line-buffered, so every complete record reaches the operating system when it is
    written and a killed process leaves at most its last line cut short.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        info = folder / "set.json"
        if not info.exists():
            info.write_text(json.dumps({"loader": LOADER_NAME}) + "\n", encoding="utf-8")
        self.files: list[Path] = []
        self._day: date | None = None
        self._handle: IO[str] | None = None

    def write(self, record: Record) -> None:
        day = day_of(record["ts_ms"])
        if day != self._day:
            self._rotate(day)
        assert self._handle is not None
        self._handle.write(json.dumps(record, separators=(",", ":")) + "\n")

    def _rotate(self, day: date) -> None:
        self.close()
        path = self.folder / day_file(day)
        self._handle = path.open("a", encoding="utf-8", buffering=1)
        self._day = day
        if path not in self.files:
            self.files.append(path)

    def sync(self) -> None:
        """Flush and fsync the open day file."""
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())

    def close(self) -> None:
        if self._handle is not None:
            self.sync()
            self._handle.close()
        self._handle, self._day = None, None


# ---- reading ----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Line:
    """One parsed record and where it came from (``file:line``)."""

    kind: str
    ts_ms: int
    where: str
    ticker: str = ""
    market: Market | None = None
    trade: Trade | None = None
    book: OrderBook | None = None  # snapshot: the book; delta: None
    side: Side | None = None
    price: Price = 0
    delta: Count = 0
    sid: int = 0
    seq: int = 0
    tickers: tuple[str, ...] = ()
    reason: str = ""


def read_recording(folder: Path) -> Iterator[Line]:
    """Every record of the folder's day files, in order; see the module docstring."""
    for path in recording_files(folder):
        yield from _read_file(path)


def _read_file(path: Path) -> Iterator[Line]:
    with path.open("rb") as handle:
        lines = handle.read().split(b"\n")
    last = len(lines)  # the piece after the final newline: empty unless cut short
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        where = f"{path.name}:{number}"
        record = _json(raw, where, cut_short=number == last)
        if record is not None:
            yield parse_line(record, where)


def _json(raw: bytes, where: str, *, cut_short: bool) -> Record | None:
    try:
        record = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        if cut_short:
            log.warning("%s: skipped a last line cut short (a write was interrupted)", where)
            return None
        raise WireFormatError(f"{where}: not JSON: {exc}") from None
    if not isinstance(record, dict):
        raise WireFormatError(f"{where}: expected a JSON object, got {type(record).__name__}")
    return record


def parse_line(record: Mapping[str, Any], where: str) -> Line:
    """One record -> :class:`Line`; a wrong type or value raises naming ``where`` and field."""
    kind = record.get("type")
    if kind not in RECORD_TYPES:
        raise WireFormatError(f"{where}: type: expected one of {', '.join(RECORD_TYPES)}")
    ts_ms = _int(record, "ts_ms", where, minimum=0)
    return _PARSERS[str(kind)](record, where, ts_ms)


def _int(record: Mapping[str, Any], name: str, where: str, *, minimum: int) -> int:
    value = record.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise WireFormatError(f"{where}: {name}: expected an integer, got {value!r}")
    if value < minimum:
        raise WireFormatError(f"{where}: {name}: must be at least {minimum}, got {value}")
    return value


def _text(record: Mapping[str, Any], name: str, where: str) -> str:
    value = record.get(name)
    if not isinstance(value, str) or not value:
        raise WireFormatError(f"{where}: {name}: expected a non-empty string, got {value!r}")
    return value


def _price(record: Mapping[str, Any], name: str, where: str) -> Price:
    price = _int(record, name, where, minimum=1)
    if price >= DOLLAR:
        raise WireFormatError(f"{where}: {name}: a price is below {DOLLAR} (1/10,000 $)")
    return price


def _levels(record: Mapping[str, Any], name: str, where: str) -> tuple[PriceLevel, ...]:
    raw = record.get(name, [])
    if not isinstance(raw, list):
        raise WireFormatError(f"{where}: {name}: expected a list of [price, count]")
    levels: dict[Price, Count] = {}
    for index, pair in enumerate(raw):
        at = f"{name}[{index}]"
        if not isinstance(pair, list) or len(pair) != 2:
            raise WireFormatError(f"{where}: {at}: expected [price, count]")
        price = _price({at: pair[0]}, at, where)
        count = _int({at: pair[1]}, at, where, minimum=1)
        if price in levels:
            raise WireFormatError(f"{where}: {at}: price {price} is listed twice")
        levels[price] = count
    return tuple(PriceLevel(p, c) for p, c in sorted(levels.items()))


def _market(record: Mapping[str, Any], where: str, ts_ms: int) -> Line:
    market = from_wire(record.get("market"), Market, where=f"{where}: market")
    return Line(kind="market", ts_ms=ts_ms, where=where, ticker=market.ticker, market=market)


def _snapshot(record: Mapping[str, Any], where: str, ts_ms: int) -> Line:
    ticker = _text(record, "ticker", where)
    book = OrderBook(
        ticker=ticker, yes=_levels(record, "yes", where), no=_levels(record, "no", where)
    )
    yes_bid = book.yes[-1].price if book.yes else 0
    no_bid = book.no[-1].price if book.no else 0
    if yes_bid + no_bid >= DOLLAR:
        raise WireFormatError(f"{where}: yes/no: the book crosses ({yes_bid} + {no_bid})")
    return Line(
        kind="snapshot",
        ts_ms=ts_ms,
        where=where,
        ticker=ticker,
        book=book,
        sid=_int(record, "sid", where, minimum=1),
        seq=_int(record, "seq", where, minimum=1),
    )


def _delta(record: Mapping[str, Any], where: str, ts_ms: int) -> Line:
    side = record.get("side")
    if side not in ("yes", "no"):
        raise WireFormatError(f"{where}: side: expected 'yes' or 'no', got {side!r}")
    delta = _int(record, "delta", where, minimum=-(2**62))
    if delta == 0:
        raise WireFormatError(f"{where}: delta: a delta changes the level (got 0)")
    return Line(
        kind="delta",
        ts_ms=ts_ms,
        where=where,
        ticker=_text(record, "ticker", where),
        side=Side(side),
        price=_price(record, "price", where),
        delta=delta,
        sid=_int(record, "sid", where, minimum=1),
        seq=_int(record, "seq", where, minimum=1),
    )


def _trade(record: Mapping[str, Any], where: str, ts_ms: int) -> Line:
    trade = from_wire(record.get("trade"), Trade, where=f"{where}: trade")
    if trade.count <= 0 or trade.yes_price + trade.no_price != DOLLAR:
        raise WireFormatError(
            f"{where}: trade: a print has a positive count and prices summing to $1"
        )
    return Line(kind="trade", ts_ms=ts_ms, where=where, ticker=trade.ticker, trade=trade)


def _lifecycle(record: Mapping[str, Any], where: str, ts_ms: int) -> Line:
    if not isinstance(record.get("msg", {}), dict):
        raise WireFormatError(f"{where}: msg: expected a JSON object")
    return Line(
        kind="lifecycle",
        ts_ms=ts_ms,
        where=where,
        ticker=_text(record, "ticker", where),
        reason=_text(record, "event", where),
    )


def _gap(record: Mapping[str, Any], where: str, ts_ms: int) -> Line:
    tickers = record.get("tickers")
    if not isinstance(tickers, list) or not all(isinstance(t, str) and t for t in tickers):
        raise WireFormatError(f"{where}: tickers: expected a list of market tickers")
    reason = record.get("reason", "")
    if not isinstance(reason, str):
        raise WireFormatError(f"{where}: reason: expected a string")
    return Line(kind="gap", ts_ms=ts_ms, where=where, tickers=tuple(tickers), reason=reason)


_PARSERS = {
    "market": _market,
    "snapshot": _snapshot,
    "delta": _delta,
    "trade": _trade,
    "lifecycle": _lifecycle,
    "gap": _gap,
}


# ---- books ------------------------------------------------------------------------------------


class BookTracker:
    """Each market's book through snapshots and deltas, as the recording says it stood.

    A gap leaves its markets without a book until their next snapshot: a delta in between is
    an error, as is a delta that would leave a level negative.
    """

    def __init__(self) -> None:
        self._sides: dict[str, dict[Side, dict[Price, Count]]] = {}

    def apply(self, line: Line) -> OrderBook | None:
        """The book after ``line`` (None for a record that is not a snapshot or delta)."""
        if line.kind == "gap":
            for ticker in line.tickers:
                self._sides.pop(ticker, None)
        if line.kind == "snapshot" and line.book is not None:
            self._sides[line.ticker] = {
                Side.YES: {lvl.price: lvl.count for lvl in line.book.yes},
                Side.NO: {lvl.price: lvl.count for lvl in line.book.no},
            }
            return self.book(line.ticker)
        if line.kind != "delta":
            return None
        self._apply_delta(line)
        return self.book(line.ticker)

    def _apply_delta(self, line: Line) -> None:
        sides = self._sides.get(line.ticker)
        if sides is None or line.side is None:
            raise WireFormatError(
                f"{line.where}: ticker: a delta of {line.ticker} with no snapshot since the "
                "recording began or since its last gap"
            )
        levels = sides[line.side]
        size = levels.get(line.price, 0) + line.delta
        if size < 0:
            raise WireFormatError(
                f"{line.where}: delta: leaves {line.ticker} {line.side.value} at "
                f"{line.price} negative ({size})"
            )
        if size:
            levels[line.price] = size
        else:
            levels.pop(line.price, None)

    def book(self, ticker: str) -> OrderBook:
        sides = self._sides.get(ticker, {})

        def side(which: Side) -> tuple[PriceLevel, ...]:
            return tuple(PriceLevel(p, c) for p, c in sorted(sides.get(which, {}).items()))

        return OrderBook(ticker=ticker, yes=side(Side.YES), no=side(Side.NO))
