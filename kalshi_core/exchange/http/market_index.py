"""``GET /markets`` from an index: a page costs what it lists, not what the venue holds.

:class:`MarketIndex` keeps the listed tickers in order (and by event and by series), built once
from the venue and then kept up to date from its change notifications: a market is never
delisted, so a ``MarketChanged`` for a ticker not yet seen is the only change it needs.
:func:`market_page` starts after the cursor's ticker and takes one market at a time until the
page is full; the filters are applied to each market as it is now. Paging is the keyset paging
of :mod:`.pages` (same cursor, same order, same ``""`` on the last page).

The other routes that need markets (trades, events, series, event candles, portfolio and
historical reads) look tickers, events and series up here too, and take reports through
:meth:`MarketIndex.listed` only for the markets they answer with.

Each market's report and JSON are kept until something can have changed them, so an idle
market costs a lookup, not a report. What can change a listed market:

* the venue's notifications (a level, an order, a fill, a status): the market is dropped;
* the clock: a page first sweeps the venue up to now (closes due come as ``MarketChanged``),
  and a market whose ``volume_24h`` counts a trade is kept only until that trade is a day old;
  a clock that went back drops everything;
* prints put on the tape behind the notifications (``Venue.record_print``, the replay's
  recorded trades): whoever makes them calls :meth:`MarketIndex.forget` with their tickers
  (``LocalExchange.sync`` does for the replay).
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

import attrs
from starlette.requests import Request
from starlette.responses import Response

from kalshi_core.exchange.changes import Change, Filled, LevelChanged, MarketChanged, OrderChanged
from kalshi_core.exchange.http.pages import Limits, Listing, decode_cursor, encode_cursor
from kalshi_core.exchange.http.params import query_csv, query_int
from kalshi_core.exchange.http.shapes import market_json
from kalshi_core.exchange.venue import Venue
from kalshi_core.models import Market, Trade

Predicate = Callable[[Market], bool]
DAY = timedelta(days=1)  # the window of a market's volume_24h


@attrs.frozen
class Listed:
    """A market's report, its JSON and the last moment they hold at (None: until a change)."""

    market: Market
    data: bytes
    until: datetime | None


class MarketIndex:
    """The venue's tickers in sorted order, overall, per event and per series, and each
    market's last report and JSON while nothing changed it."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.tickers: list[str] = []
        self._by_event: dict[str, list[str]] = {}
        self._by_series: dict[str, list[str]] = {}  # in the order the series were first listed
        self.events: list[str] = []
        self._event_markets: dict[str, list[str]] = {}  # each in listing order, as venue.markets()
        self._known: set[str] = set()
        self._listed: dict[str, Listed] = {}
        self._seen_at: datetime | None = None
        venue.listeners.append(self.changed)  # first, so no market listed meanwhile is missed
        for market in venue.markets():
            self._add(market)

    def changed(self, change: Change) -> None:
        """The venue's listener: a changed market's report is made again when next listed; a
        newly listed market joins the index."""
        if isinstance(change, LevelChanged):
            self._listed.pop(change.ticker, None)
        elif isinstance(change, Filled | OrderChanged):
            self._listed.pop(change.order.ticker, None)
        elif isinstance(change, MarketChanged):
            self._listed.pop(change.market.ticker, None)
            self._add(change.market)

    def forget(self, tickers: Iterable[str]) -> None:
        """Make these markets' reports again: they changed without a notification."""
        for ticker in tickers:
            self._listed.pop(ticker, None)

    def names_series(self, series_ticker: str) -> bool:
        """Whether a listed market belongs to ``series_ticker``."""
        return series_ticker in self._by_series

    def knows(self, ticker: str) -> bool:
        """Whether ``ticker`` is listed."""
        return ticker in self._known

    def series_names(self) -> Iterable[str]:
        """Every series a listed market names, in the order ``venue.markets()`` first names them."""
        return self._by_series.keys()

    def knows_event(self, event_ticker: str) -> bool:
        """Whether a listed market belongs to ``event_ticker``."""
        return event_ticker in self._event_markets

    def event_markets(self, event_ticker: str, now: datetime) -> list[Market]:
        """The reports of ``event_ticker``'s markets as of ``now``, in listing order."""
        return [self.listed(t, now).market for t in self._event_markets.get(event_ticker, ())]

    def series_volume(self, series_ticker: str, now: datetime) -> int:
        """The summed ``volume`` of ``series_ticker``'s markets as of ``now``."""
        tickers = self._by_series.get(series_ticker, ())
        return sum(self.listed(t, now).market.volume for t in tickers)

    def _add(self, market: Market) -> None:
        if market.ticker in self._known:
            return
        self._known.add(market.ticker)
        bisect.insort(self.tickers, market.ticker)
        bisect.insort(self._by_event.setdefault(market.event_ticker, []), market.ticker)
        bisect.insort(self._by_series.setdefault(market.series_ticker, []), market.ticker)
        if market.event_ticker not in self._event_markets:
            bisect.insort(self.events, market.event_ticker)
        self._event_markets.setdefault(market.event_ticker, []).append(market.ticker)

    def sweep(self) -> datetime:
        """The venue brought up to the clock's time (its closes due notify); returns the time
        a page is listed at."""
        now = self.venue.clock.now()
        self.venue.advance()
        if self._seen_at is not None and now < self._seen_at:
            self._listed.clear()  # a trade a day old may count in volume_24h again
        self._seen_at = now
        return now

    def listed(self, ticker: str, now: datetime) -> Listed:
        """``ticker``'s report and JSON as of ``now``, made again only if they may differ."""
        kept = self._listed.get(ticker)
        if kept is not None and (kept.until is None or now <= kept.until):
            return kept
        market = self.venue.market(ticker)
        until = _volume_expiry(self.venue.trades(ticker), now) if market.volume_24h else None
        made = self._listed[ticker] = Listed(market, _dumps(market_json(market)), until)
        return made

    def candidates(self, request: Request) -> Sequence[str]:
        """Sorted tickers that may match the query's event, series and ticker filters (the
        filters themselves still decide)."""
        query = request.query_params
        narrowed: list[Sequence[str]] = [self.tickers]
        if query.get("event_ticker"):
            narrowed.append(self._by_event.get(query["event_ticker"], []))
        if query.get("series_ticker"):
            narrowed.append(self._by_series.get(query["series_ticker"], []))
        named = query_csv(request, "tickers")
        if named:
            narrowed.append(sorted(set(named) & self._known))
        return min(narrowed, key=len)


def market_page(
    index: MarketIndex,
    request: Request,
    predicates: Sequence[Predicate],
    limits: Limits,
    listing: Listing[Market],
) -> tuple[list[Listed], str]:
    """One page of the markets ``predicates`` keep, and the next cursor (``""`` at the end)."""
    limit = query_int(request, "limit", limits.default, limits.minimum, limits.maximum)
    limit = limit or limits.default
    text = request.query_params.get("cursor") or ""
    tickers = index.candidates(request)
    start = bisect.bisect_right(tickers, str(decode_cursor(listing, text)[0])) if text else 0
    now, listed_as = index.sweep(), index.listed
    page: list[Listed] = []
    for position in range(start, len(tickers)):
        listed = listed_as(tickers[position], now)
        if predicates and not all(keep(listed.market) for keep in predicates):
            continue
        if len(page) == limit:
            return page, encode_cursor(listing, listing.key(page[-1].market))
        page.append(listed)
    return page, ""


def _volume_expiry(tape: Sequence[Trade], now: datetime) -> datetime:
    """When the oldest trade ``volume_24h`` counts at ``now`` leaves it (the count is the tape's
    end back to the first trade over a day old, as ``MarketState.volume_since`` reads it)."""
    since = now - DAY
    oldest = now
    for trade in reversed(tape):
        if trade.created_time < since:
            break
        oldest = min(oldest, trade.created_time)
    return oldest + DAY


def _dumps(data: object) -> bytes:
    """JSON as Starlette's ``JSONResponse`` encodes it."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.encode("utf-8")


def listing_response(page: Sequence[Listed], cursor: str) -> Response:
    """``{"markets": [...], "cursor": ...}``: the same bytes as ``json_body`` would send."""
    markets = b",".join(listed.data for listed in page)
    body = b'{"markets":[' + markets + b'],"cursor":' + _dumps(cursor) + b"}"
    return Response(body, media_type="application/json")
