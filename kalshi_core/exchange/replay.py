"""Replay recorded market history into the local exchange venue.

:func:`load_history` reads data sets in the recorded-history format (``markets.jsonl`` plus
``trades.jsonl.gz`` and/or ``quotes.jsonl.gz``, see the data README) into one time-ordered
stream of :class:`HistoryEvent`; :class:`Replay` applies that stream to a
:class:`~kalshi_core.exchange.venue.Venue`: it lists each market ahead of its open time,
opens and closes it at its recorded times, feeds quotes and prints to the
:class:`~kalshi_core.exchange.liquidity.LiquidityProvider` (so a strategy meets a book and a
tape that follow history) and settles each market on its recorded result shortly after close.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import attrs

from kalshi_core.errors import ConfigError, ExchangeError, WireFormatError
from kalshi_core.exchange.fill_models import FillModel
from kalshi_core.exchange.liquidity import LiquidityConfig, LiquidityProvider
from kalshi_core.exchange.loaders.base import (
    SET_INFO_FILE,
    NamedLoader,
    RecordedSet,
    SetInfo,
    choose_loader,
    installed_loaders,
    read_set_info,
)
from kalshi_core.exchange.venue import Venue
from kalshi_core.fees import FeeSchedule
from kalshi_core.history_format import (
    MarketRecord,
    Quote,
    quote_from_history,
    read_history,
    record_from_history,
    trade_from_legacy,
)
from kalshi_core.models import FeeType, Market, MarketResult, MarketStatus, Series, Trade
from kalshi_core.money import DOLLAR, Money
from kalshi_core.wire import from_wire

__all__ = [
    "DEFAULT_PROVIDER_CASH",
    "EventKind",
    "History",
    "HistoryEvent",
    "Replay",
    "Timing",
    "assemble_history",
    "available_sets",
    "load_history",
    "read_documented_set",
    "sets_in",
    "window",
]

MARKETS_FILE = "markets.jsonl"
TRADES_FILE = "trades.jsonl.gz"
QUOTES_FILE = "quotes.jsonl.gz"
DEFAULT_PROVIDER_CASH: Money = 10_000_000 * DOLLAR

_Record = TypeVar("_Record", Trade, Quote)
_INSTANT = timedelta(microseconds=1)


class EventKind(enum.IntEnum):
    """What happens at an event; the value orders events that share a timestamp."""

    LIST = 0
    OPEN = 1
    QUOTE = 2
    TRADE = 3
    CLOSE = 4
    DETERMINE = 5
    FINALIZE = 6


@attrs.frozen(kw_only=True)
class HistoryEvent:
    """One step of the replay. ``trade`` / ``quote`` are set for TRADE / QUOTE events."""

    time: datetime
    kind: EventKind
    ticker: str
    trade: Trade | None = None
    quote: Quote | None = None


@attrs.frozen(kw_only=True)
class Timing:
    """When the lifecycle steps history does not record happen, relative to recorded times."""

    list_ahead: timedelta = timedelta(hours=1)
    determine_after: timedelta = timedelta(minutes=1)
    finalize_after: timedelta = timedelta(minutes=1)


@attrs.frozen(kw_only=True, eq=False)
class History:
    """Markets as listed (status initialized, no result) and the merged event stream.

    ``results`` holds each market's recorded result, applied at its DETERMINE event;
    ``records`` (when the loader has them) how each ended: scalar payout, void, a dispute, an
    early close and any fee waiver.
    """

    sets: tuple[str, ...]
    markets: tuple[Market, ...]
    results: Mapping[str, MarketResult]
    events: tuple[HistoryEvent, ...]
    series: Mapping[str, Series] = attrs.field(factory=dict)
    records: Mapping[str, MarketRecord] = attrs.field(factory=dict)
    #: What every report using this history must say about it ("set: text"), from each
    #: set's ``set.json`` and its loader.
    caveats: tuple[str, ...] = ()

    @property
    def start_time(self) -> datetime:
        return self.events[0].time

    @property
    def end_time(self) -> datetime:
        return self.events[-1].time


def available_sets(data_dir: Path, loaders: Sequence[NamedLoader] | None = None) -> list[str]:
    """Names of the data sets in ``data_dir``: folders holding a ``set.json`` or that one of
    ``loaders`` (default: every installed one) recognises."""
    if not data_dir.is_dir():
        return []
    chosen = installed_loaders() if loaders is None else loaders
    return sorted(p.name for p in data_dir.iterdir() if p.is_dir() and _is_set(p, chosen))


def sets_in(data_dir: Path) -> list[str]:
    """:func:`available_sets` of a folder the user named (``--data``): none is a
    :class:`ConfigError` saying what a data set folder looks like."""
    found = available_sets(data_dir)
    if found:
        return found
    hint = (
        f"; {data_dir} looks like one data set itself: use --data {data_dir.parent} "
        f"--data-set {data_dir.name}"
        if (data_dir / MARKETS_FILE).is_file()
        else ""
    )
    raise ConfigError(
        f"{data_dir} holds no data sets: a data set is a folder inside it, such as "
        f"{data_dir / 'kxinxu'}, with {MARKETS_FILE} and trades.jsonl.gz or quotes.jsonl.gz "
        f"(or a set.json naming its loader); see docs/data.md{hint}"
    )


def _is_set(folder: Path, loaders: Sequence[NamedLoader]) -> bool:
    if (folder / SET_INFO_FILE).is_file():
        return True
    return any(named.loader.recognises(folder) for named in loaders)


def load_history(
    data_dir: Path,
    sets: Sequence[str],
    *,
    timing: Timing | None = None,
    loaders: Sequence[NamedLoader] | None = None,
) -> History:
    """Read the data sets ``sets`` of ``data_dir`` and merge them into one History.

    Each set's folder is read by the loader its ``set.json`` names, else by the first of
    ``loaders`` (default: every installed one) that recognises it. Raises ConfigError for a
    missing set (listing the available ones) or a folder no loader reads, and
    WireFormatError, naming the file and line, for a malformed record.
    """
    names = list(dict.fromkeys(sets))
    if not names:
        raise ConfigError(
            f"no history data sets selected; available in {data_dir}: "
            f"{', '.join(available_sets(data_dir)) or 'none'}"
        )
    chosen = installed_loaders() if loaders is None else loaders
    folders = [_set_folder(data_dir, name, chosen) for name in names]
    recorded = [_load_set(folder, chosen) for folder in folders]
    return _merged(names, recorded, timing or Timing())


def _load_set(folder: Path, loaders: Sequence[NamedLoader]) -> tuple[RecordedSet, SetInfo]:
    info = read_set_info(folder)
    return choose_loader(folder, info, loaders).loader.load(folder), info


@attrs.define
class _Combined:
    """What the sets bring besides their markets and events, combined in set order."""

    results: dict[str, MarketResult] = attrs.Factory(dict)
    records: dict[str, MarketRecord] = attrs.Factory(dict)
    series: dict[str, Series] = attrs.Factory(dict)
    caveats: list[str] = attrs.Factory(list)

    def add(self, name: str, part: RecordedSet, info: SetInfo) -> None:
        """Add set ``name``; a ticker another set already listed is refused."""
        for ticker in part.results:
            if ticker in self.results:
                raise WireFormatError(f"{name}: ticker: {ticker} is listed twice")
        self.results.update(part.results)
        self.records.update(part.records)
        self.series.update({k: v for k, v in part.series.items() if k not in self.series})
        self.caveats += [f"{name}: {text}" for text in (*info.caveats, *part.caveats)]


def _merged(
    names: Sequence[str], recorded: Sequence[tuple[RecordedSet, SetInfo]], timing: Timing
) -> History:
    combined = _Combined()
    for name, (part, info) in zip(names, recorded, strict=True):
        combined.add(name, part, info)
    history = assemble_history(
        names,
        [m for part, _ in recorded for m in part.markets],
        results=combined.results,
        trades=[t for part, _ in recorded for t in part.trades],
        quotes=[q for part, _ in recorded for q in part.quotes],
        timing=timing,
        records=combined.records,
    )
    return attrs.evolve(history, series=combined.series, caveats=tuple(combined.caveats))


def read_documented_set(folder: Path) -> RecordedSet:
    """A folder in the documented history format (the data README): ``markets.jsonl`` plus
    ``trades.jsonl.gz`` (legacy integer-cent prints) and/or ``quotes.jsonl.gz``."""
    records: dict[str, MarketRecord] = {}
    series: dict[str, Series] = {}
    markets = _read_markets(folder / MARKETS_FILE, records, series)
    known = {m.ticker for m in markets}
    return RecordedSet(
        markets=tuple(markets),
        results={ticker: record.market.result for ticker, record in records.items()},
        series=series,
        trades=tuple(_read_optional(folder / TRADES_FILE, trade_from_legacy, known)),
        quotes=tuple(_read_optional(folder / QUOTES_FILE, quote_from_history, known)),
        records=records,
    )


def window(history: History, start: datetime | None, end: datetime | None) -> History:
    """``history`` cut to the recorded time ``[start, end]``.

    Markets closed by ``start`` or not open before ``end`` are dropped. What happened before
    ``start`` is applied at ``start`` (in recorded order), so the first cycle meets the book and
    tape as they stood; nothing after ``end`` is replayed, so a market still open then stays
    unsettled (a backtest marks it to market). Raises ConfigError for an empty or inverted
    window, naming the span the history covers.
    """
    if start is None and end is None:
        return history
    if start is not None and end is not None and start >= end:
        raise ConfigError(f"the window's start {start:%Y-%m-%d %H:%M} is not before its end")
    kept = {m.ticker for m in history.markets if _in_window(m, start, end)}
    events = tuple(_retimed(e, start) for e in history.events if _keep(e, kept, end))
    if not events:
        raise ConfigError(
            f"no recorded market in {', '.join(history.sets)} trades between "
            f"{_moment(start, 'its start')} and {_moment(end, 'its end')}; the history spans "
            f"{history.start_time:%Y-%m-%d %H:%M} to {history.end_time:%Y-%m-%d %H:%M} UTC"
        )
    markets = tuple(m for m in history.markets if m.ticker in kept)
    results = {t: r for t, r in history.results.items() if t in kept}
    return attrs.evolve(history, markets=markets, results=results, events=events)


def _in_window(market: Market, start: datetime | None, end: datetime | None) -> bool:
    return (start is None or market.close_time > start) and (end is None or market.open_time < end)


def _keep(event: HistoryEvent, kept: set[str], end: datetime | None) -> bool:
    return event.ticker in kept and (end is None or event.time <= end)


def _retimed(event: HistoryEvent, start: datetime | None) -> HistoryEvent:
    if start is None or event.time >= start:
        return event
    return attrs.evolve(event, time=start)


def _moment(when: datetime | None, otherwise: str) -> str:
    return otherwise if when is None else f"{when:%Y-%m-%d %H:%M} UTC"


def assemble_history(
    sets: Iterable[str],
    markets: Sequence[Market],
    *,
    results: Mapping[str, MarketResult],
    trades: Iterable[Trade],
    quotes: Iterable[Quote],
    timing: Timing,
    records: Mapping[str, MarketRecord] | None = None,
) -> History:
    """Build the sorted event stream from parsed records (``markets`` as listed).

    A market that closed early (``records[ticker].closed_time``) closes then, not at its
    scheduled ``close_time``; it is determined after the close that happened.
    """
    events: list[HistoryEvent] = []
    for market in markets:
        events += _lifecycle_events(market, (records or {}).get(market.ticker), timing)
    events += (
        HistoryEvent(time=t.created_time, kind=EventKind.TRADE, ticker=t.ticker, trade=t)
        for t in trades
    )
    events += (
        HistoryEvent(time=q.ts, kind=EventKind.QUOTE, ticker=q.ticker, quote=q) for q in quotes
    )
    # Stable sort: records of one kind at one instant keep their file order.
    events.sort(key=lambda e: (e.time, e.kind))
    return History(
        sets=tuple(sets),
        markets=tuple(markets),
        results=dict(results),
        events=tuple(events),
        records=dict(records or {}),
    )


def _lifecycle_events(
    market: Market, record: MarketRecord | None, timing: Timing
) -> list[HistoryEvent]:
    """LIST, OPEN, CLOSE (at an early close if one is recorded), DETERMINE and FINALIZE."""
    closed = record.closed_time if record and record.closed_time else market.close_time
    closed = min(closed, market.close_time)
    determined = closed + timing.determine_after
    steps = (
        (market.open_time - timing.list_ahead, EventKind.LIST),
        (market.open_time, EventKind.OPEN),
        (closed, EventKind.CLOSE),
        (determined, EventKind.DETERMINE),
        (determined + timing.finalize_after, EventKind.FINALIZE),
    )
    return [HistoryEvent(time=time, kind=kind, ticker=market.ticker) for time, kind in steps]


def _set_folder(data_dir: Path, name: str, loaders: Sequence[NamedLoader]) -> Path:
    folder = data_dir / name
    plain_name = name not in ("", ".", "..") and folder.parent == data_dir
    if not (plain_name and folder.is_dir() and _is_set(folder, loaders)):
        available = ", ".join(available_sets(data_dir, loaders)) or "none"
        raise ConfigError(
            f"history data set {name!r} not found in {data_dir} (no folder a history loader "
            f"reads); available: {available}"
        )
    return folder


def _read_markets(
    path: Path, records: dict[str, MarketRecord], series: dict[str, Series]
) -> list[Market]:
    """Markets as they are listed: initialized, how each ended kept aside in ``records``, and
    each series with the category and fee terms its records carry in ``series``."""

    def parse(record: dict[str, Any], *, where: str) -> Market:
        recorded = record_from_history(record, where=where)
        market = recorded.market
        _remember_series(series, market, record, where)
        if market.ticker in records:
            raise WireFormatError(f"{where}: ticker: {market.ticker} is listed twice")
        if market.close_time <= market.open_time:
            raise WireFormatError(
                f"{where}: close_time: {market.ticker} closes at {market.close_time}, "
                f"not after its open_time {market.open_time}"
            )
        records[market.ticker] = recorded
        return attrs.evolve(
            market,
            status=MarketStatus.INITIALIZED,
            result=MarketResult.NONE,
            settlement_value=None,
        )

    return list(read_history(path, parse))


def _remember_series(
    series: dict[str, Series], market: Market, record: dict[str, Any], where: str
) -> None:
    """The series of ``market`` with the category and fee terms (``fee_type``,
    ``fee_multiplier``) its record carries; a record without them leaves Kalshi's defaults."""
    ticker = market.series_ticker
    category = record.get("category")
    known = series.get(ticker)
    if known is None or (isinstance(category, str) and not known.category):
        text = category if isinstance(category, str) else ""
        series[ticker] = Series(ticker=ticker, title=ticker, category=text)
    terms: dict[str, Any] = {k: record[k] for k in ("fee_type", "fee_multiplier") if k in record}
    if terms:
        fields = {"ticker": ticker, "title": ticker, "category": series[ticker].category, **terms}
        series[ticker] = from_wire(fields, Series, where=where)


def _read_optional(path: Path, parse: Callable[..., _Record], known: set[str]) -> list[_Record]:
    """Records of an optional file; each must belong to a market of the same set."""
    if not path.exists():
        return []

    def checked(record: dict[str, Any], *, where: str) -> _Record:
        parsed = parse(record, where=where)
        if parsed.ticker not in known:
            raise WireFormatError(
                f"{where}: ticker: {parsed.ticker} is not in this set's {MARKETS_FILE}"
            )
        return parsed

    return list(read_history(path, checked))


def _fill_model(
    factory: Callable[..., FillModel] | None,
    *,
    venue: Venue,
    account: str,
    tape_account: str,
    seed: int,
    liquidity: LiquidityConfig | None,
) -> FillModel:
    """The replay's fill model: ``factory``'s, else the synthetic-book LiquidityProvider."""
    if factory is not None:
        return factory(venue=venue, account=account, tape_account=tape_account, seed=seed)
    config = liquidity or LiquidityConfig()
    return LiquidityProvider(
        venue, account=account, tape_account=tape_account, seed=seed, config=config
    )


class Replay:
    """Applies a History to a Venue, in time order, as far as :meth:`advance` is told.

    When the venue's clock can be set (a ManualClock, or the served exchange's PacedClock)
    and is behind an event, the replay moves it to the event's time first, so prints carry
    their recorded times and a market's close (recorded, or the venue's own at its close
    time) comes only after every event recorded before it, however far a fast clock ran
    ahead. A clock that cannot be set stamps events when they are applied.
    """

    def __init__(
        self,
        venue: Venue,
        history: History,
        *,
        provider_account: str = "liquidity-provider",
        tape_account: str = "tape",
        seed: int = 0,
        provider_cash: Money = DEFAULT_PROVIDER_CASH,
        liquidity: LiquidityConfig | None = None,
        drive_clock: bool = True,
        fill_model: Callable[..., FillModel] | None = None,
    ) -> None:
        """``fill_model(venue=, account=, tape_account=, seed=)`` builds the fill model (see
        :mod:`kalshi_core.exchange.fill_models`); without one, the synthetic-book
        :class:`LiquidityProvider` with ``liquidity`` quotes and prints history."""
        if not history.events:
            raise ConfigError(f"history of sets {', '.join(history.sets)} has no events")
        self.venue = venue
        self.history = history
        self.provider = _fill_model(
            fill_model,
            venue=venue,
            account=provider_account,
            tape_account=tape_account,
            seed=seed,
            liquidity=liquidity,
        )
        if provider_cash > 0:
            venue.deposit(provider_account, provider_cash)
        self._markets = {m.ticker: m for m in history.markets}
        self._set_clock: Callable[[datetime], None] | None = (
            getattr(venue.clock, "set", None) if drive_clock else None
        )
        self._open: set[str] = set()
        self.events_applied = 0
        self.events_total = len(history.events)
        self.lifecycle_skipped = 0

    @property
    def start_time(self) -> datetime:
        return self.history.start_time

    @property
    def end_time(self) -> datetime:
        return self.history.end_time

    @property
    def finished(self) -> bool:
        return self.events_applied >= self.events_total

    @property
    def next_event_time(self) -> datetime | None:
        if self.finished:
            return None
        return self.history.events[self.events_applied].time

    def advance(self, until: datetime) -> int:
        """Apply every event at or before ``until`` not applied yet; returns how many."""
        events = self.history.events
        start = index = self.events_applied
        while index < self.events_total and events[index].time <= until:
            self._apply(events[index])
            index += 1
            self.events_applied = index
        return index - start

    def idle_until(self, now: datetime) -> datetime | None:
        """The next event's time if no market is trading at ``now`` and it lies ahead."""
        upcoming = self.next_event_time
        if upcoming is None or upcoming <= now:
            return None
        for ticker in self._open:
            market = self._markets[ticker]
            if market.open_time <= now < market.close_time:
                return None
        return upcoming

    def _apply(self, event: HistoryEvent) -> None:
        moment = self._moment(event)
        if self._set_clock is not None and self.venue.clock.now() < moment:
            self._set_clock(moment)
            self.venue.advance()  # orders and cancels in flight arrive before the event
        kind = event.kind
        if kind is EventKind.QUOTE:
            if event.ticker in self._open and event.quote is not None:
                self.provider.on_quote(event.quote)
        elif kind is EventKind.TRADE:
            if event.ticker in self._open and event.trade is not None:
                self.provider.on_trade(event.trade)
        else:
            self._lifecycle(kind, event.ticker)

    def _moment(self, event: HistoryEvent) -> datetime:
        """When the venue sees ``event``: a print recorded at the very instant its market
        closes comes a microsecond before it, since the venue closes a market at its close
        time (and history puts prints before a close at the same instant). A quote at that
        instant offers nothing anyone could trade and stays where it was recorded."""
        if event.kind is EventKind.TRADE:
            close = self._markets[event.ticker].close_time
            if event.time >= close:
                return close - _INSTANT
        return event.time

    def _lifecycle(self, kind: EventKind, ticker: str) -> None:
        try:
            if kind is EventKind.LIST:
                self._list(ticker)
            elif kind is EventKind.OPEN:
                self._step(ticker, MarketStatus.INITIALIZED, self.venue.open_market)
                self._open.add(ticker)
            elif kind is EventKind.CLOSE:
                self._close(ticker)
            elif kind is EventKind.DETERMINE:
                self._determine(ticker)
            elif self._final_status(ticker) is MarketStatus.FINALIZED:
                self._step(ticker, MarketStatus.DETERMINED, self.venue.finalize)
        except ExchangeError:
            # Someone (an operator via the server) moved the market already: history
            # goes on for the other markets.
            self.lifecycle_skipped += 1

    def _list(self, ticker: str) -> None:
        market = self._markets[ticker]
        self.venue.list_market(market, fees=self._fees(market))
        self.provider.register(market)

    def _fees(self, market: Market) -> FeeSchedule:
        """The series' fee type and multiplier, with the market's recorded fee waiver."""
        series = self.history.series.get(market.series_ticker)
        record = self.history.records.get(market.ticker)
        waiver = record.fee_waiver_until if record else None
        if series is None:
            return FeeSchedule(fee_type=FeeType.QUADRATIC, waiver_until=waiver)
        return FeeSchedule.from_series(series, waiver_until=waiver)

    def _final_status(self, ticker: str) -> MarketStatus:
        record = self.history.records.get(ticker)
        return record.final_status if record else MarketStatus.FINALIZED

    def _step(self, ticker: str, expected: MarketStatus, action: Callable[[str], None]) -> None:
        if self.venue.market(ticker).status is expected:
            action(ticker)
        else:
            self.lifecycle_skipped += 1

    def _close(self, ticker: str) -> None:
        self._open.discard(ticker)
        self.provider.forget(ticker)
        status = self.venue.market(ticker).status
        if status in (MarketStatus.INITIALIZED, MarketStatus.ACTIVE, MarketStatus.INACTIVE):
            self.venue.close_market(ticker)

    def _determine(self, ticker: str) -> None:
        """Settle on the recorded result only; a disputed market is left unpaid, never
        settled on a guess."""
        status = self.venue.market(ticker).status
        if status not in (MarketStatus.ACTIVE, MarketStatus.INACTIVE, MarketStatus.CLOSED):
            self.lifecycle_skipped += 1
            return
        record = self.history.records.get(ticker)
        if record is None:
            self.venue.determine(ticker, self.history.results[ticker])
        elif record.final_status is MarketStatus.DISPUTED:
            if status is not MarketStatus.CLOSED:
                self.venue.close_market(ticker)
            self.venue.dispute(ticker)
        else:
            result = record.market.result
            value = record.yes_value if result is MarketResult.SCALAR else None
            self.venue.determine(ticker, result, settlement_value=value)
