"""Read recorded history for fitting, split it honestly, and bin it for a calibration curve.

For every settled market, each price observed before its close (a trade print's YES price, a
quote's mid when both sides are quoted) is one sample. A market's samples share a total weight
of 1, so busy markets do not dominate. Markets are split by time and by event
(:func:`split_by_time`), never by print; scoring lives in
:mod:`kalshi_core.forecasting.evaluation`. A data set may describe its sampling in an optional
``set.json`` (:func:`read_set_info`); outcome-selected sets are kept out of fits by default.
"""

from __future__ import annotations

import itertools
import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs

from kalshi_core.errors import ConfigError, WireFormatError
from kalshi_core.forecasting.calibration import BinStats
from kalshi_core.history_format import (
    Quote,
    history_lines,
    market_from_history,
    quote_from_history,
    read_history,
    trade_from_legacy,
)
from kalshi_core.models import Market, MarketResult, Trade
from kalshi_core.money import CONTRACT, DOLLAR, Price, parse_dollars
from kalshi_core.wire import from_wire

MARKETS_FILE = "markets.jsonl"
TRADES_FILE = "trades.jsonl.gz"
QUOTES_FILE = "quotes.jsonl.gz"

Progress = Callable[[str], None]
# ``result_source`` values whose label was inferred from the market's own last quote
PRICE_DERIVED_RESULTS = frozenset({"final_quote"})


@attrs.frozen(kw_only=True)
class MarketSamples:
    """The prices one settled market showed before it closed, and how it settled.

    ``times[i]`` is when ``prices[i]`` was seen, ``spreads[i]`` the quoted spread then (``None``
    for a trade print) and ``volumes[i]`` the contracts printed so far. The event, series,
    category and strike let evaluation group markets and rebuild a strike ladder.
    """

    ticker: str
    settled_yes: bool
    prices: tuple[Price, ...]
    first_seen: datetime
    close_time: datetime
    event_ticker: str = ""
    series_ticker: str = ""
    category: str = ""
    data_set: str = ""
    strike: float | None = None
    strike_type: str = ""
    times: tuple[datetime, ...] = ()
    spreads: tuple[Price | None, ...] = ()
    volumes: tuple[float, ...] = ()


@attrs.frozen(kw_only=True)
class FitOptions:
    """How to fit: bin count, Beta prior strength (in markets), minimum markets per bin."""

    bins: int = 20
    prior_strength: float = 2.0
    min_samples_per_bin: int = 5
    holdout_fraction: float = 0.2
    fallback_to_price: bool = False

    def __attrs_post_init__(self) -> None:
        if not 1 <= self.bins <= DOLLAR:
            raise ConfigError(f"fit bins must be 1..{DOLLAR}, got {self.bins}")
        if not 0.0 <= self.holdout_fraction < 1.0:
            raise ConfigError(f"holdout fraction must be in [0, 1), got {self.holdout_fraction}")
        if self.prior_strength < 0 or self.min_samples_per_bin < 0:
            raise ConfigError("prior strength and min samples per bin must not be negative")


def discover_data_sets(root: Path) -> list[str]:
    """Names of the data sets under ``root``: sub-folders holding a ``markets.jsonl``."""
    if not root.is_dir():
        raise ConfigError(f"history folder {root} does not exist")
    return sorted(p.name for p in root.iterdir() if (p / MARKETS_FILE).is_file())


Observation = tuple[datetime, Price, Price | None, float]  # time, price, spread, contracts


def any_trade(record: dict[str, Any], *, where: str = "history trade") -> Trade:
    """A legacy integer-cent print, or a fixed-point one (``yes_price_dollars``, ``count_fp``)."""
    if "yes_price_dollars" in record:
        return from_wire(record, Trade, where=where)
    return trade_from_legacy(record, where=where)


def exact_quote(record: dict[str, Any], *, where: str = "history quote") -> Quote:
    """A quote at its exact ``*_dollars`` prices when recorded (sub-penny ticks), else cents."""
    quote = quote_from_history(record, where=where)
    if "yes_bid_dollars" not in record or "yes_ask_dollars" not in record:
        return quote
    try:
        bid = parse_dollars(str(record["yes_bid_dollars"]), "yes_bid_dollars")
        ask = parse_dollars(str(record["yes_ask_dollars"]), "yes_ask_dollars")
    except ValueError as exc:
        raise WireFormatError(f"{where}: {exc}") from None
    return attrs.evolve(quote, yes_bid=bid, yes_ask=ask)


def _observations(folder: Path) -> dict[str, list[Observation]]:
    seen: dict[str, list[Observation]] = defaultdict(list)
    if (folder / TRADES_FILE).is_file():
        for trade in read_history(folder / TRADES_FILE, any_trade):
            contracts = trade.count / CONTRACT
            seen[trade.ticker].append((trade.created_time, trade.yes_price, None, contracts))
    if (folder / QUOTES_FILE).is_file():
        for quote in read_history(folder / QUOTES_FILE, exact_quote):
            if quote.yes_bid > 0 and quote.yes_ask < DOLLAR:
                mid = (quote.yes_bid + quote.yes_ask) // 2
                seen[quote.ticker].append((quote.ts, mid, quote.yes_ask - quote.yes_bid, 0.0))
    return seen


def price_derived_results(root: Path, name: str) -> int:
    """How many markets of ``name`` carry a label inferred from their own last quote."""
    rows = _raw_markets(root / name).values()
    return sum(row.get("result_source") in PRICE_DERIVED_RESULTS for row in rows)


def _raw_markets(folder: Path) -> dict[str, dict[str, Any]]:
    """The extra ``markets.jsonl`` fields the domain model drops (series, category, strike)."""
    rows: dict[str, dict[str, Any]] = {}
    for where, line in history_lines(folder / MARKETS_FILE):
        if line.strip():
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise WireFormatError(f"{where}: not JSON: {exc}") from None
            if isinstance(record, dict):
                rows[str(record.get("ticker", ""))] = record
    return rows


def _samples(
    market: Market, raw: Mapping[str, Any], seen: Sequence[Observation], data_set: str
) -> MarketSamples:
    volumes = list(itertools.accumulate(o[3] for o in seen))
    strike = raw.get("floor_strike")
    return MarketSamples(
        ticker=market.ticker,
        settled_yes=market.result is MarketResult.YES,
        prices=tuple(o[1] for o in seen),
        first_seen=seen[0][0],
        close_time=market.close_time,
        event_ticker=market.event_ticker,
        series_ticker=str(raw.get("series_ticker") or market.series_ticker),
        category=str(raw.get("category") or ""),
        data_set=data_set,
        strike=float(strike) if isinstance(strike, int | float) else None,
        strike_type=str(raw.get("strike_type") or ""),
        times=tuple(o[0] for o in seen),
        spreads=tuple(o[2] for o in seen),
        volumes=tuple(volumes),
    )


def load_data_set(root: Path, name: str) -> list[MarketSamples]:
    """Every settled market of data set ``name`` that showed at least one price before close."""
    folder = root / name
    if not (folder / MARKETS_FILE).is_file():
        known = ", ".join(discover_data_sets(root)) or "none"
        raise ConfigError(f"data set {name!r} has no {MARKETS_FILE} in {root} (found: {known})")
    observations = _observations(folder)
    raw = _raw_markets(folder)
    loaded: list[MarketSamples] = []
    for market in read_history(folder / MARKETS_FILE, market_from_history):
        before_close = sorted(
            (o for o in observations.get(market.ticker, ()) if o[0] < market.close_time),
            key=lambda o: (o[0], o[1]),
        )
        if market.result not in (MarketResult.YES, MarketResult.NO) or not before_close:
            continue
        if raw.get(market.ticker, {}).get("result_source") in PRICE_DERIVED_RESULTS:
            continue  # its label is a function of its price: scoring on it is circular
        loaded.append(_samples(market, raw.get(market.ticker, {}), before_close, name))
    return loaded


def bin_bounds(bins: int) -> list[tuple[Price, Price]]:
    """``bins`` half-open price ranges covering 0..$1 on the integer price grid."""
    edges = [-(-index * DOLLAR // bins) for index in range(bins)] + [DOLLAR + 1]
    return list(itertools.pairwise(edges))


def bin_index(price: Price, bins: int) -> int:
    return min(max(price, 0) * bins // DOLLAR, bins - 1)


def bin_statistics(markets: Iterable[MarketSamples], bins: int) -> list[BinStats]:
    """Samples, markets and per-market weights falling in each bin."""
    samples = [0] * bins
    market_count = [0] * bins
    weight = [0.0] * bins
    yes_weight = [0.0] * bins
    for market in markets:
        share = 1.0 / len(market.prices)
        touched = set()
        for price in market.prices:
            index = bin_index(price, bins)
            touched.add(index)
            samples[index] += 1
            weight[index] += share
            yes_weight[index] += share if market.settled_yes else 0.0
        for index in touched:
            market_count[index] += 1
    return [
        BinStats(lower=lo, upper=min(hi, DOLLAR), samples=s, markets=m, weight=w, yes_weight=y)
        for (lo, hi), s, m, w, y in zip(
            bin_bounds(bins), samples, market_count, weight, yes_weight, strict=True
        )
    ]


SET_INFO_FILE = "set.json"


@attrs.frozen(kw_only=True)
class DataSetInfo:
    """A data set's optional ``set.json``: how it was sampled and whether on the outcome."""

    name: str
    sampling: str = ""
    outcome_selected: bool = False
    results_inferred: bool = False
    caveats: tuple[str, ...] = ()

    @property
    def unfit(self) -> bool:
        """Selected on the outcome, or labelled from its own prices: not to be fitted on."""
        return self.outcome_selected or self.results_inferred


def read_set_info(root: Path, name: str) -> DataSetInfo:
    """``set.json`` beside ``markets.jsonl`` (absent: nothing known, not outcome-selected)."""
    path = root / name / SET_INFO_FILE
    if not path.is_file():
        return DataSetInfo(name=name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return _set_info(name, data)
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"data set description {path} is unreadable: {exc}") from None


def _set_info(name: str, data: Any) -> DataSetInfo:
    if not isinstance(data, dict):
        raise TypeError("expected a JSON object")
    selected = data.get("outcome_selected", False)
    inferred = data.get("results_inferred", False)
    for key, value in (("outcome_selected", selected), ("results_inferred", inferred)):
        if not isinstance(value, bool):
            raise TypeError(f"{key} must be true or false, got {value!r}")
    caveats = data.get("caveats", [])
    if not isinstance(caveats, list) or not all(isinstance(c, str) for c in caveats):
        raise TypeError("caveats must be a list of strings")
    return DataSetInfo(
        name=name,
        sampling=str(data.get("sampling", "")),
        outcome_selected=selected,
        results_inferred=inferred,
        caveats=tuple(caveats),
    )


TIME_SPLIT = "by time within each data set: the latest-closing events held out whole"


@attrs.frozen(kw_only=True)
class Split:
    """Markets to fit on and markets to score on; ``embargoed`` overlapped the cut in time."""

    train: tuple[MarketSamples, ...]
    holdout: tuple[MarketSamples, ...]
    embargoed: int = 0
    how: str = TIME_SPLIT


def split_by_time(markets: Sequence[MarketSamples], holdout_fraction: float) -> Split:
    """Within each data set, the latest-closing share of *events* is held out, whole.

    An event's markets never straddle the split, and a training market must have closed
    before the first held-out price was seen (markets overlapping the cut are dropped), so no
    print of the held-out future leaks into the fit.
    """
    by_set: dict[str, list[MarketSamples]] = defaultdict(list)
    for market in markets:
        by_set[market.data_set].append(market)
    train: list[MarketSamples] = []
    holdout: list[MarketSamples] = []
    embargoed = 0
    for name in sorted(by_set):
        part = _split_one(by_set[name], holdout_fraction)
        train.extend(part.train)
        holdout.extend(part.holdout)
        embargoed += part.embargoed
    return Split(train=tuple(train), holdout=tuple(holdout), embargoed=embargoed)


def _split_one(markets: Sequence[MarketSamples], fraction: float) -> Split:
    events: dict[str, list[MarketSamples]] = defaultdict(list)
    for market in markets:
        events[market.event_ticker or market.ticker].append(market)
    order = sorted(events, key=lambda e: (max(m.close_time for m in events[e]), e))
    held_count = math.floor(len(order) * fraction)
    held = [m for e in order[len(order) - held_count :] for m in events[e]]
    if not held:
        return Split(train=tuple(markets), holdout=())
    cut = min(m.first_seen for m in held)
    early = [m for e in order[: len(order) - held_count] for m in events[e]]
    train = [m for m in early if m.close_time <= cut]
    return Split(train=tuple(train), holdout=tuple(held), embargoed=len(early) - len(train))
