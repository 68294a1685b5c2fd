"""Every endpoint over real HTTP: parameters on the wire and domain objects back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kalshi_core.client import KalshiClient, OrderRequest
from kalshi_core.models import BookSide, MarketStatus, OrderStatus, Side, TimeInForce
from kalshi_core.money import CONTRACT, DOLLAR

from .server import FakeKalshi


def _query(fake: FakeKalshi, path: str) -> list[list[tuple[str, str]]]:
    return [query for method, seen, query in fake.queries if method == "GET" and seen == path]


async def test_iter_markets_walks_every_page(client: KalshiClient, fake: FakeKalshi) -> None:
    markets = [m async for m in client.iter_markets(limit=3, status="open")]
    assert [m.ticker for m in markets] == [f"KXTEST-26-M{i:02d}" for i in range(7)]
    assert fake.hits[("GET", "/markets")] == 3
    assert [dict(q).get("cursor") for q in _query(fake, "/markets")] == [None, "3", "6"]
    first = markets[0]
    assert first.status is MarketStatus.ACTIVE
    assert (first.yes_bid, first.yes_ask, first.yes_ask_size) == (4200, 4400, 550)
    assert first.close_time == datetime(2026, 12, 31, 0, 0, 0, 123000, tzinfo=UTC)


async def test_market_filters_are_encoded_like_the_sdk(
    client: KalshiClient, fake: FakeKalshi
) -> None:
    page = await client.get_markets(
        limit=2,
        tickers=["KXTEST-26-M01", "KXTEST-26-M03"],
        min_close_ts=datetime(2026, 1, 1, tzinfo=UTC),
        max_close_ts=datetime(2026, 1, 2, 0, 0, 0, 999999, tzinfo=UTC),
        status="closed",
        mve_filter=None,
    )
    assert [m.ticker for m in page.items] == ["KXTEST-26-M01", "KXTEST-26-M03"]
    assert page.cursor == ""
    assert _query(fake, "/markets")[-1] == [
        ("limit", "2"),
        ("tickers", "KXTEST-26-M01,KXTEST-26-M03"),
        ("min_close_ts", "1767225600"),
        ("max_close_ts", "1767312000"),
        ("status", "closed"),
    ]


async def test_get_markets_pages_by_cursor(client: KalshiClient) -> None:
    first = await client.get_markets(limit=4)
    second = await client.get_markets(limit=4, cursor=first.cursor)
    assert (len(first.items), first.cursor, len(second.items), second.cursor) == (4, "4", 3, "")


async def test_single_market_and_orderbooks(client: KalshiClient, fake: FakeKalshi) -> None:
    market = await client.get_market("KXTEST-26-M02")
    assert market.ticker == "KXTEST-26-M02"
    book = await client.get_orderbook("KXTEST-26-M02", depth=5)
    assert book.best_yes_bid is not None
    assert book.best_yes_bid.price == 4200
    assert book.best_no_bid is not None
    assert book.best_no_bid.count == 2 * CONTRACT
    assert book.yes_asks[0].price == DOLLAR - 5600
    assert _query(fake, "/markets/KXTEST-26-M02/orderbook") == [[("depth", "5")]]
    books = await client.get_orderbooks(["KXTEST-26-M00", "KXTEST-26-M01"])
    assert [b.ticker for b in books] == ["KXTEST-26-M00", "KXTEST-26-M01"]
    assert _query(fake, "/markets/orderbooks") == [
        [("tickers", "KXTEST-26-M00"), ("tickers", "KXTEST-26-M01")]
    ]


async def test_trades_candles_events_series(client: KalshiClient, fake: FakeKalshi) -> None:
    trades = [t async for t in client.iter_trades(limit=2, ticker="KXTEST-26-M00")]
    assert [t.trade_id for t in trades] == ["t0", "t1", "t2"]
    assert trades[0].taker_outcome_side is Side.YES
    assert trades[0].no_price == 5700
    candles = await client.get_candlesticks(
        "KXTEST",
        "KXTEST-26-M00",
        start=datetime(2026, 1, 1, tzinfo=UTC),
        end=datetime(2026, 1, 2, tzinfo=UTC),
        period_interval=60,
    )
    assert candles[0].yes_bid.high == 4500
    assert candles[0].price.close is None
    assert candles[0].end_period == datetime(2026, 1, 1, tzinfo=UTC)
    assert candles[0].open_interest == 12 * CONTRACT
    query = _query(fake, "/series/KXTEST/markets/KXTEST-26-M00/candlesticks")[0]
    assert query == [
        ("start_ts", "1767225600"),
        ("end_ts", "1767312000"),
        ("period_interval", "60"),
    ]
    events = [e async for e in client.iter_events(limit=2)]
    assert len(events) == 5
    assert events[0].mutually_exclusive
    detail = await client.get_event("KXTEST-26", with_nested_markets=False)
    assert detail.event.series_ticker == "KXTEST"
    assert len(detail.markets) == 7
    series = await client.get_series("KXTEST")
    assert series.tags == ()
    assert series.fee_multiplier == 1.0
    status = await client.get_exchange_status()
    assert (status.exchange_active, status.trading_active) == (True, False)


async def test_portfolio_reads(client: KalshiClient) -> None:
    balance = await client.get_balance()
    assert (balance.balance, balance.portfolio_value) == (123_4500, 5_0000)
    positions = [p async for p in client.iter_positions()]
    assert positions[0].position == -10 * CONTRACT
    assert positions[0].side is Side.NO
    fills = [f async for f in client.iter_fills(ticker="KXTEST-26-M00")]
    assert fills[0].fee_cost == 200
    assert fills[0].book_side is BookSide.ASK
    settlements = [s async for s in client.iter_settlements()]
    assert settlements[0].revenue == 10 * DOLLAR


async def test_order_lifecycle(client: KalshiClient, fake: FakeKalshi) -> None:
    request = OrderRequest(
        ticker="KXTEST-26-M00",
        book_side=BookSide.BID,
        price=4213,
        count=1050,
        client_order_id="c-1",
        post_only=True,
        expiration_time=datetime(2026, 6, 1, tzinfo=UTC),
    )
    ack = await client.create_order(request)
    assert fake.bodies[-1] == {
        "ticker": "KXTEST-26-M00",
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


async def test_amend_decrease_cancel(client: KalshiClient, fake: FakeKalshi) -> None:
    ack = await client.create_order(
        OrderRequest(
            ticker="KXTEST-26-M00",
            book_side=BookSide.BID,
            price=4213,
            count=1050,
            client_order_id="c-1",
        )
    )
    amended = await client.amend_order(
        ack.order_id, ticker="KXTEST-26-M00", book_side=BookSide.BID, price=4300, count=800
    )
    assert amended.remaining_count == 800
    decreased = await client.decrease_order(ack.order_id, reduce_by=300)
    assert decreased.remaining_count == 500
    assert fake.bodies[-1] == {"reduce_by": "3.00"}
    with pytest.raises(ValueError, match="exactly one"):
        await client.decrease_order(ack.order_id, reduce_by=1, reduce_to=1)
    canceled = await client.cancel_order(ack.order_id)
    assert (canceled.reduced_by, canceled.already_canceled) == (500, False)
    assert (await client.get_order(ack.order_id)).status is OrderStatus.CANCELED


async def test_batches_and_cancel_all(client: KalshiClient, fake: FakeKalshi) -> None:
    requests = [
        OrderRequest(
            ticker="KXTEST-26-M01",
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
        OrderRequest(ticker="T", book_side=BookSide.BID, price=100, count=100, client_order_id="z")
    )
    await client.cancel_all_orders()
    assert {o["status"] for o in fake.orders.values()} == {"canceled"}
    assert fake.hits[("DELETE", "/portfolio/events/orders")] == 1


def test_order_request_validates() -> None:
    with pytest.raises(ValueError, match="client_order_id"):
        OrderRequest(ticker="T", book_side=BookSide.BID, price=100, count=100, client_order_id="")
    with pytest.raises(ValueError, match="count must be positive"):
        OrderRequest(ticker="T", book_side=BookSide.BID, price=100, count=0, client_order_id="c")
