"""The official SDK (``kalshi_python_sync`` 3.34, Python 3.13) against the local exchange.

Its pydantic models enforce Kalshi's required fields, string money and counts, and enums, so
every call here passing means the local exchange's JSON parses as Kalshi's would. The SDK is
synchronous: its calls run in a worker thread while the server runs on the test's loop.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

sdk = pytest.importorskip("kalshi_python_sync")

from kalshi_core.clock import ManualClock  # noqa: E402
from kalshi_core.exchange import Venue, VenueOrder  # noqa: E402
from kalshi_core.exchange.local import LocalExchange  # noqa: E402
from kalshi_core.models import BookSide, Market, MarketStatus  # noqa: E402
from kalshi_core.money import CONTRACT, DOLLAR  # noqa: E402

T = TypeVar("T")
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TICKERS = [f"KXSDK-26MAR01-T{strike}" for strike in range(40, 70, 5)]


def _venue() -> Venue:
    venue = Venue(ManualClock(START))
    for ticker in TICKERS:
        venue.list_market(
            Market(
                ticker=ticker,
                event_ticker="KXSDK-26MAR01",
                status=MarketStatus.ACTIVE,
                title=f"SDK {ticker}",
                open_time=START - timedelta(days=1),
                close_time=START + timedelta(days=1),
            )
        )
    venue.deposit("mm", 1_000 * DOLLAR)
    for side, price in ((BookSide.ASK, 5500), (BookSide.BID, 4500)):
        venue.place_order(
            VenueOrder(account="mm", ticker=TICKERS[0], side=side, price=price, count=CONTRACT)
        )
    return venue


@pytest.fixture
async def exchange(tmp_path: Path) -> AsyncIterator[LocalExchange]:
    async with LocalExchange.running(venue=_venue(), key_dir=tmp_path) as ex:
        yield ex


@pytest.fixture
def sdk_client(exchange: LocalExchange) -> Any:
    assert exchange.private_key_path is not None
    config = sdk.Configuration(host=exchange.base_url)
    config.api_key_id = exchange.api_key_id
    config.private_key_pem = exchange.private_key_path.read_text()
    return sdk.KalshiClient(config)


async def call(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    return await asyncio.to_thread(fn, *args, **kwargs)


async def test_market_data(sdk_client: Any) -> None:
    page = await call(sdk_client.get_markets, limit=4)
    assert [m.ticker for m in page.markets] == TICKERS[:4]
    assert page.cursor
    rest = await call(sdk_client.get_markets, limit=4, cursor=page.cursor)
    assert [m.ticker for m in rest.markets] == TICKERS[4:]
    assert rest.cursor == ""
    market = (await call(sdk_client.get_market, TICKERS[0])).market
    assert (market.yes_bid_dollars, market.yes_ask_dollars) == ("0.4500", "0.5500")
    book = (await call(sdk_client.get_market_orderbook, TICKERS[0])).orderbook_fp
    assert book.yes_dollars == [["0.4500", "1.00"]]
    assert book.no_dollars == [["0.4500", "1.00"]]
    event = await call(sdk_client.get_event, "KXSDK-26MAR01")
    assert len(event.markets) == len(TICKERS)
    status = await call(sdk_client.get_exchange_status)
    assert status.trading_active


async def test_order_lifecycle_fills_and_positions(
    sdk_client: Any, exchange: LocalExchange
) -> None:
    created = await call(
        sdk_client.create_order_v2,
        ticker=TICKERS[0],
        client_order_id="sdk-1",
        side="bid",
        count="3",
        price="0.55",
        time_in_force="good_till_canceled",
        self_trade_prevention_type="taker_at_cross",
    )
    assert created.fill_count == "1.00"
    assert created.remaining_count == "2.00"
    amended = await call(
        sdk_client.amend_order_v2,
        created.order_id,
        ticker=TICKERS[0],
        side="bid",
        price="0.50",
        count="4",
    )
    assert amended.order_id == created.order_id
    order = (await call(sdk_client.get_order, created.order_id)).order
    assert order.status == "resting"
    assert order.yes_price_dollars == "0.5000"
    canceled = await call(sdk_client.cancel_order_v2, created.order_id)
    assert canceled.reduced_by == "3.00"
    fills = (await call(sdk_client.get_fills)).fills
    assert [(f.order_id, f.count_fp, f.is_taker) for f in fills] == [
        (created.order_id, "1.00", True)
    ]
    positions = await call(sdk_client.get_positions)
    assert [(p.ticker, p.position_fp) for p in positions.market_positions] == [(TICKERS[0], "1.00")]
    assert positions.event_positions[0].event_ticker == "KXSDK-26MAR01"
    balance = await call(sdk_client.get_balance)
    assert balance.balance_dollars == "9999.4300"  # $10,000 less $0.55 and a $0.02 fee
    orders = (await call(sdk_client.get_orders)).orders
    assert [o.client_order_id for o in orders] == ["sdk-1"]
    assert len(exchange.venue.orders("dev")) == 1


async def test_series_list_user_data_timestamp_resting_value_and_limits(sdk_client: Any) -> None:
    series = (await call(sdk_client.get_series_list, include_volume=True)).series
    assert [(s.ticker, s.volume_fp) for s in series] == [("KXSDK", "0.00")]
    stamp = await call(sdk_client.get_user_data_timestamp)
    assert stamp.as_of_time == START
    await call(
        sdk_client.create_order_v2,
        ticker=TICKERS[1],
        client_order_id="rest-1",
        side="bid",
        count="2",
        price="0.30",
        time_in_force="good_till_canceled",
        self_trade_prevention_type="taker_at_cross",
    )
    value = await call(sdk_client.get_portfolio_resting_order_total_value)
    assert value.total_resting_order_value == 60
    assert [(b.exchange_index, b.balance) for b in value.resting_order_value_breakdown] == [
        (0, "0.6000")
    ]
    limits = await call(sdk_client.get_account_api_limits)
    assert (limits.usage_tier, limits.read.refill_rate, limits.write.refill_rate) == (
        "basic",
        200,
        100,
    )


async def test_sdk_pages_resting_orders_while_older_ones_are_canceled(
    sdk_client: Any, exchange: LocalExchange
) -> None:
    venue = exchange.venue
    placed = [
        venue.place_order(
            VenueOrder(
                account="dev",
                ticker=TICKERS[2],
                side=BookSide.BID,
                price=1000 + i * 100,
                count=CONTRACT,
            )
        ).order_id
        for i in range(7)
    ]
    seen: list[str] = []
    cursor = ""
    while True:
        page = await call(sdk_client.get_orders, status="resting", limit=2, cursor=cursor or None)
        seen.extend(o.order_id for o in page.orders)
        if not page.cursor:
            break
        cursor = page.cursor
        oldest = [i for i in placed if i not in seen and venue.get_order(i).remaining_count]
        if len(oldest) > 1:
            venue.cancel("dev", oldest[0])  # an older, not yet seen order leaves the list
    assert len(seen) == len(set(seen))
    survivors = {i for i in placed if venue.get_order(i).remaining_count}
    assert survivors <= set(seen)


async def test_queue_positions_parse_in_the_sdk(sdk_client: Any, exchange: LocalExchange) -> None:
    exchange.venue.place_order(
        VenueOrder(account="mm", ticker=TICKERS[1], side=BookSide.BID, price=3000, count=CONTRACT)
    )
    created = await call(
        sdk_client.create_order_v2,
        ticker=TICKERS[1],
        side="bid",
        count="2",
        price="0.30",
        time_in_force="good_till_canceled",
        self_trade_prevention_type="taker_at_cross",
    )
    one = await call(sdk_client.get_order_queue_position, created.order_id)
    assert one.queue_position_fp == "1.00"
    many = await call(sdk_client.get_order_queue_positions, market_tickers=TICKERS[1])
    assert [(q.order_id, q.market_ticker, q.queue_position_fp) for q in many.queue_positions] == [
        (created.order_id, TICKERS[1], "1.00")
    ]
    by_event = await call(sdk_client.get_order_queue_positions, event_ticker="KXSDK-26MAR01")
    assert len(by_event.queue_positions) == 1


async def test_order_groups_parse_in_the_sdk(sdk_client: Any, exchange: LocalExchange) -> None:
    created = await call(sdk_client.create_order_group, contracts_limit=2)
    group_id = created.order_group_id
    assert created.subaccount == 0
    order = await call(
        sdk_client.create_order_v2,
        ticker=TICKERS[1],
        side="bid",
        count="5",
        price="0.30",
        time_in_force="good_till_canceled",
        self_trade_prevention_type="taker_at_cross",
        order_group_id=group_id,
    )
    groups = (await call(sdk_client.get_order_groups)).order_groups
    assert [(g.id, g.contracts_limit_fp, g.is_auto_cancel_enabled) for g in groups] == [
        (group_id, "2.00", True)
    ]
    detail = await call(sdk_client.get_order_group, group_id)
    assert detail.orders == [order.order_id]
    await call(sdk_client.update_order_group_limit, group_id, contracts_limit=3)
    assert (await call(sdk_client.get_order_group, group_id)).contracts_limit_fp == "3.00"
    await call(sdk_client.trigger_order_group, group_id)
    assert exchange.venue.get_order(order.order_id).status == "canceled"
    await call(sdk_client.reset_order_group, group_id)
    await call(sdk_client.delete_order_group, group_id)
    assert (await call(sdk_client.get_order_groups)).order_groups == []


async def test_subaccounts_through_the_sdk(sdk_client: Any, exchange: LocalExchange) -> None:
    created = await call(sdk_client.create_subaccount)
    assert created.subaccount_number == 1
    transfer_id = uuid.uuid4()
    for _ in range(2):  # a retry with the same client_transfer_id moves the money once
        await call(
            sdk_client.apply_subaccount_transfer,
            client_transfer_id=transfer_id,
            from_subaccount=0,
            to_subaccount=1,
            amount_cents=5_000,
        )
    balances = (await call(sdk_client.get_subaccount_balances)).subaccount_balances
    assert [(b.subaccount_number, b.balance) for b in balances] == [
        (0, "9950.0000"),
        (1, "50.0000"),
    ]
    transfers = (await call(sdk_client.get_subaccount_transfers)).transfers
    assert [(t.from_subaccount, t.to_subaccount, t.amount_cents) for t in transfers] == [
        (0, 1, 5_000)
    ]
    order = await call(
        sdk_client.create_order_v2,
        ticker=TICKERS[2],
        client_order_id="sub-1",
        side="bid",
        count="2",
        price="0.30",
        time_in_force="good_till_canceled",
        self_trade_prevention_type="taker_at_cross",
        subaccount=1,
    )
    read = (await call(sdk_client.get_order, order.order_id)).order
    assert (read.subaccount_number, read.client_order_id) == (1, "sub-1")
    in_one = (await call(sdk_client.get_orders, subaccount=1)).orders
    assert [o.order_id for o in in_one] == [order.order_id]
    assert (await call(sdk_client.get_orders, subaccount=0)).orders == []
    balance = await call(sdk_client.get_balance, subaccount=1)
    assert balance.balance < 5_000  # the resting bid holds $0.60 and its fee
    canceled = await call(sdk_client.cancel_order_v2, order.order_id, subaccount=1)
    assert canceled.reduced_by == "2.00"
    assert (await call(sdk_client.get_balance, subaccount=1)).balance == 5_000
    assert len(exchange.venue.orders(exchange.venue.subaccount_id("dev", 1))) == 1
