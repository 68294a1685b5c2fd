"""Public market data: exchange status, markets, order books, trades, candlesticks, series
and events."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import ClassVar

from starlette.requests import Request
from starlette.responses import Response

from kalshi_core.exchange import rules
from kalshi_core.exchange.http.base import Handlers, RouteSpec
from kalshi_core.exchange.http.candles import build_candles, candle_query, event_candles
from kalshi_core.exchange.http.errors import bad
from kalshi_core.exchange.http.market_index import listing_response, market_page
from kalshi_core.exchange.http.pages import (
    EVENT_LIMITS,
    MARKET_LIMITS,
    Listing,
    keyset_page,
    micros,
    paginate,
)
from kalshi_core.exchange.http.params import (
    in_range,
    query_bool,
    query_csv,
    query_int,
    query_time,
    time_window,
)
from kalshi_core.exchange.http.shapes import (
    event_json,
    json_body,
    market_json,
    series_json,
    trade_json,
)
from kalshi_core.models import Event, Market, MarketStatus, Series, Trade
from kalshi_core.money import format_count
from kalshi_core.wire import format_time, orderbook_to_wire

SETTLED = frozenset(
    {MarketStatus.DETERMINED, MarketStatus.DISPUTED, MarketStatus.AMENDED, MarketStatus.FINALIZED}
)
# The /markets and /events ``status`` filter takes these words, not the object's statuses.
STATUS_FILTER: dict[str, frozenset[MarketStatus]] = {
    "unopened": frozenset({MarketStatus.INITIALIZED}),
    "open": frozenset({MarketStatus.ACTIVE}),
    "paused": frozenset({MarketStatus.INACTIVE}),
    "closed": frozenset({MarketStatus.CLOSED}),
    "settled": SETTLED,
}
MARKET_LIST: Listing[Market] = Listing("markets", lambda m: (m.ticker,), (str,))
EVENT_LIST: Listing[tuple[Event, list[Market]]] = Listing(
    "events", lambda pair: (pair[0].event_ticker,), (str,)
)
TRADE_LIST: Listing[Trade] = Listing(
    "trades", lambda t: (micros(t.created_time), t.trade_id), (int, str), newest_first=True
)
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


# ---- filters ----------------------------------------------------------------------------------


def _status_words(request: Request) -> frozenset[MarketStatus] | None:
    word = request.query_params.get("status")
    if not word:
        return None
    statuses = STATUS_FILTER.get(word)
    if statuses is None:
        raise bad(f"status={word!r} must be one of {', '.join(STATUS_FILTER)}")
    return statuses


def _created(market: Market) -> datetime:
    return market.created_time or market.open_time


def _updated(market: Market) -> datetime:
    return market.updated_time or _created(market)


_TIME_FAMILIES: dict[str, Callable[[Market], datetime | None]] = {
    "created": _created,
    "updated": _updated,
    "close": lambda m: m.close_time,
    "settled": lambda m: m.settlement_ts,
}


def _between(
    when: Callable[[Market], datetime | None], low: datetime | None, high: datetime | None
) -> Callable[[Market], bool]:
    return lambda market: in_range(when(market), low, high)


def _time_filters(request: Request) -> list[Callable[[Market], bool]]:
    """``min/max_{created,updated,close,settled}_ts``: at most one family per request."""
    found: list[Callable[[Market], bool]] = []
    for family, when in _TIME_FAMILIES.items():
        low = query_time(request, f"min_{family}_ts")
        high = query_time(request, f"max_{family}_ts")
        if low is not None or high is not None:
            found.append(_between(when, low, high))
    if len(found) > 1:
        raise bad("the created, updated, close and settled timestamp filters are exclusive")
    return found


def market_filters(request: Request) -> list[Callable[[Market], bool]]:
    """The predicates of a ``GET /markets`` query."""
    query = request.query_params
    found = _time_filters(request)
    statuses = _status_words(request)
    if statuses is not None:
        found.append(lambda m: m.status in statuses)
    if query.get("event_ticker"):
        found.append(lambda m: m.event_ticker == query["event_ticker"])
    if query.get("series_ticker"):
        found.append(lambda m: m.series_ticker == query["series_ticker"])
    tickers = set(query_csv(request, "tickers"))
    if tickers:
        found.append(lambda m: m.ticker in tickers)
    mve = query.get("mve_filter") or "exclude"
    if mve not in ("only", "exclude"):
        raise bad(f"mve_filter={mve!r} must be only or exclude")
    if mve == "only":  # the local exchange lists no multivariate markets
        found.append(lambda m: False)
    return found


def event_filter(request: Request) -> Callable[[Event, list[Market]], bool]:
    statuses = _status_words(request)
    series = request.query_params.get("series_ticker")
    tickers = set(query_csv(request, "tickers"))
    min_close = query_time(request, "min_close_ts")

    def keep(event: Event, markets: list[Market]) -> bool:
        return (
            (statuses is None or any(m.status in statuses for m in markets))
            and (not series or event.series_ticker == series)
            and (not tickers or event.event_ticker in tickers)
            and (min_close is None or any(m.close_time >= min_close for m in markets))
        )

    return keep


def derived_event(event_ticker: str, markets: Sequence[Market]) -> Event:
    """An event the catalog does not know, described from its markets."""
    first = markets[0]
    return Event(
        event_ticker=event_ticker,
        series_ticker=first.series_ticker,
        title=first.title or event_ticker,
        mutually_exclusive=False,
    )


# ---- handlers ---------------------------------------------------------------------------------


class ExchangeHandlers(Handlers):
    ROUTES: ClassVar[tuple[RouteSpec, ...]] = (
        ("GET", "/exchange/status", "exchange_status"),
        ("GET", "/exchange/schedule", "exchange_schedule"),
        ("GET", "/exchange/user_data_timestamp", "user_data_timestamp"),
    )

    async def user_data_timestamp(self, request: Request) -> Response:
        # The venue applies every change at once: user data is always as of now.
        return json_body({"as_of_time": format_time(self._now())})

    async def exchange_status(self, request: Request) -> Response:
        return json_body({"exchange_active": True, "trading_active": not self.venue.paused})

    async def exchange_schedule(self, request: Request) -> Response:
        always = [{"open_time": "00:00", "close_time": "24:00"}]
        hours = {
            "start_time": "2020-01-01T00:00:00Z",
            "end_time": "2100-01-01T00:00:00Z",
            **{day: always for day in DAYS},
        }
        schedule = {"standard_hours": [hours], "maintenance_windows": []}
        return json_body({"schedule": schedule})


class MarketHandlers(Handlers):
    ROUTES: ClassVar[tuple[RouteSpec, ...]] = (
        ("GET", "/markets", "markets"),
        ("GET", "/markets/orderbooks", "orderbooks"),
        ("GET", "/markets/trades", "trades"),
        ("GET", "/markets/candlesticks", "batch_candlesticks"),
        ("GET", "/markets/{ticker}", "market"),
        ("GET", "/markets/{ticker}/orderbook", "orderbook"),
        ("GET", "/series/{series}/markets/{ticker}/candlesticks", "candlesticks"),
        ("GET", "/series/{series}/events/{event}/candlesticks", "event_candlesticks"),
    )

    async def markets(self, request: Request) -> Response:
        predicates = market_filters(request)
        index = self.context.market_index()
        page, cursor = market_page(index, request, predicates, MARKET_LIMITS, MARKET_LIST)
        return listing_response(page, cursor)

    async def market(self, request: Request) -> Response:
        market = self.venue.market(request.path_params["ticker"])
        return json_body({"market": market_json(market)})

    async def orderbook(self, request: Request) -> Response:
        depth = query_int(request, "depth", 0, 0, 100)
        book = self.venue.orderbook(request.path_params["ticker"], depth)
        return json_body(orderbook_to_wire(book))

    async def orderbooks(self, request: Request) -> Response:
        tickers = query_csv(request, "tickers", 100)
        if not tickers:
            raise bad("tickers is required")
        books = [{"ticker": t, **orderbook_to_wire(self.venue.orderbook(t))} for t in tickers]
        return json_body({"orderbooks": books})

    async def trades(self, request: Request) -> Response:
        ticker = request.query_params.get("ticker") or None
        index = self.context.market_index()
        index.sweep()
        tape = self.venue.trades(ticker) if ticker is None or index.knows(ticker) else []
        block, in_time = query_bool(request, "is_block_trade"), time_window(request)
        chosen = [t for t in tape if in_time(t.created_time) and block in (None, t.is_block_trade)]
        page, cursor = paginate(chosen, request, MARKET_LIMITS, TRADE_LIST)
        return json_body({"trades": [trade_json(t) for t in page], "cursor": cursor})

    async def candlesticks(self, request: Request) -> Response:
        ticker = request.path_params["ticker"]
        market = self.venue.market(ticker)
        candles = build_candles(self.venue.trades(ticker), market, candle_query(request))
        return json_body({"ticker": ticker, "candlesticks": candles})

    async def event_candlesticks(self, request: Request) -> Response:
        """Candles of every market of the event (404 for an event the series does not hold)."""
        series, event = request.path_params["series"], request.path_params["event"]
        index = self.context.market_index()
        markets = index.event_markets(event, index.sweep())
        known = markets or event in self.context.catalog.events
        if not known or any(m.series_ticker != series for m in markets):
            raise rules.reject(rules.NOT_FOUND, f"event {event} not found in series {series}")
        query = candle_query(request)
        return json_body(event_candles(markets, self.venue.trades, query))

    async def batch_candlesticks(self, request: Request) -> Response:
        tickers = query_csv(request, "market_tickers", 100)
        if not tickers:
            raise bad("market_tickers is required")
        query = candle_query(request)
        found = [
            {
                "market_ticker": t,
                "candlesticks": build_candles(self.venue.trades(t), self.venue.market(t), query),
            }
            for t in tickers
        ]
        return json_body({"markets": found})


def unlisted_series(name: str) -> Series:
    """A series the catalog does not know, named by a listed market."""
    return Series(ticker=name, title=name, category="", frequency="custom")


class EventHandlers(Handlers):
    ROUTES: ClassVar[tuple[RouteSpec, ...]] = (
        ("GET", "/series", "series_list"),
        ("GET", "/series/{series}", "series"),
        ("GET", "/events", "events"),
        ("GET", "/events/{event}", "event"),
    )

    def _series(self) -> dict[str, Series]:
        """Every series: the catalog's, then those only the listed markets name."""
        found = dict(self.context.catalog.series)
        index = self.context.market_index()
        index.sweep()
        for name in index.series_names():
            if name not in found:
                found[name] = unlisted_series(name)
        return found

    async def series(self, request: Request) -> Response:
        name = request.path_params["series"]
        known = self.context.catalog.series.get(name)
        if known is None and self.context.market_index().names_series(name):
            known = unlisted_series(name)
        if known is None:
            raise rules.reject(rules.NOT_FOUND, f"series {name} not found")
        return json_body({"series": series_json(known)})

    async def series_list(self, request: Request) -> Response:
        """``GET /series``: ``category`` (any of the series' categories), ``tags`` (CSV, any),
        ``include_volume``; ``min_updated_ts`` is checked but every series qualifies."""
        category = request.query_params.get("category")
        tags = set(query_csv(request, "tags", 100))
        with_volume = query_bool(request, "include_volume")
        query_time(request, "min_updated_ts")
        query_bool(request, "include_product_metadata")
        chosen = [
            s
            for s in self._series().values()
            if (not category or category in (s.category, *s.categories))
            and (not tags or tags & set(s.tags))
        ]
        shaped = [series_json(s) for s in chosen]
        if with_volume:
            index = self.context.market_index()
            now = index.sweep()
            for data, s in zip(shaped, chosen, strict=True):
                data["volume_fp"] = format_count(index.series_volume(s.ticker, now))
        return json_body({"series": shaped})

    def _event(self, ticker: str, now: datetime) -> tuple[Event, list[Market]] | None:
        """An event and its markets' reports, in listing order; None if neither the catalog
        nor a listed market names it."""
        index, known = self.context.market_index(), self.context.catalog.events.get(ticker)
        if not index.knows_event(ticker):
            return None if known is None else (known, [])
        markets = index.event_markets(ticker, now)
        return known or derived_event(ticker, markets), markets

    def _event_tickers(self, request: Request) -> Sequence[str]:
        """Sorted tickers of the events ``GET /events`` may list (its filters still decide)."""
        index, catalog = self.context.market_index(), self.context.catalog.events
        named = set(query_csv(request, "tickers"))
        if named:
            return sorted(t for t in named if t in catalog or index.knows_event(t))
        unlisted = [t for t in catalog if not index.knows_event(t)]
        return sorted([*index.events, *unlisted]) if unlisted else index.events

    async def events(self, request: Request) -> Response:
        keep = event_filter(request)
        nested = query_bool(request, "with_nested_markets")
        now = self.context.market_index().sweep()

        def kept(ticker: str) -> tuple[Event, list[Market]] | None:
            found = self._event(ticker, now)
            return found if found is not None and keep(*found) else None

        tickers = self._event_tickers(request)
        page, cursor = keyset_page(tickers, request, EVENT_LIMITS, EVENT_LIST, kept)
        events = [event_json(event, markets if nested else None) for event, markets in page]
        return json_body({"events": events, "cursor": cursor})

    async def event(self, request: Request) -> Response:
        ticker = request.path_params["event"]
        found = self._event(ticker, self.context.market_index().sweep())
        if found is None:
            raise rules.reject(rules.NOT_FOUND, f"event {ticker} not found")
        event, markets = found
        nested = query_bool(request, "with_nested_markets")
        return json_body(
            {
                "event": event_json(event, markets if nested else None),
                "markets": [market_json(m) for m in markets],
            }
        )
