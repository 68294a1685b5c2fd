"""Every endpoint over real HTTP to the local exchange: parameters on the wire (as the
recorder in front of the exchange saw them) and domain objects back (as the venue holds them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kalshi_core.client import KalshiClient, OrderRequest
from kalshi_core.clock import ManualClock
from kalshi_core.exchange import Venue
from kalshi_core.models import BookSide, MarketResult, MarketStatus, OrderStatus, TimeInForce
from kalshi_core.money import CONTRACT, DOLLAR

from .conftest import BALANCE, DEV, EVENT, START, TAKER, TICKER, TICKERS, Recorder, mm_order


def _queries(recorder: Recorder, path: str) -> list[list[tuple[str, str]]]:
    return [query for method, seen, query in recorder.queries if method == "GET" and seen == path]


def _cross(venue: Venue, price: int, contracts: int = 1) -> None:
    """One print at ``price``: ``mm`` rests an ask, ``taker`` lifts it."""
    venue.place_order(mm_order(BookSide.ASK, price, contracts))
    ioc = TimeInForce.IMMEDIATE_OR_CANCEL
    venue.place_order(mm_order(BookSide.BID, price, contracts, tif=ioc, account=TAKER))


async def test_iter_markets_walks_every_page(client: KalshiClient, recorder: Recorder) -> None:
    markets = [m async for m in client.iter_markets(limit=3, status="open")]
    assert [m.ticker for m in markets] == TICKERS
    assert recorder.hits[("GET", "/markets")] == 3
    queries = _queries(recorder, "/markets")
    assert [dict(q).get("limit") for q in queries] == ["3", "3", "3"]
    cursors = [dict(q).get("cursor") for q in queries]
    assert cursors[0] is None
    assert None not in cursors[1:]
    assert markets[0].status is MarketStatus.ACTIVE
    assert markets[0].close_time == START + timedelta(days=30)


async def test_market_filters_are_encoded_like_the_sdk(
    client: KalshiClient, recorder: Recorder
) -> None:
    page = await client.get_markets(
        limit=2,
        tickers=[TICKERS[1], TICKERS[3]],
        min_close_ts=datetime(2026, 1, 1, tzinfo=UTC),
        max_close_ts=datetime(2027, 1, 2, 0, 0, 0, 999999, tzinfo=UTC),
        status="open",
        mve_filter=None,
    )
    assert [m.ticker for m in page.items] == [TICKERS[1], TICKERS[3]]
    assert page.cursor == ""
    assert _queries(recorder, "/markets")[-1] == [
        ("limit", "2"),
        ("tickers", f"{TICKERS[1]},{TICKERS[3]}"),
        ("min_close_ts", "1767225600"),
        ("max_close_ts", "1798848000"),
        ("status", "open"),
    ]


async def test_get_markets_pages_by_cursor(client: KalshiClient) -> None:
    first = await client.get_markets(limit=4)
    second = await client.get_markets(limit=4, cursor=first.cursor)
    assert (len(first.items), bool(first.cursor), len(second.items), second.cursor) == (
        4,
        True,
        3,
        "",
    )
    assert {m.ticker for m in first.items + second.items} == set(TICKERS)


async def test_single_market_and_orderbooks(
    client: KalshiClient, recorder: Recorder, venue: Venue
) -> None:
    venue.place_order(mm_order(BookSide.BID, 4200, 3))
    venue.place_order(mm_order(BookSide.ASK, 4400, 2))
    market = await client.get_market(TICKER)
    assert (market.ticker, market.yes_bid, market.yes_ask) == (TICKER, 4200, 4400)
    book = await client.get_orderbook(TICKER, depth=5)
    assert book.best_yes_bid is not None
    assert (book.best_yes_bid.price, book.best_yes_bid.count) == (4200, 3 * CONTRACT)
    assert book.best_no_bid is not None
    assert (book.best_no_bid.price, book.best_no_bid.count) == (DOLLAR - 4400, 2 * CONTRACT)
    assert _queries(recorder, f"/markets/{TICKER}/orderbook") == [[("depth", "5")]]
    books = await client.get_orderbooks([TICKERS[0], TICKERS[1]])
    assert [b.ticker for b in books] == [TICKERS[0], TICKERS[1]]
    assert _queries(recorder, "/markets/orderbooks") == [
        [("tickers", TICKERS[0]), ("tickers", TICKERS[1])]
    ]


async def test_trades_candles_events_series(
    client: KalshiClient, recorder: Recorder, venue: Venue, clock: ManualClock
) -> None:
    for minute, price in enumerate((4300, 4400, 4500)):
        clock.set(START + timedelta(seconds=10 + 20 * minute))
        _cross(venue, price)
    trades = [t async for t in client.iter_trades(limit=2, ticker=TICKER)]
    assert [t.yes_price for t in trades] == [4500, 4400, 4300]
    assert trades[0].no_price == DOLLAR - 4500
    assert [dict(q)["limit"] for q in _queries(recorder, "/markets/trades")] == ["2", "2"]
    candles = await client.get_candlesticks(
        "KXTEST", TICKER, start=START, end=START + timedelta(minutes=5), period_interval=1
    )
    assert (candles[0].price.open, candles[0].price.close) == (4300, 4500)
    assert candles[0].end_period == START + timedelta(minutes=1)
    query = _queries(recorder, f"/series/KXTEST/markets/{TICKER}/candlesticks")[0]
    assert query == [
        ("start_ts", str(int(START.timestamp()))),
        ("end_ts", str(int(START.timestamp()) + 300)),
        ("period_interval", "1"),
    ]
    assert [e.event_ticker async for e in client.iter_events(limit=2)] == [EVENT]
    detail = await client.get_event(EVENT, with_nested_markets=False)
    assert detail.event.series_ticker == "KXTEST"
    assert len(detail.markets) == len(TICKERS)
    assert _queries(recorder, f"/events/{EVENT}") == [[("with_nested_markets", "false")]]
    assert (await client.get_series("KXTEST")).ticker == "KXTEST"
    status = await client.get_exchange_status()
    assert (status.exchange_active, status.trading_active) == (True, True)


async def test_portfolio_reads(client: KalshiClient, venue: Venue, clock: ManualClock) -> None:
    venue.place_order(mm_order(BookSide.BID, 4000, 10))
    await client.create_order(  # sells 10 YES: short 10
        OrderRequest(
            ticker=TICKER,
            book_side=BookSide.ASK,
            price=4000,
            count=10 * CONTRACT,
            client_order_id="sell-10",
        )
    )
    balance = await client.get_balance()
    assert balance.balance == venue.balance(DEV).balance < BALANCE
    positions = [p async for p in client.iter_positions()]
    assert [(p.ticker, p.position) for p in positions] == [(TICKER, -10 * CONTRACT)]
    fills = [f async for f in client.iter_fills(ticker=TICKER)]
    assert [(f.book_side, f.count) for f in fills] == [(BookSide.ASK, 10 * CONTRACT)]
    assert fills[0].fee_cost == venue.fills(DEV)[0].fee_cost
    clock.advance(timedelta(hours=1))
    venue.determine(TICKER, MarketResult.NO)
    settlements = [s async for s in client.iter_settlements()]
    assert [(s.ticker, s.market_result, s.revenue) for s in settlements] == [
        (TICKER, MarketResult.NO, 10 * DOLLAR)
    ]


async def test_order_lifecycle(client: KalshiClient, recorder: Recorder, venue: Venue) -> None:
    request = OrderRequest(
        ticker=TICKER,
        book_side=BookSide.BID,
        price=4213,
        count=1050,
        client_order_id="c-1",
        post_only=True,
        expiration_time=datetime(2026, 6, 1, tzinfo=UTC),
    )
    ack = await client.create_order(request)
    assert recorder.bodies[-1] == {
        "ticker": TICKER,
        "client_order_id": "c-1",
        "side": "bid",
        "count": "10.50",
        "price": "0.4213",
        "time_in_force": "good_till_canceled",
        "self_trade_prevention_type": "taker_at_cross",
        "post_only": True,
        "reduce_only": False,
        "expiration_time": 1780272000,
    }
    assert (ack.client_order_id, ack.remaining_count, ack.fill_count, ack.recovered) == (
        "c-1",
        1050,
        0,
        False,
    )
    order = await client.get_order(ack.order_id)
    assert (order.yes_price, order.no_price, order.status) == (4213, 5787, OrderStatus.RESTING)
    assert venue.get_order(ack.order_id).remaining_count == 1050


async def test_amend_decrease_cancel(client: KalshiClient, recorder: Recorder) -> None:
    ack = await client.create_order(
        OrderRequest(
            ticker=TICKER, book_side=BookSide.BID, price=4213, count=1050, client_order_id="c-1"
        )
    )
    amended = await client.amend_order(
        ack.order_id, ticker=TICKER, book_side=BookSide.BID, price=4300, count=800
    )
    assert amended.remaining_count == 800
    decreased = await client.decrease_order(ack.order_id, reduce_by=300)
    assert decreased.remaining_count == 500
    assert recorder.bodies[-1] == {"reduce_by": "3.00"}
    with pytest.raises(ValueError, match="exactly one"):
        await client.decrease_order(ack.order_id, reduce_by=1, reduce_to=1)
    canceled = await client.cancel_order(ack.order_id)
    assert (canceled.reduced_by, canceled.already_canceled) == (500, False)
    assert (await client.get_order(ack.order_id)).status is OrderStatus.CANCELED


async def test_batches_and_cancel_all(
    client: KalshiClient, recorder: Recorder, venue: Venue
) -> None:
    requests = [
        OrderRequest(
            ticker=TICKERS[1],
            book_side=BookSide.ASK,
            price=6000,
            count=100,
            client_order_id=coid,
            time_in_force=TimeInForce.GOOD_TILL_CANCELED,
        )
        for coid in ("b-1", "b-2", "b-1")
    ]
    results = await client.batch_create_orders(requests)
    assert [r.client_order_id for r in results] == ["b-1", "b-2", "b-1"]
    assert results[2].error is not None
    assert results[2].error.code == "order_already_exists"
    assert results[0].error is None
    assert results[0].remaining_count == 100
    ids = [r.order_id for r in results if r.order_id]
    canceled = await client.batch_cancel_orders([*ids, "nope"])
    assert [c.reduced_by for c in canceled] == [100, 100, 0]
    assert canceled[2].error is not None
    assert canceled[2].error.code == "not_found"
    await client.create_order(
        OrderRequest(
            ticker=TICKERS[2], book_side=BookSide.BID, price=100, count=100, client_order_id="z"
        )
    )
    await client.cancel_all_orders()
    assert {o.status for o in venue.orders(DEV)} == {OrderStatus.CANCELED}
    assert recorder.hits[("DELETE", "/portfolio/events/orders")] == 1


def test_order_request_validates() -> None:
    with pytest.raises(ValueError, match="client_order_id"):
        OrderRequest(ticker="T", book_side=BookSide.BID, price=100, count=100, client_order_id="")
    with pytest.raises(ValueError, match="count must be positive"):
        OrderRequest(ticker="T", book_side=BookSide.BID, price=100, count=0, client_order_id="c")
