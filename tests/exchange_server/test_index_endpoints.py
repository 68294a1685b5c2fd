"""The endpoints that read the market index (trades, events, series, event candles, portfolio,
historical) answer exactly what they answered when they built every market's report: each
response is compared with the old computation over ``venue.markets()`` while markets list,
trade, close, open and settle between calls; and a call for one event makes only its reports."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from starlette.requests import Request

from kalshi_core.clock import ManualClock
from kalshi_core.exchange import Venue
from kalshi_core.exchange.http.candles import candle_query, event_candles
from kalshi_core.exchange.http.context import Catalog
from kalshi_core.exchange.http.historical import (
    MARKETS,
    TRADES,
    archived_market,
    before,
    historical_cutoff,
)
from kalshi_core.exchange.http.markets import (
    EVENT_LIST,
    TRADE_LIST,
    derived_event,
    event_filter,
    market_filters,
    unlisted_series,
)
from kalshi_core.exchange.http.pages import EVENT_LIMITS, MARKET_LIMITS, PORTFOLIO_LIMITS, paginate
from kalshi_core.exchange.http.portfolio import (
    ORDER_LIST,
    POSITION_LIST,
    SETTLEMENT_LIST,
    event_positions,
    position_filter,
)
from kalshi_core.exchange.http.shapes import (
    event_json,
    json_body,
    market_json,
    order_json,
    position_json,
    series_json,
    settlement_json,
    trade_json,
)
from kalshi_core.models import BookSide, Event, Market, MarketResult, Series, TimeInForce
from kalshi_core.money import format_count

from .conftest import EVENTS, START, TICKER, RawHttp, make_market, mm_order, tickers

DEV = "dev"
OTHER_EVENT_TICKER = tickers()[8]  # KXOTHER-26MAR01-T50
NEW_SERIES_TICKER = "KXNEW-26APR01-T10"
LATE_TICKER = f"{EVENTS[0]}-T55"  # listed last, sorted between T50 and T60
CATALOG_ONLY_EVENT = "KXCAT-26MAR01"
Expected = Callable[[Venue, Catalog, Request], Any]


# ---- the old computations: every market's report ---------------------------------------------


def _request(query: str) -> Request:
    scope = {"type": "http", "method": "GET", "path": "/", "query_string": query.encode()}
    return Request({**scope, "headers": []})


def _as_sent(data: Any) -> Any:
    return json.loads(bytes(json_body(data).body))


def _every_market(venue: Venue) -> dict[str, Market]:
    return {m.ticker: m for m in venue.markets()}


def _old_events(venue: Venue, catalog: Catalog) -> dict[str, tuple[Event, list[Market]]]:
    grouped: dict[str, list[Market]] = {}
    for market in venue.markets():
        grouped.setdefault(market.event_ticker, []).append(market)
    found = {
        ticker: (catalog.events.get(ticker) or derived_event(ticker, markets), markets)
        for ticker, markets in grouped.items()
    }
    for ticker, event in catalog.events.items():
        found.setdefault(ticker, (event, []))
    return found


def old_trades(venue: Venue, catalog: Catalog, request: Request) -> Any:
    ticker = request.query_params.get("ticker") or None
    known = ticker is None or ticker in _every_market(venue)
    page, cursor = paginate(
        venue.trades(ticker) if known else [], request, MARKET_LIMITS, TRADE_LIST
    )
    return {"trades": [trade_json(t) for t in page], "cursor": cursor}


def old_event(venue: Venue, catalog: Catalog, request: Request, ticker: str) -> Any:
    found = _old_events(venue, catalog).get(ticker)
    if found is None:
        return None
    event, markets = found
    nested = request.query_params.get("with_nested_markets") == "true"
    return {
        "event": event_json(event, markets if nested else None),
        "markets": [market_json(m) for m in markets],
    }


def _old_event_of(ticker: str) -> Expected:
    return lambda venue, catalog, request: old_event(venue, catalog, request, ticker)


def old_events(venue: Venue, catalog: Catalog, request: Request) -> Any:
    keep, nested = event_filter(request), request.query_params.get("with_nested_markets")
    chosen = [pair for pair in _old_events(venue, catalog).values() if keep(*pair)]
    page, cursor = paginate(chosen, request, EVENT_LIMITS, EVENT_LIST)
    events = [event_json(e, markets if nested == "true" else None) for e, markets in page]
    return {"events": events, "cursor": cursor}


def old_series(venue: Venue, catalog: Catalog, request: Request) -> Any:
    found = dict(catalog.series)
    for market in venue.markets():
        found.setdefault(market.series_ticker, unlisted_series(market.series_ticker))
    shaped = [series_json(s) for s in found.values()]
    if request.query_params.get("include_volume") == "true":
        volumes: dict[str, int] = {}
        for market in venue.markets():
            volumes[market.series_ticker] = volumes.get(market.series_ticker, 0) + market.volume
        for data in shaped:
            data["volume_fp"] = format_count(volumes.get(data["ticker"], 0))
    return {"series": shaped}


def old_event_candles(
    venue: Venue, catalog: Catalog, request: Request, series: str, event: str
) -> Any:
    markets = [m for m in venue.markets() if m.event_ticker == event]
    known = markets or event in catalog.events
    if not known or any(m.series_ticker != series for m in markets):
        return None
    return event_candles(markets, venue.trades, candle_query(request))


def old_positions(venue: Venue, catalog: Catalog, request: Request) -> Any:
    markets = _every_market(venue)
    keep = position_filter(request, markets.__getitem__)
    chosen = [p for p in venue.positions(DEV) if keep(p)]
    page, cursor = paginate(chosen, request, PORTFOLIO_LIMITS, POSITION_LIST)
    now = venue.clock.now()
    return {
        "market_positions": [position_json(p, now) for p in page],
        "event_positions": event_positions(chosen, markets.__getitem__),
        "cursor": cursor,
    }


def old_orders(venue: Venue, catalog: Catalog, request: Request) -> Any:
    events, markets = set(request.query_params["event_ticker"].split(",")), _every_market(venue)
    chosen = [o for o in venue.orders(DEV) if markets[o.ticker].event_ticker in events]
    page, cursor = paginate(chosen, request, PORTFOLIO_LIMITS, ORDER_LIST)
    shaped = [order_json(o, venue.owner(o.user_id)) for o in page]
    return {"orders": shaped, "cursor": cursor}


def old_queue_positions(venue: Venue, catalog: Catalog, request: Request) -> Any:
    event, markets = request.query_params["event_ticker"], _every_market(venue)
    chosen = [
        o
        for o in venue.orders(DEV)
        if markets[o.ticker].event_ticker == event and venue.order_state(o.order_id).in_book
    ]
    return {
        "queue_positions": [
            {
                "order_id": o.order_id,
                "market_ticker": o.ticker,
                "queue_position_fp": format_count(venue.queue_position(o.order_id)),
            }
            for o in chosen
        ]
    }


def old_settlements(venue: Venue, catalog: Catalog, request: Request) -> Any:
    chosen = [(0, s) for s in venue.settlements(DEV)]
    page, cursor = paginate(chosen, request, PORTFOLIO_LIMITS, SETTLEMENT_LIST)
    markets, now = _every_market(venue), venue.clock.now()
    shaped = [settlement_json(s, markets[s.ticker].settlement_value, now) for _, s in page]
    return {"settlements": shaped, "cursor": cursor}


def old_historical_markets(venue: Venue, catalog: Catalog, request: Request) -> Any:
    cutoff = historical_cutoff(venue.clock.now())
    predicates = market_filters(request)
    chosen = [
        m
        for m in venue.markets()
        if archived_market(m, cutoff) and all(keep(m) for keep in predicates)
    ]
    page, cursor = paginate(chosen, request, MARKET_LIMITS, MARKETS)
    return {"markets": [market_json(m) for m in page], "cursor": cursor}


def old_historical_trades(venue: Venue, catalog: Catalog, request: Request) -> Any:
    cutoff = historical_cutoff(venue.clock.now())
    ticker = request.query_params.get("ticker") or None
    tape = venue.trades(ticker) if ticker is None or ticker in _every_market(venue) else []
    chosen = [t for t in tape if before(t.created_time, cutoff)]
    page, cursor = paginate(chosen, request, MARKET_LIMITS, TRADES)
    return {"trades": [trade_json(t) for t in page], "cursor": cursor}


# ---- the venue, changing between calls --------------------------------------------------------


def _dev_buys(venue: Venue, ticker: str, price: int, contracts: int = 1) -> None:
    """``mm`` rests an ask, the dev account lifts it: a position for the dev account."""
    venue.place_order(mm_order(BookSide.ASK, price, contracts, ticker))
    ioc = TimeInForce.IMMEDIATE_OR_CANCEL
    venue.place_order(mm_order(BookSide.BID, price, contracts, ticker, ioc, account=DEV))


def _dev_rests(venue: Venue, ticker: str, price: int) -> None:
    venue.place_order(mm_order(BookSide.BID, price, 1, ticker, account=DEV))


def _setup(venue: Venue, catalog: Catalog) -> None:
    catalog.series["KXCAT"] = Series(ticker="KXCAT", title="Cat", category="Economics")
    catalog.events[CATALOG_ONLY_EVENT] = Event(
        event_ticker=CATALOG_ONLY_EVENT, series_ticker="KXCAT", title="Only in the catalog"
    )
    catalog.events[EVENTS[1]] = Event(event_ticker=EVENTS[1], series_ticker="KXTEST", title="Cat")
    _dev_buys(venue, TICKER, 4000, 2)
    _dev_buys(venue, OTHER_EVENT_TICKER, 3000)
    _dev_rests(venue, tickers()[1], 2000)
    _dev_rests(venue, tickers()[4], 2500)


def _churn(venue: Venue, clock: ManualClock, round_number: int) -> None:
    """What changes before each round's calls: quotes, statuses, listings, settlements."""
    if round_number == 1:
        _dev_buys(venue, TICKER, 4500, 2)
        venue.close_market(tickers()[5])
        venue.open_market(tickers()[7])
        venue.list_market(make_market(NEW_SERIES_TICKER))
        _dev_rests(venue, NEW_SERIES_TICKER, 1500)
    elif round_number == 2:
        venue.list_market(make_market(LATE_TICKER))
        _dev_rests(venue, LATE_TICKER, 1000)
        venue.determine(TICKER, MarketResult.YES)
        clock.advance(timedelta(hours=2))  # the settlement falls before the historical cutoff
        _dev_buys(venue, OTHER_EVENT_TICKER, 3500)


def _candles_query(event: str) -> str:
    start, end = int(START.timestamp()) - 3600, int(START.timestamp()) + 3 * 3600
    return f"start_ts={start}&end_ts={end}&period_interval=60&event={event}"


CALLS: list[tuple[str, str, Expected]] = [
    *[("/markets/trades", f"ticker={t}&limit=2", old_trades) for t in (TICKER, "KXNONE-1")],
    ("/markets/trades", "ticker=" + NEW_SERIES_TICKER, old_trades),
    *[
        (
            f"/events/{e}",
            f"with_nested_markets={nested}",
            lambda v, c, r, e=e: old_event(v, c, r, e),
        )
        for e in (*EVENTS, CATALOG_ONLY_EVENT, "KXNEW-26APR01", "KXNONE-26MAR01")
        for nested in ("true", "false")
    ],
    *[
        ("/events", query, old_events)
        for query in (
            "",
            "limit=1",
            "limit=2&with_nested_markets=true",
            "status=open&with_nested_markets=true",
            "status=closed",
            "status=settled",
            "series_ticker=KXTEST",
            "series_ticker=KXCAT",
            f"tickers={EVENTS[0]},{CATALOG_ONLY_EVENT},KXNONE-1&with_nested_markets=true",
            "min_close_ts=1",
        )
    ],
    ("/series", "", old_series),
    ("/series", "include_volume=true", old_series),
    *[
        (
            f"/series/{series}/events/{e}/candlesticks",
            _candles_query(e),
            lambda v, c, r, s=series, e=e: old_event_candles(v, c, r, s, e),
        )
        for series, e in (
            ("KXTEST", EVENTS[0]),
            ("KXOTHER", EVENTS[2]),
            ("KXOTHER", EVENTS[0]),
            ("KXTEST", "KXNONE-1"),
        )
    ],
    ("/portfolio/positions", "settlement_status=all", old_positions),
    ("/portfolio/positions", "settlement_status=all&limit=1", old_positions),
    ("/portfolio/positions", f"event_ticker={EVENTS[0]},KXNEW-26APR01", old_positions),
    ("/portfolio/positions", "settlement_status=settled", old_positions),
    ("/portfolio/orders", f"event_ticker={EVENTS[0]},KXNEW-26APR01", old_orders),
    ("/portfolio/orders/queue_positions", f"event_ticker={EVENTS[0]}", old_queue_positions),
    ("/portfolio/settlements", "", old_settlements),
    ("/historical/markets", "", old_historical_markets),
    ("/historical/markets", f"limit=1&event_ticker={EVENTS[0]}", old_historical_markets),
    *[("/historical/trades", f"ticker={t}", old_historical_trades) for t in (TICKER, "KXNONE-1")],
]


async def _check(
    raw: RawHttp, venue: Venue, catalog: Catalog, call: tuple[str, str, Expected]
) -> None:
    path, query, expected_by = call
    response = await raw.send("GET", f"{path}?{query}")
    expected = expected_by(venue, catalog, _request(query))
    if expected is None:
        assert response.status_code == 404, (path, query, response.text)
    else:
        assert response.status_code == 200, (path, query, response.text)
        assert response.json() == _as_sent(expected), (path, query)


async def test_each_endpoint_answers_what_every_market_answered(
    raw: RawHttp, venue: Venue, clock: ManualClock
) -> None:
    catalog = raw.exchange.context.catalog
    _setup(venue, catalog)
    for round_number in range(3):
        _churn(venue, clock, round_number)
        for call in CALLS:
            await _check(raw, venue, catalog, call)
    # The last round's answers hold what changed: a settled, archived market, a late listing.
    archived = (await raw.send("GET", "/historical/markets")).json()["markets"]
    assert [m["ticker"] for m in archived] == [TICKER]
    event = (await raw.send("GET", f"/events/{EVENTS[0]}")).json()
    assert [m["ticker"] for m in event["markets"]] == [*tickers()[:4], LATE_TICKER]


async def test_walking_events_pages_while_markets_change_matches_every_market(
    raw: RawHttp, venue: Venue, clock: ManualClock
) -> None:
    catalog = raw.exchange.context.catalog
    _setup(venue, catalog)
    cursor, pages = "", 0
    while True:
        query = f"limit=1&with_nested_markets=true&cursor={cursor}"
        response = await raw.send("GET", f"/events?{query}")
        assert response.json() == _as_sent(old_events(venue, catalog, _request(query)))
        cursor = response.json()["cursor"]
        if not cursor:
            break
        pages += 1
        _churn(venue, clock, pages)
    assert pages >= 3


# ---- what a call builds -----------------------------------------------------------------------


@pytest.fixture
def built(raw: RawHttp, venue: Venue, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tickers whose reports are made, after every kept report is dropped; building every
    market's report fails the test."""
    made: list[str] = []
    report = venue.market

    def counted(ticker: str) -> Market:
        made.append(ticker)
        return report(ticker)

    index = raw.exchange.context.market_index()
    index.forget(index.tickers)
    monkeypatch.setattr(venue, "market", counted)
    monkeypatch.setattr(venue, "markets", lambda: pytest.fail("a call built every market"))
    return made


async def test_one_event_builds_only_its_markets(raw: RawHttp, built: list[str]) -> None:
    response = await raw.send("GET", f"/events/{EVENTS[0]}", params={"with_nested_markets": "true"})
    assert [m["ticker"] for m in response.json()["markets"]] == tickers()[:4]
    assert built == tickers()[:4]
    built.clear()
    await raw.send("GET", "/events", params={"tickers": EVENTS[2], "with_nested_markets": "true"})
    assert built == tickers()[8:]


async def test_portfolio_and_lookups_build_only_the_markets_they_name(
    raw: RawHttp, venue: Venue, built: list[str]
) -> None:
    _dev_buys(venue, TICKER, 4000)
    _dev_rests(venue, OTHER_EVENT_TICKER, 2000)
    await raw.send("GET", "/portfolio/positions", params={"settlement_status": "all"})
    assert built == [TICKER]
    await raw.send("GET", "/portfolio/orders", params={"event_ticker": EVENTS[2]})
    await raw.send("GET", "/portfolio/orders/queue_positions", params={"event_ticker": EVENTS[2]})
    assert sorted(set(built)) == sorted([TICKER, OTHER_EVENT_TICKER])
    built.clear()
    for path in ("/markets/trades", "/historical/trades"):
        await raw.send("GET", path, params={"ticker": TICKER})
    await raw.send("GET", "/series")
    assert built == []
