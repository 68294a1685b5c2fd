"""Order entry and portfolio reads over real HTTP, checked against the venue itself."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from kalshi_core.client import KalshiClient, OrderRequest
from kalshi_core.clock import ManualClock
from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import Venue
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.models import BookSide, MarketResult, OrderStatus
from kalshi_core.money import CONTRACT, DOLLAR

from .conftest import MM, TICKER, mm_order, tickers


def bid(cid: str, price: int, contracts: int = 1, ticker: str = TICKER) -> OrderRequest:
    return OrderRequest(
        ticker=ticker,
        book_side=BookSide.BID,
        price=price,
        count=contracts * CONTRACT,
        client_order_id=cid,
    )


async def test_place_amend_decrease_cancel(
    client: KalshiClient, exchange: LocalExchange, venue: Venue
) -> None:
    ack = await client.create_order(bid("c1", 4000, 10))
    assert (ack.fill_count, ack.remaining_count) == (0, 10 * CONTRACT)
    order = await client.get_order(ack.order_id)
    assert order.status is OrderStatus.RESTING
    assert order.user_id == exchange.account_id

    amended = await client.amend_order(
        ack.order_id, ticker=TICKER, book_side=BookSide.BID, price=4100, count=8 * CONTRACT
    )
    assert amended.remaining_count == 8 * CONTRACT
    assert venue.get_order(ack.order_id).yes_price == 4100

    decreased = await client.decrease_order(ack.order_id, reduce_by=3 * CONTRACT)
    assert decreased.remaining_count == 5 * CONTRACT

    canceled = await client.cancel_order(ack.order_id)
    assert canceled.reduced_by == 5 * CONTRACT
    assert venue.get_order(ack.order_id).status is OrderStatus.CANCELED
    resting = await client.get_orders(status="resting")
    assert resting.items == ()


async def test_duplicate_client_order_id_is_409(client: KalshiClient, venue: Venue) -> None:
    await client.create_order(bid("dup", 4000))
    with pytest.raises(ExchangeError) as caught:
        await client.create_order(bid("dup", 4100))
    assert (caught.value.status, caught.value.code) == (409, "order_already_exists")
    assert len(venue.orders("dev")) == 1


async def test_invalid_price_is_400(client: KalshiClient) -> None:
    with pytest.raises(ExchangeError) as caught:
        await client.create_order(bid("bad", 4050))  # off the one-cent grid
    assert (caught.value.status, caught.value.code) == (400, "invalid_price")


async def test_fill_positions_balance(client: KalshiClient, venue: Venue) -> None:
    venue.place_order(mm_order(BookSide.ASK, 5500, 5))
    before = await client.get_balance()
    ack = await client.create_order(bid("take", 5500, 2))
    assert ack.fill_count == 2 * CONTRACT
    assert ack.average_fill_price == 5500
    fills = (await client.get_fills()).items
    assert [(f.order_id, f.count, f.yes_price, f.is_taker) for f in fills] == [
        (ack.order_id, 2 * CONTRACT, 5500, True)
    ]
    positions = [p async for p in client.iter_positions()]
    assert [(p.ticker, p.position) for p in positions] == [(TICKER, 2 * CONTRACT)]
    after = await client.get_balance()
    cost = 2 * 5500 + fills[0].fee_cost
    assert before.balance - after.balance == cost
    assert after.portfolio_value == 2 * 5500


async def test_batch_create_and_cancel(client: KalshiClient, venue: Venue) -> None:
    results = await client.batch_create_orders(
        [bid("b1", 3000), bid("b2", 3050), bid("b3", 3100, ticker=tickers()[1])]
    )
    assert results[0].order_id
    assert results[2].order_id
    assert results[1].error is not None
    assert results[1].error.code == "invalid_price"
    assert results[1].client_order_id == "b2"
    ids = [r.order_id for r in results if r.order_id]
    canceled = await client.batch_cancel_orders([*ids, "no-such-order"])
    assert [c.reduced_by for c in canceled[:2]] == [CONTRACT, CONTRACT]
    assert canceled[2].error is not None
    assert canceled[2].error.code == "not_found"
    assert all(o.status is OrderStatus.CANCELED for o in venue.orders("dev"))


async def test_cancel_all_answers_204(
    client: KalshiClient, venue: Venue, exchange: LocalExchange
) -> None:
    for index in range(3):
        await client.create_order(bid(f"a{index}", 3000 + index * 100))
    await client.cancel_all_orders()
    assert [o.status for o in venue.orders("dev")] == [OrderStatus.CANCELED] * 3
    assert client.metrics.calls[("DELETE /portfolio/events/orders", "204")] == 1


async def test_orders_list_newest_first_with_filters(client: KalshiClient) -> None:
    for index in range(5):
        await client.create_order(bid(f"o{index}", 3000 + index * 100))
    await client.create_order(bid("other", 3000, ticker=tickers()[1]))
    listed = [o.client_order_id async for o in client.iter_orders(ticker=TICKER, limit=2)]
    assert listed == ["o4", "o3", "o2", "o1", "o0"]
    found = await client.find_order("other")
    assert found is not None
    assert found.ticker == tickers()[1]


async def test_settlement_after_determination(
    client: KalshiClient, venue: Venue, clock: ManualClock
) -> None:
    venue.place_order(mm_order(BookSide.ASK, 4000, 3))
    await client.create_order(bid("win", 4000, 3))
    clock.advance(timedelta(hours=1))
    venue.determine(TICKER, MarketResult.YES)
    settlements = (await client.get_settlements()).items
    assert len(settlements) == 1
    assert settlements[0].market_result is MarketResult.YES
    assert settlements[0].revenue == 3 * DOLLAR
    assert settlements[0].yes_count == 3 * CONTRACT
    assert [p async for p in client.iter_positions()] == []
    settled = [p async for p in client.iter_positions(settlement_status="settled")]
    assert [(p.ticker, p.position) for p in settled] == [(TICKER, 0)]
    market = await client.get_market(TICKER)
    assert market.result is MarketResult.YES


async def test_other_accounts_orders_are_invisible(client: KalshiClient, venue: Venue) -> None:
    theirs = venue.place_order(mm_order(BookSide.BID, 3000))
    with pytest.raises(ExchangeError) as caught:
        await client.get_order(theirs.order_id)
    assert caught.value.status == 404
    with pytest.raises(ExchangeError):
        await client.cancel_order(theirs.order_id)
    assert venue.get_order(theirs.order_id).status is OrderStatus.RESTING
    assert venue.orders(MM)[0].order_id == theirs.order_id


async def test_pause_refuses_order_entry_with_409(
    client: KalshiClient, exchange: LocalExchange, venue: Venue
) -> None:
    venue.set_paused(True)
    with pytest.raises(ExchangeError) as caught:
        await client.create_order(bid("paused", 4000))
    assert (caught.value.status, caught.value.code) == (409, "trading_is_paused")
    assert not (await client.get_exchange_status()).trading_active
    assert venue.orders("dev") == []


async def test_raw_wire_shapes(exchange: LocalExchange, client: KalshiClient) -> None:
    await client.create_order(bid("raw", 4000))
    signer = client.transport.signer
    assert signer is not None
    path = "/trade-api/v2/portfolio/balance"
    async with httpx.AsyncClient() as http:
        response = await http.get(
            exchange.base_url + "/portfolio/balance", headers=signer.headers("GET", path)
        )
        body = response.json()
        assert isinstance(body["balance"], int)
        dollars = Decimal(body["balance_dollars"])
        assert dollars < 1000  # the resting bid holds buying power
        assert body["balance"] == int(dollars * 100)
        markets = (await http.get(exchange.base_url + "/markets?limit=1")).json()
    market = markets["markets"][0]
    assert market["status"] == "active"
    assert isinstance(market["yes_bid_dollars"], str)
    assert market["settlement_bounds_type"] == "default"
    assert "latest_expiration_time" in market
