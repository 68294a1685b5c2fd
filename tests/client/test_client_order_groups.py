"""The client's order-group calls over real HTTP to the local exchange: what each call changes
at the venue, and the exchange's refusals surfacing as ExchangeError with its code."""

from __future__ import annotations

import pytest

from kalshi_core.client import KalshiClient, OrderRequest
from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import Venue
from kalshi_core.models import BookSide, OrderStatus
from kalshi_core.money import CONTRACT

from .conftest import DEV, TICKER, Recorder


def _bid(client_order_id: str, group: str | None) -> OrderRequest:
    return OrderRequest(
        ticker=TICKER,
        book_side=BookSide.BID,
        price=3000,
        count=2 * CONTRACT,
        client_order_id=client_order_id,
        order_group_id=group,
    )


async def test_create_list_and_get_a_group_with_its_orders(
    client: KalshiClient, recorder: Recorder
) -> None:
    group = await client.create_order_group(5 * CONTRACT + 50)
    assert recorder.bodies[-1] == {"contracts_limit_fp": "5.50"}
    ack = await client.create_order(_bid("in-group", group))

    listed = await client.get_order_groups()
    assert [(g.order_group_id, g.contracts_limit, g.is_triggered) for g in listed] == [
        (group, 550, False)
    ]
    detail = await client.get_order_group(group)
    assert (detail.orders, detail.contracts_limit, detail.is_triggered) == (
        (ack.order_id,),
        550,
        False,
    )


async def test_trigger_cancels_the_group_and_refuses_orders_until_reset(
    client: KalshiClient, venue: Venue
) -> None:
    group = await client.create_order_group(10 * CONTRACT)
    inside = await client.create_order(_bid("inside", group))
    outside = await client.create_order(_bid("outside", None))

    await client.trigger_order_group(group)
    assert venue.get_order(inside.order_id).status is OrderStatus.CANCELED
    assert venue.get_order(outside.order_id).status is OrderStatus.RESTING
    assert (await client.get_order_group(group)).is_triggered is True
    with pytest.raises(ExchangeError) as refused:
        await client.create_order(_bid("refused", group))
    assert (refused.value.code, refused.value.status) == ("order_group_triggered", 409)
    assert not [o for o in venue.orders(DEV) if o.client_order_id == "refused"]

    await client.reset_order_group(group)
    assert (await client.get_order_group(group)).is_triggered is False
    again = await client.create_order(_bid("after-reset", group))
    assert venue.get_order(again.order_id).status is OrderStatus.RESTING


async def test_a_new_limit_is_sent_in_contracts_and_read_back(client: KalshiClient) -> None:
    group = await client.create_order_group(3 * CONTRACT)
    await client.update_order_group_limit(group, 7 * CONTRACT + 25)
    assert (await client.get_order_group(group)).contracts_limit == 725


async def test_delete_cancels_the_orders_and_the_group_is_gone(
    client: KalshiClient, venue: Venue
) -> None:
    group = await client.create_order_group(4 * CONTRACT)
    inside = await client.create_order(_bid("doomed", group))
    await client.delete_order_group(group)

    assert venue.get_order(inside.order_id).status is OrderStatus.CANCELED
    assert await client.get_order_groups() == []
    with pytest.raises(ExchangeError) as gone:
        await client.get_order_group(group)
    assert (gone.value.code, gone.value.status) == ("not_found", 404)
    with pytest.raises(ExchangeError) as again:
        await client.trigger_order_group(group)
    assert again.value.status == 404


async def test_a_hostile_group_id_stays_one_path_segment(
    client: KalshiClient, recorder: Recorder
) -> None:
    with pytest.raises(ExchangeError) as refused:
        await client.get_order_group("../orders")
    assert refused.value.status == 404
    assert ("GET", "/portfolio/orders") not in recorder.hits
