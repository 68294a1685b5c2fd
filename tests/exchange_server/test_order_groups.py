"""Order groups over HTTP: create, list, get, trigger, reset, limit and delete, with the
rolling 15-second contracts limit that cancels exactly the group's live orders."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kalshi_core.client import KalshiClient, OrderRequest
from kalshi_core.clock import ManualClock
from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import Venue
from kalshi_core.models import BookSide, OrderStatus, TimeInForce
from kalshi_core.money import CONTRACT, DOLLAR

from .conftest import MM, TICKER, RawHttp, assert_kalshi_error, mm_order, tickers
from .test_bounds import ORDERS, order_body

DEV = "dev"
GROUPS = "/portfolio/order_groups"
IOC = TimeInForce.IMMEDIATE_OR_CANCEL


async def _create(raw: RawHttp, **body: Any) -> str:
    response = await raw.send("POST", f"{GROUPS}/create", json=body)
    assert response.status_code == 201, response.text
    assert set(response.json()) == {"order_group_id", "subaccount", "exchange_index"}
    group_id: str = response.json()["order_group_id"]
    return group_id


async def _place(raw: RawHttp, **fields: object) -> str:
    response = await raw.send("POST", ORDERS, json=order_body(**fields))
    assert response.status_code == 201, response.text
    order_id: str = response.json()["order_id"]
    return order_id


async def _group(raw: RawHttp, group_id: str) -> dict[str, Any]:
    response = await raw.send("GET", f"{GROUPS}/{group_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _sell_to_us(venue: Venue, price: int, contracts: int) -> None:
    """mm sells ``contracts`` YES at ``price`` into our resting bids (IOC)."""
    venue.place_order(mm_order(BookSide.ASK, price, contracts, tif=IOC))


def _state(venue: Venue) -> tuple[Any, ...]:
    """Everything a refused order must leave as it was."""
    ledger, balance = venue.ledger(), venue.balance(DEV)
    return ledger, balance, len(venue.orders(DEV)), venue.orderbook(TICKER)


async def test_create_get_and_list_in_the_sdk_shapes(raw: RawHttp) -> None:
    first = await _create(raw, contracts_limit=5)
    second = await _create(raw, contracts_limit_fp="2.50", subaccount=0)
    both = await _create(raw, contracts_limit=7, contracts_limit_fp="7.00")
    assert len({first, second, both}) == 3
    assert await _group(raw, first) == {
        "is_auto_cancel_enabled": True,
        "is_triggered": False,
        "contracts_limit_fp": "5.00",
        "orders": [],
        "exchange_index": 0,
    }
    listed = (await raw.send("GET", GROUPS)).json()["order_groups"]
    assert [(g["id"], g["contracts_limit_fp"]) for g in listed] == [
        (first, "5.00"),
        (second, "2.50"),
        (both, "7.00"),
    ]
    assert all(set(g) >= {"id", "is_auto_cancel_enabled"} for g in listed)
    order_id = await _place(raw, order_group_id=first)
    assert (await _group(raw, first))["orders"] == [order_id]
    shown = (await raw.send("GET", f"/portfolio/orders/{order_id}")).json()["order"]
    assert shown["order_group_id"] == first
    plain_id = await _place(raw)
    plain = (await raw.send("GET", f"/portfolio/orders/{plain_id}")).json()["order"]
    assert "order_group_id" not in plain


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, "contracts_limit"),
        ({"contracts_limit": 0}, "contracts_limit"),
        ({"contracts_limit": -3}, "contracts_limit"),
        ({"contracts_limit": 1_000_001}, "contracts_limit"),
        ({"contracts_limit": 2.5}, "contracts_limit"),
        ({"contracts_limit": True}, "contracts_limit"),
        ({"contracts_limit": "5"}, "contracts_limit"),
        ({"contracts_limit_fp": "0"}, "contracts_limit"),
        ({"contracts_limit_fp": "-1"}, "contracts_limit_fp"),
        ({"contracts_limit_fp": "1e2"}, "contracts_limit_fp"),
        ({"contracts_limit_fp": 5}, "contracts_limit_fp"),
        ({"contracts_limit": 5, "contracts_limit_fp": "6.00"}, "disagree"),
        ({"contracts_limit": 5, "subaccount": 2}, "subaccount"),
        ({"contracts_limit": 5, "subaccount": False}, "subaccount"),
        ({"contracts_limit": 5, "subaccount": "0"}, "subaccount"),
    ],
)
async def test_create_refuses_bad_limits(raw: RawHttp, body: dict[str, Any], words: str) -> None:
    response = await raw.send("POST", f"{GROUPS}/create", json=body)
    assert response.status_code == 400, response.text
    assert words in response.json()["error"]["message"]
    assert (await raw.send("GET", GROUPS)).json()["order_groups"] == []


async def test_create_refuses_a_non_object_body_and_unsigned_requests(raw: RawHttp) -> None:
    assert_kalshi_error(await raw.send("POST", f"{GROUPS}/create", content=b"[5]"), 400)
    assert_kalshi_error(await raw.send("POST", f"{GROUPS}/create", content=b"{"), 400)
    unsigned = await raw.send("POST", f"{GROUPS}/create", json={"contracts_limit": 5}, signed=False)
    assert_kalshi_error(unsigned, 401, "unauthorized")
    assert_kalshi_error(await raw.send("GET", GROUPS, signed=False), 401, "unauthorized")


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("DELETE", ""), ("PUT", "/trigger"), ("PUT", "/reset"), ("PUT", "/limit")],
)
async def test_unknown_and_foreign_groups_are_not_found(
    raw: RawHttp, venue: Venue, method: str, suffix: str
) -> None:
    foreign = venue.order_groups.create(MM, 5 * CONTRACT).group_id
    body = {"contracts_limit": 3} if suffix == "/limit" else None
    for group_id in ("no-such-group", foreign):
        response = await raw.send(method, f"{GROUPS}/{group_id}{suffix}", json=body)
        assert_kalshi_error(response, 404, "not_found")
    assert venue.order_groups.get(MM, foreign).contracts_limit == 5 * CONTRACT
    assert not venue.order_groups.get(MM, foreign).triggered


async def test_an_order_naming_an_unknown_group_is_refused_and_nothing_moves(
    raw: RawHttp, venue: Venue
) -> None:
    foreign = venue.order_groups.create(MM, 5 * CONTRACT).group_id
    before = _state(venue)
    for group_id in ("no-such-group", foreign):
        response = await raw.send("POST", ORDERS, json=order_body(order_group_id=group_id))
        assert_kalshi_error(response, 404, "not_found")
    for wrong in (5, "", ["x"]):
        response = await raw.send("POST", ORDERS, json=order_body(order_group_id=wrong))
        assert_kalshi_error(response, 400, "invalid_parameters")
    assert _state(venue) == before


async def test_reaching_the_limit_cancels_exactly_the_groups_resting_orders(
    raw: RawHttp, venue: Venue
) -> None:
    group = await _create(raw, contracts_limit=3)
    other_group = await _create(raw, contracts_limit=100)
    filled_first = await _place(raw, price="0.40", count="2", order_group_id=group)
    filled_second = await _place(raw, price="0.30", count="1", order_group_id=group)
    in_group = await _place(raw, price="0.20", count="4", order_group_id=group)
    in_other_market = await _place(
        raw, ticker=tickers()[1], price="0.20", count="1", order_group_id=group
    )
    outside = await _place(raw, price="0.30", count="1")
    in_other_group = await _place(raw, price="0.10", count="1", order_group_id=other_group)
    venue.place_order(mm_order(BookSide.BID, 1000, 2))  # mm's own resting bid
    _sell_to_us(venue, 4000, 2)  # 2 of 3 matched: still active
    assert not (await _group(raw, group))["is_triggered"]
    _sell_to_us(venue, 3000, 1)  # our group's 0.30 bid came first: the 3rd contract
    assert (await _group(raw, group))["is_triggered"]
    status = {o.order_id: o.status for o in venue.orders(DEV)}
    assert status[filled_first] is OrderStatus.EXECUTED
    assert status[filled_second] is OrderStatus.EXECUTED
    assert status[in_group] is OrderStatus.CANCELED
    assert status[in_other_market] is OrderStatus.CANCELED
    assert status[outside] is OrderStatus.RESTING
    assert status[in_other_group] is OrderStatus.RESTING
    assert [o.status for o in venue.orders(MM) if o.remaining_count] == [OrderStatus.RESTING]
    assert not (await _group(raw, other_group))["is_triggered"]
    assert venue.ledger().balanced
    for order_id in (outside, in_other_group):  # the trigger released its orders' holds
        assert (await raw.send("DELETE", f"{ORDERS}/{order_id}")).status_code == 200
    assert venue.account(DEV).reserved == 0


async def test_a_triggered_group_refuses_orders_without_moving_the_ledger_until_reset(
    raw: RawHttp, venue: Venue
) -> None:
    group = await _create(raw, contracts_limit=1)
    await _place(raw, price="0.40", order_group_id=group)
    _sell_to_us(venue, 4000, 1)
    before = _state(venue)
    refused = await raw.send("POST", ORDERS, json=order_body(order_group_id=group))
    assert_kalshi_error(refused, 409, "order_group_triggered")
    assert "reset" in refused.json()["error"]["message"]
    batch = await raw.send(
        "POST", f"{ORDERS}/batched", json={"orders": [order_body(order_group_id=group)]}
    )
    assert batch.json()["orders"][0]["error"]["code"] == "order_group_triggered"
    assert _state(venue) == before
    reset = await raw.send("PUT", f"{GROUPS}/{group}/reset", json={})
    assert reset.status_code == 200, reset.text
    assert not (await _group(raw, group))["is_triggered"]
    again = await _place(raw, price="0.40", order_group_id=group)
    assert venue.get_order(again).status is OrderStatus.RESTING
    _sell_to_us(venue, 4000, 1)  # the reset also cleared the rolling count: 1 of 1 again
    assert (await _group(raw, group))["is_triggered"]


async def test_a_taker_stops_at_its_groups_limit(raw: RawHttp, venue: Venue) -> None:
    group = await _create(raw, contracts_limit=2)
    for price in (5000, 5100, 5200):
        venue.place_order(mm_order(BookSide.ASK, price, 1))
    taker = await _place(raw, price="0.55", count="3", order_group_id=group)
    order = venue.get_order(taker)
    assert (order.status, order.fill_count, order.remaining_count) == (
        OrderStatus.CANCELED,
        2 * CONTRACT,
        0,
    )
    assert venue.orderbook(TICKER).no  # mm's 0.52 ask (a NO bid) still rests
    assert (await _group(raw, group))["is_triggered"]
    assert venue.ledger().balanced


async def test_the_window_is_fifteen_seconds_of_the_venue_clock(
    raw: RawHttp, venue: Venue, clock: ManualClock
) -> None:
    group = await _create(raw, contracts_limit=2)
    await _place(raw, price="0.40", count="5", order_group_id=group)
    _sell_to_us(venue, 4000, 1)
    clock.advance(timedelta(seconds=15))  # the first match falls out of the window
    _sell_to_us(venue, 4000, 1)
    assert not (await _group(raw, group))["is_triggered"]
    clock.advance(timedelta(seconds=14))
    _sell_to_us(venue, 4000, 1)  # 2 in the last 15 s
    assert (await _group(raw, group))["is_triggered"]
    (order,) = venue.orders(DEV)
    assert (order.status, order.fill_count) == (OrderStatus.CANCELED, 3 * CONTRACT)


async def test_trigger_and_delete_by_hand(raw: RawHttp, venue: Venue) -> None:
    group = await _create(raw, contracts_limit=100)
    kept = await _create(raw, contracts_limit=100)
    mine = [await _place(raw, price=p, order_group_id=group) for p in ("0.10", "0.20")]
    other = await _place(raw, price="0.15", order_group_id=kept)
    assert (await raw.send("PUT", f"{GROUPS}/{group}/trigger")).status_code == 200
    assert [venue.get_order(i).status for i in mine] == [OrderStatus.CANCELED] * 2
    assert venue.get_order(other).status is OrderStatus.RESTING
    refused = await raw.send("POST", ORDERS, json=order_body(order_group_id=group))
    assert_kalshi_error(refused, 409, "order_group_triggered")
    assert (await raw.send("DELETE", f"{GROUPS}/{kept}")).status_code == 200
    assert venue.get_order(other).status is OrderStatus.CANCELED
    assert_kalshi_error(await raw.send("GET", f"{GROUPS}/{kept}"), 404, "not_found")
    gone = await raw.send("POST", ORDERS, json=order_body(order_group_id=kept))
    assert_kalshi_error(gone, 404, "not_found")
    listed = (await raw.send("GET", GROUPS)).json()["order_groups"]
    assert [g["id"] for g in listed] == [group]
    assert venue.ledger().balanced
    assert venue.account(DEV).reserved == 0


async def test_a_limit_already_reached_triggers_at_once(raw: RawHttp, venue: Venue) -> None:
    group = await _create(raw, contracts_limit=10)
    await _place(raw, price="0.40", count="5", order_group_id=group)
    _sell_to_us(venue, 4000, 3)
    for body in ({"contracts_limit": 0}, {"contracts_limit_fp": "x"}, {}):
        response = await raw.send("PUT", f"{GROUPS}/{group}/limit", json=body)
        assert_kalshi_error(response, 400)
    assert (await _group(raw, group))["contracts_limit_fp"] == "10.00"
    ok = await raw.send("PUT", f"{GROUPS}/{group}/limit", json={"contracts_limit": 4})
    assert ok.status_code == 200
    assert not (await _group(raw, group))["is_triggered"]  # 3 matched, limit 4
    await raw.send("PUT", f"{GROUPS}/{group}/limit", json={"contracts_limit_fp": "3.00"})
    detail = await _group(raw, group)
    assert (detail["is_triggered"], detail["contracts_limit_fp"]) == (True, "3.00")
    assert venue.orders(DEV)[0].status is OrderStatus.CANCELED


async def test_in_flight_orders_of_a_triggered_group_never_reach_the_book(
    raw: RawHttp, venue: Venue, clock: ManualClock
) -> None:
    group = await _create(raw, contracts_limit=100)
    venue.latency = type(venue.latency)(base=timedelta(seconds=1))
    sent = await _place(raw, price="0.40", order_group_id=group)
    assert (await raw.send("PUT", f"{GROUPS}/{group}/trigger")).status_code == 200
    clock.advance(timedelta(seconds=2))
    venue.advance()
    assert venue.get_order(sent).status is OrderStatus.CANCELED
    assert not venue.orderbook(TICKER).yes


async def test_order_groups_through_the_client(
    client: KalshiClient, venue: Venue, clock: ManualClock
) -> None:
    group = await client.create_order_group(2 * CONTRACT)
    order = OrderRequest(
        ticker=TICKER,
        book_side=BookSide.BID,
        price=40 * DOLLAR // 100,
        count=5 * CONTRACT,
        client_order_id="grouped-1",
        order_group_id=group,
    )
    ack = await client.create_order(order)
    summaries = await client.get_order_groups()
    assert [(s.order_group_id, s.contracts_limit) for s in summaries] == [(group, 2 * CONTRACT)]
    detail = await client.get_order_group(group)
    assert (detail.orders, detail.is_triggered) == ((ack.order_id,), False)
    assert (await client.get_order(ack.order_id)).order_group_id == group
    await client.update_order_group_limit(group, 3 * CONTRACT)
    _sell_to_us(venue, 4000, 3)
    assert (await client.get_order_group(group)).is_triggered
    with pytest.raises(ExchangeError) as refused:
        await client.create_order(
            OrderRequest(
                ticker=TICKER,
                book_side=BookSide.BID,
                price=40 * DOLLAR // 100,
                count=CONTRACT,
                client_order_id="grouped-2",
                order_group_id=group,
            )
        )
    assert refused.value.status == 409
    await client.reset_order_group(group)
    assert not (await client.get_order_group(group)).is_triggered
    await client.trigger_order_group(group)
    assert (await client.get_order_group(group)).is_triggered
    await client.delete_order_group(group)
    assert await client.get_order_groups() == []
    with pytest.raises(ExchangeError) as missing:
        await client.get_order_group(group)
    assert missing.value.status == 404
