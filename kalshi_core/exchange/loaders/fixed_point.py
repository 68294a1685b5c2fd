"""The fixed-point history variant (the ``crypto15m_tape`` set): the documented folder layout,
but trade prints in Kalshi's current fixed-point wire (``yes_price_dollars``, ``count_fp``:
sub-penny prices, fractional counts) and quotes with exact ``yes_bid_dollars`` /
``yes_ask_dollars`` and per-side resting depth (``yes_depth_fp``, ``no_depth_fp``).

Markets trade on Kalshi's tapered deci-cent grid ($0.001 ticks below $0.10 and above $0.90,
$0.01 between), so the replayed book can stand at the recorded sub-penny prices.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs

from kalshi_core.errors import WireFormatError
from kalshi_core.exchange.loaders.base import (
    RecordedSet,
    as_listed,
    check_known,
    check_market,
    first_record,
    series_of,
)
from kalshi_core.exchange.replay import MARKETS_FILE, QUOTES_FILE, TRADES_FILE
from kalshi_core.history_format import Quote, market_from_history, read_history
from kalshi_core.models import (
    Market,
    MarketResult,
    PriceLevelStructure,
    PriceRange,
    Trade,
    count_fp,
    dollars,
    timestamp,
)
from kalshi_core.money import DOLLAR, Count, Price
from kalshi_core.wire import from_wire

__all__ = ["TAPERED_DECI_CENT_GRID", "DepthQuote", "FixedPointLoader"]

TAPERED_DECI_CENT_GRID = (
    PriceRange(start=0, end=DOLLAR // 10, step=10),
    PriceRange(start=DOLLAR // 10, end=DOLLAR * 9 // 10, step=100),
    PriceRange(start=DOLLAR * 9 // 10, end=DOLLAR, step=10),
)


@attrs.frozen(kw_only=True)
class DepthQuote(Quote):
    """A top-of-book snapshot with the total resting contracts behind each side: ``bid_depth``
    on the YES-bid book, ``ask_depth`` on the NO-bid book (a NO bid is a YES ask)."""

    bid_depth: Count | None = None
    ask_depth: Count | None = None


@attrs.frozen(kw_only=True)
class _TapeQuote:
    ticker: str
    ts: datetime = timestamp()
    yes_bid: Price = dollars("yes_bid_dollars")
    yes_ask: Price = dollars("yes_ask_dollars")
    yes_depth: Count | None = count_fp("yes_depth_fp", default=None)
    no_depth: Count | None = count_fp("no_depth_fp", default=None)


class FixedPointLoader:
    """Reads a documented-layout folder whose trades or quotes are fixed-point."""

    def recognises(self, folder: Path) -> bool:
        if not (folder / MARKETS_FILE).is_file():
            return False
        trade = first_record(folder / TRADES_FILE) or {}
        quote = first_record(folder / QUOTES_FILE) or {}
        return "yes_price_dollars" in trade or "yes_bid_dollars" in quote

    def load(self, folder: Path) -> RecordedSet:
        results: dict[str, MarketResult] = {}
        category: dict[str, str] = {}
        sources: Counter[str] = Counter()
        markets = list(
            read_history(folder / MARKETS_FILE, _market_reader(results, category, sources))
        )
        known = set(results)
        return RecordedSet(
            markets=tuple(markets),
            results=results,
            series=series_of(markets, category),
            trades=tuple(_optional(folder / TRADES_FILE, _trade_reader(known))),
            quotes=tuple(_optional(folder / QUOTES_FILE, _quote_reader(known))),
            caveats=_inferred_caveat(sources),
        )


def _market_reader(
    results: dict[str, MarketResult], category: dict[str, str], sources: Counter[str]
) -> Any:
    def parse(record: dict[str, Any], *, where: str) -> Market:
        market = market_from_history(record, where=where)
        check_market(market, results, where)
        results[market.ticker] = market.result
        category[market.ticker] = str(record.get("category") or "")
        sources[str(record.get("result_source") or "recorded")] += 1
        return attrs.evolve(
            as_listed(market),
            price_level_structure=PriceLevelStructure.TAPERED_DECI_CENT,
            price_ranges=TAPERED_DECI_CENT_GRID,
        )

    return parse


def _trade_reader(known: set[str]) -> Any:
    def parse(record: dict[str, Any], *, where: str) -> Trade:
        trade = from_wire(record, Trade, where=where)
        check_known(trade.ticker, known, where, MARKETS_FILE)
        if trade.yes_price + trade.no_price != DOLLAR or not 0 < trade.yes_price < DOLLAR:
            raise WireFormatError(
                f"{where}: yes_price_dollars: {trade.yes_price} + {trade.no_price} "
                "(1/10,000 $) must be two prices strictly inside (0, 1) summing to 1"
            )
        if trade.count <= 0:
            raise WireFormatError(f"{where}: count_fp: {trade.count / 100} is not positive")
        return trade

    return parse


def _quote_reader(known: set[str]) -> Any:
    def parse(record: dict[str, Any], *, where: str) -> DepthQuote:
        tape = from_wire(record, _TapeQuote, where=where)
        check_known(tape.ticker, known, where, MARKETS_FILE)
        if not 0 <= tape.yes_bid < tape.yes_ask <= DOLLAR:
            raise WireFormatError(
                f"{where}: yes_bid_dollars: bid {tape.yes_bid} is not below ask "
                f"{tape.yes_ask} (1/10,000 $) inside [0, 1]"
            )
        return DepthQuote(
            ticker=tape.ticker,
            ts=tape.ts,
            yes_bid=tape.yes_bid,
            yes_ask=tape.yes_ask,
            bid_depth=tape.yes_depth,
            ask_depth=tape.no_depth,
        )

    return parse


def _optional(path: Path, parse: Any) -> list[Any]:
    return list(read_history(path, parse)) if path.exists() else []


def _inferred_caveat(sources: Counter[str]) -> tuple[str, ...]:
    inferred = sources.get("final_quote", 0)
    if not inferred:
        return ()
    total = sum(sources.values())
    return (
        f"{inferred} of {total} results are inferred from the last quote "
        "(result_source final_quote), not settled by Kalshi",
    )
