"""Public market data over real HTTP: pagination, filters, books, trades, events, candles."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from kalshi_core.client import KalshiClient
from kalshi_core.clock import ManualClock
from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import Venue
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.models import BookSide, MarketStatus
from kalshi_core.money import CONTRACT

from .conftest import EVENTS, START, TICKER, cross, mm_order, tickers


async def test_markets_page_through_every_market_once(client: KalshiClient) -> None:
    first = await client.get_markets(limit=5)
    assert len(first.items) == 5
    assert first.cursor
    seen = [m.ticker async for m in client.iter_markets(limit=5)]
    assert seen == sorted(tickers())  # in ticker order: the cursor is the last ticker seen
    second = await client.get_markets(limit=5, cursor=first.cursor)
    assert [m.ticker for m in second.items] == sorted(tickers())[5:10]
    last = await client.get_markets(limit=5, cursor=second.cursor)
    assert [m.ticker for m in last.items] == sorted(tickers())[10:]
    assert last.cursor == ""


async def test_market_filters(client: KalshiClient) -> None:
    open_markets = [m async for m in client.iter_markets(status="open")]
    assert len(open_markets) == 9
    assert all(m.status is MarketStatus.ACTIVE for m in open_markets)
    unopened = [m.ticker async for m in client.iter_markets(status="unopened")]
    assert unopened == sorted(t for t in tickers() if t.endswith("T80"))
    by_event = [m.ticker async for m in client.iter_markets(event_ticker=EVENTS[1])]
    assert by_event == [t for t in tickers() if t.startswith(EVENTS[1] + "-")]
    by_series = [m.ticker async for m in client.iter_markets(series_ticker="KXOTHER")]
    assert len(by_series) == 4
    chosen = [m.ticker async for m in client.iter_markets(tickers=[TICKER, tickers()[5]])]
    assert chosen == [TICKER, tickers()[5]]
    closing = client.iter_markets(max_close_ts=START + timedelta(days=1))
    assert [m async for m in closing] == []


@pytest.mark.parametrize(
    "query",
    ["status=active", "limit=1001", "limit=x", "cursor=99", "min_close_ts=1&min_created_ts=1"],
)
async def test_bad_market_queries_are_400(exchange: LocalExchange, query: str) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{exchange.base_url}/markets?{query}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_parameters"
    assert error["service"] == "exchange"


async def test_unknown_market_and_route_are_404_json(
    client: KalshiClient, exchange: LocalExchange
) -> None:
    with pytest.raises(ExchangeError) as caught:
        await client.get_market("NOPE-1")
    assert caught.value.status == 404
    assert caught.value.code == "not_found"
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{exchange.base_url}/no/such/route")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_market_carries_live_quote(client: KalshiClient, venue: Venue) -> None:
    venue.place_order(mm_order(BookSide.BID, 4200, 3))
    venue.place_order(mm_order(BookSide.ASK, 4500, 2))
    market = await client.get_market(TICKER)
    assert (market.yes_bid, market.yes_ask) == (4200, 4500)
    assert (market.yes_bid_size, market.yes_ask_size) == (300, 200)


async def test_orderbook_levels_ascend_best_last(client: KalshiClient, venue: Venue) -> None:
    for price in (4000, 4200, 4100):
        venue.place_order(mm_order(BookSide.BID, price, 1))
    for price in (5000, 4800):
        venue.place_order(mm_order(BookSide.ASK, price, 2))
    book = await client.get_orderbook(TICKER)
    assert [lvl.price for lvl in book.yes] == [4000, 4100, 4200]
    assert [lvl.price for lvl in book.no] == [5000, 5200]  # NO bids = 1 - YES asks
    assert book.no[-1].count == 200
    top = await client.get_orderbook(TICKER, depth=1)
    assert [lvl.price for lvl in top.yes] == [4200]
    both = await client.get_orderbooks([TICKER, tickers()[1]])
    assert [b.ticker for b in both] == [TICKER, tickers()[1]]
    assert both[0].yes == book.yes
    assert both[1].yes == ()


async def test_trades_newest_first_and_paged(
    client: KalshiClient, venue: Venue, clock: ManualClock
) -> None:
    for minute in range(5):
        clock.advance(timedelta(minutes=1))
        cross(venue, 4000 + minute * 100)
    page = await client.get_trades(ticker=TICKER, limit=2)
    assert [t.yes_price for t in page.items] == [4400, 4300]
    every = [t async for t in client.iter_trades(ticker=TICKER, limit=2)]
    assert [t.yes_price for t in every] == [4400, 4300, 4200, 4100, 4000]
    assert sum(t.count for t in every) == 5 * CONTRACT
    late = await client.get_trades(ticker=TICKER, min_ts=START + timedelta(minutes=4))
    assert [t.yes_price for t in late.items] == [4400, 4300]
    assert (await client.get_trades(ticker="NOPE-1")).items == ()


async def test_candlesticks_from_the_tape(
    client: KalshiClient, venue: Venue, clock: ManualClock
) -> None:
    for seconds, price in ((10, 4000), (20, 4600), (70, 4300)):
        clock.set(START + timedelta(seconds=seconds))
        cross(venue, price)
    candles = await client.get_candlesticks(
        "KXTEST", TICKER, start=START, end=START + timedelta(minutes=5), period_interval=1
    )
    assert [c.end_period for c in candles] == [
        START + timedelta(minutes=1),
        START + timedelta(minutes=2),
    ]
    first = candles[0]
    assert (first.price.open, first.price.high, first.price.low, first.price.close) == (
        4000,
        4600,
        4000,
        4600,
    )
    assert first.volume == 2 * CONTRACT
    assert candles[1].yes_ask.close == 4300  # a YES-buying taker paid the ask


async def test_events_series_and_status(client: KalshiClient) -> None:
    events = [e.event_ticker async for e in client.iter_events(limit=2)]
    assert events == sorted(EVENTS)
    detail = await client.get_event(EVENTS[2])
    assert detail.event.series_ticker == "KXOTHER"
    assert len(detail.markets) == 4
    series = await client.get_series("KXTEST")
    assert series.ticker == "KXTEST"
    with pytest.raises(ExchangeError) as caught:
        await client.get_series("KXNOPE")
    assert caught.value.status == 404
    status = await client.get_exchange_status()
    assert status.exchange_active
    assert status.trading_active
