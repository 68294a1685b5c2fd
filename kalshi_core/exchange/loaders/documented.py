"""The documented history format (``kalshi_core/data/history/README.md``): ``markets.jsonl``
plus ``trades.jsonl.gz`` (legacy integer-cent prints) and/or ``quotes.jsonl.gz`` (cents)."""

from __future__ import annotations

from pathlib import Path

from kalshi_core.exchange.loaders.base import RecordedSet, first_record
from kalshi_core.exchange.replay import MARKETS_FILE, TRADES_FILE, read_documented_set

__all__ = ["DocumentedFormatLoader"]


class DocumentedFormatLoader:
    """Reads a folder with a ``markets.jsonl`` whose trades, if any, are integer-cent prints."""

    def recognises(self, folder: Path) -> bool:
        if not (folder / MARKETS_FILE).is_file():
            return False
        trade = first_record(folder / TRADES_FILE)
        return trade is None or "yes_price_dollars" not in trade

    def load(self, folder: Path) -> RecordedSet:
        return read_documented_set(folder)
