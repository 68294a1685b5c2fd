"""What the recorded history says about the markets of a backtest, read after the run.

The engine never sees these while it trades (strategy-visible markets carry no result); the
report needs them afterwards: each market's recorded result (to score forecasts), its close
time (time-to-close attribution), its series' category, the last recorded price of a market
still open when the window ended (its mark), and the data set's caveats where its README
states them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from kalshi_core.backtest.records import Mark, MarketInfo
from kalshi_core.history_format import (
    Quote,
    market_from_history,
    quote_from_history,
    read_history,
    trade_from_legacy,
)
from kalshi_core.models import Trade
from kalshi_core.money import DOLLAR

MARKETS_FILE = "markets.jsonl"
TRADES_FILE = "trades.jsonl.gz"
QUOTES_FILE = "quotes.jsonl.gz"

T = TypeVar("T")


def read_markets(data_dir: Path, sets: Sequence[str]) -> dict[str, MarketInfo]:
    """Every recorded market of ``sets``, by ticker."""
    found: dict[str, MarketInfo] = {}
    for name in sets:
        for info in read_history(data_dir / name / MARKETS_FILE, _market_info):
            found[info.ticker] = info
    return found


def _market_info(record: dict[str, Any], *, where: str) -> MarketInfo:
    market = market_from_history(record, where=where)
    category = record.get("category")
    return MarketInfo(
        ticker=market.ticker,
        event_ticker=market.event_ticker,
        series_ticker=market.series_ticker,
        category=category if isinstance(category, str) else "",
        close_time=market.close_time,
        result=market.result.value,
    )


def recorded_marks(
    data_dir: Path, sets: Sequence[str], tickers: Iterable[str], end: datetime | None
) -> dict[str, Mark]:
    """The last recorded price at or before ``end`` of each of ``tickers``: a quote's mid or a
    trade's price, whichever is later (a quote on a tie)."""
    wanted = set(tickers)
    marks: dict[str, Mark] = {}
    if not wanted:
        return marks
    for name in sets:
        folder = data_dir / name
        for mark in _trade_marks(folder / TRADES_FILE, wanted, end):
            _keep_later(marks, mark)
        for mark in _quote_marks(folder / QUOTES_FILE, wanted, end):
            _keep_later(marks, mark)
    return marks


def _keep_later(marks: dict[str, Mark], mark: Mark) -> None:
    known = marks.get(mark.ticker)
    if known is None or known.time is None or (mark.time is not None and mark.time >= known.time):
        marks[mark.ticker] = mark


def _trade_marks(path: Path, wanted: set[str], end: datetime | None) -> Iterable[Mark]:
    if not path.exists():
        return []
    last: dict[str, Trade] = {}
    for trade in read_history(path, _only(wanted, trade_from_legacy)):
        if trade is not None and (end is None or trade.created_time <= end):
            last[trade.ticker] = trade
    return [
        Mark(ticker=t, price=trade.yes_price, source="last recorded trade", time=trade.created_time)
        for t, trade in last.items()
    ]


def _quote_marks(path: Path, wanted: set[str], end: datetime | None) -> Iterable[Mark]:
    if not path.exists():
        return []
    last: dict[str, Quote] = {}
    for quote in read_history(path, _only(wanted, quote_from_history)):
        if quote is not None and (end is None or quote.ts <= end) and _two_sided(quote):
            last[quote.ticker] = quote
    return [
        Mark(
            ticker=t,
            price=(quote.yes_bid + quote.yes_ask) // 2,
            source="last recorded quote's mid",
            time=quote.ts,
        )
        for t, quote in last.items()
    ]


def _only(wanted: set[str], parse: Callable[..., T]) -> Callable[..., T | None]:
    """``parse`` for records of ``wanted`` markets only (parsing a whole tape is slow)."""

    def parse_wanted(record: dict[str, Any], *, where: str) -> T | None:
        return parse(record, where=where) if record.get("ticker") in wanted else None

    return parse_wanted


def _two_sided(quote: Quote) -> bool:
    return 0 < quote.yes_bid < quote.yes_ask < DOLLAR


def data_caveats(data_dir: Path, sets: Sequence[str]) -> dict[str, str]:
    """Each set's caveats as its README states them (``- Caveats: ...`` under a heading naming
    the set, in the set's own README.md or the folder's); sets without any are left out."""
    caveats: dict[str, str] = {}
    for name in sets:
        for readme in (data_dir / name / "README.md", data_dir / "README.md"):
            text = _caveat_of(readme, name)
            if text:
                caveats[name] = text
                break
    return caveats


def _caveat_of(readme: Path, name: str) -> str:
    if not readme.is_file():
        return ""
    text = readme.read_text(encoding="utf-8", errors="replace")
    if readme.parent.name != name:  # the folder's README: only the set's own section
        section = re.search(rf"^#+ +{re.escape(name)}/?\b.*?(?=^#+ |\Z)", text, re.M | re.S)
        text = section.group(0) if section else ""
    bullet = re.search(r"^[-*] +\*{0,2}Caveats\*{0,2}:? *(.*?)(?=^[-*#] |\Z)", text, re.M | re.S)
    if bullet:
        return " ".join(bullet.group(1).split())
    # a "Caveats" line (or heading) over a list, up to the next heading or paragraph
    listed = re.search(r"^#* *Caveats:? *\n+((?:(?:[-*] |  ).*\n?|\n)+)", text, re.M)
    return " ".join(listed.group(1).split()) if listed else ""


def markets_of(found: Mapping[str, MarketInfo], tickers: Iterable[str]) -> dict[str, MarketInfo]:
    return {t: found[t] for t in tickers if t in found}
