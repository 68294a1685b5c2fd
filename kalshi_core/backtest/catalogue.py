"""What the recorded history says about the markets of a backtest, read after the run.

The engine never sees these while it trades (strategy-visible markets carry no result); the
report needs them afterwards: each market's recorded result (to score forecasts), its close
time (time-to-close attribution), its series' category, the last recorded price of a market
still open when the window ended (its mark), and the data's caveats. The history is read by
the same loaders (``register_history_loaders``) as the run read it, so any format a run can
replay can be reported on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from kalshi_core.backtest.records import Mark, MarketInfo
from kalshi_core.exchange.loaders.base import NamedLoader
from kalshi_core.exchange.replay import EventKind, History, HistoryEvent, load_history
from kalshi_core.money import DOLLAR


def read_history(
    data_dir: Path, sets: Sequence[str], loaders: Sequence[NamedLoader] | None = None
) -> History:
    return load_history(data_dir, list(sets), loaders=loaders)


def market_infos(history: History) -> dict[str, MarketInfo]:
    """Every recorded market of ``history``, by ticker."""
    found: dict[str, MarketInfo] = {}
    for market in history.markets:
        series = history.series.get(market.series_ticker)
        result = history.results.get(market.ticker)
        found[market.ticker] = MarketInfo(
            ticker=market.ticker,
            event_ticker=market.event_ticker,
            series_ticker=market.series_ticker,
            category=series.category if series is not None else "",
            close_time=market.close_time,
            result=result.value if result is not None else "",
        )
    return found


def recorded_marks(
    history: History, tickers: Iterable[str], end: datetime | None
) -> dict[str, Mark]:
    """The last recorded price at or before ``end`` of each of ``tickers``: a two-sided
    quote's mid or a trade's price, whichever is later (events are in time order)."""
    wanted = set(tickers)
    marks: dict[str, Mark] = {}
    for event in history.events:
        if end is not None and event.time > end:
            break
        if event.ticker in wanted:
            mark = _mark_of(event)
            if mark is not None:
                marks[event.ticker] = mark
    return marks


def _mark_of(event: HistoryEvent) -> Mark | None:
    if event.kind is EventKind.TRADE and event.trade is not None:
        return Mark(
            ticker=event.ticker,
            price=event.trade.yes_price,
            source="last recorded trade",
            time=event.time,
        )
    quote = event.quote
    if event.kind is not EventKind.QUOTE or quote is None:
        return None
    if not 0 < quote.yes_bid < quote.yes_ask < DOLLAR:  # one-sided: no mid to mark at
        return None
    return Mark(
        ticker=event.ticker,
        price=(quote.yes_bid + quote.yes_ask) // 2,
        source="last recorded quote's mid",
        time=event.time,
    )


def history_caveats(history: History) -> dict[str, str]:
    """The caveats the loaders and each set's ``set.json`` state (``"set: text"`` each)."""
    caveats: dict[str, str] = {}
    for line in history.caveats:
        name, sep, text = line.partition(": ")
        key, said = (name, text) if sep else ("data", line)
        caveats[key] = f"{caveats[key]} {said}" if key in caveats else said
    return caveats


def data_caveats(
    data_dir: Path, sets: Sequence[str], history: History | None = None
) -> dict[str, str]:
    """Each set's caveats: what its loader and ``set.json`` state, else what its README says
    (``- Caveats: ...`` or a ``Caveats`` list under a heading naming the set, in the set's own
    README.md or the folder's); sets without any are left out."""
    caveats = history_caveats(history) if history is not None else {}
    for name in sets:
        if name in caveats:
            continue
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
