"""Recordings made by ``kalshi-core record`` (:mod:`kalshi_core.recording.format`): every book
record becomes a :class:`~kalshi_core.recording.format.BookQuote`, the full book as it stood
after it, so a replay shows the recorded book at every sequence number.

Markets are listed as first recorded; a market whose last record carries a result settles on
it, any other is left unsettled after it closes. Gaps are counted into the set's caveats.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from kalshi_core.errors import WireFormatError
from kalshi_core.exchange.loaders.base import RecordedSet, as_listed, check_known, series_of
from kalshi_core.models import Market, MarketResult, Trade
from kalshi_core.recording.format import (
    BookQuote,
    BookTracker,
    Line,
    from_ms,
    read_recording,
    recording_files,
)

__all__ = ["RecordedL2Loader"]


@attrs.define
class _Reading:
    first: dict[str, Market] = attrs.field(factory=dict)
    last: dict[str, Market] = attrs.field(factory=dict)
    quotes: list[BookQuote] = attrs.field(factory=list)
    trades: list[Trade] = attrs.field(factory=list)
    gaps: int = 0
    tracker: BookTracker = attrs.field(factory=BookTracker)
    last_ts: int = 0

    def take(self, line: Line) -> None:
        if line.ts_ms < self.last_ts:
            raise WireFormatError(
                f"{line.where}: ts_ms: {line.ts_ms} goes back from {self.last_ts}"
            )
        self.last_ts = line.ts_ms
        if line.market is not None:
            self.first.setdefault(line.ticker, line.market)
            self.last[line.ticker] = line.market
            return
        if line.kind in ("snapshot", "delta", "trade"):
            check_known(line.ticker, self.first, line.where, "market records so far")
        self.gaps += line.kind == "gap"
        if line.trade is not None:
            self.trades.append(line.trade)
        book = self.tracker.apply(line)
        if book is not None:
            self.quotes.append(BookQuote.of(book, from_ms(line.ts_ms), len(self.quotes) + 1))


class RecordedL2Loader:
    """Reads a folder of ``l2-YYYY-MM-DD.jsonl`` day files."""

    def recognises(self, folder: Path) -> bool:
        return folder.is_dir() and bool(recording_files(folder))

    def load(self, folder: Path) -> RecordedSet:
        reading = _Reading()
        for line in read_recording(folder):
            reading.take(line)
        if not reading.first:
            raise WireFormatError(f"{folder}: the recording has no market records")
        markets = [as_listed(m) for m in reading.first.values()]
        results = {t: m.result for t, m in reading.last.items()}
        caveats: tuple[str, ...] = ()
        if reading.gaps:
            caveats = (
                f"{reading.gaps} gaps in the recording: each market's book is unknown from a "
                "gap to its next snapshot",
            )
        unsettled = sum(r not in _SETTLED for r in results.values())
        if unsettled:
            caveats += (f"{unsettled} markets have no recorded result and are left unsettled",)
        return RecordedSet(
            markets=tuple(markets),
            results=results,
            series=series_of(markets, {}),
            trades=tuple(reading.trades),
            quotes=tuple(reading.quotes),
            caveats=caveats,
        )


_SETTLED = (MarketResult.YES, MarketResult.NO)
