"""Counts and prices only in Kalshi's decimal forms; client ids bounded and never able to
collide with ids the exchange generates; batch cancels take order id strings only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from kalshi_core.exchange import Venue
from kalshi_core.money import CONTRACT

from .conftest import TICKER, RawHttp, assert_kalshi_error
from .test_bounds import ORDERS, order_body

DEV = "dev"


@pytest.fixture
def nothing_placed(venue: Venue, raw: RawHttp) -> Iterator[None]:
    before = venue.ledger()
    yield
    assert venue.ledger() == before
    assert venue.orders(DEV) == []


@pytest.mark.usefixtures("nothing_placed")
@pytest.mark.parametrize(
    "count",
    [
        "1e2",
        "+1",
        "1_0",
        " 1",
        "1 ",
        "01",
        "1.",
        ".5",
        "\uff11",
        "\u0661",
        "1.00001",
        "-1",
        "0x10",
        "",
    ],
)
async def test_counts_outside_kalshis_forms_are_invalid_count(raw: RawHttp, count: str) -> None:
    response = await raw.send("POST", ORDERS, json=order_body(count=count))
    assert_kalshi_error(response, 400, "invalid_count")


@pytest.mark.usefixtures("nothing_placed")
@pytest.mark.parametrize(
    "price", ["4e-1", "+0.40", "0_40", " 0.40", "00.40", "0.40000", "\uff10.40", "NaN", "Infinity"]
)
async def test_prices_outside_kalshis_forms_are_invalid_price(raw: RawHttp, price: str) -> None:
    response = await raw.send("POST", ORDERS, json=order_body(price=price))
    assert_kalshi_error(response, 400, "invalid_price")


@pytest.mark.parametrize(
    ("count", "price", "contracts"),
    [("10", "0.4", 10), ("10.00", "0.40", 10), ("2.5000", "0.4000", 2.5), (3, "0.40", 3)],
)
async def test_kalshis_forms_are_accepted(
    raw: RawHttp, venue: Venue, count: object, price: str, contracts: float
) -> None:
    body = order_body(count=count, price=price, client_order_id=f"ok-{count}")
    response = await raw.send("POST", ORDERS, json=body)
    if contracts != int(contracts):
        assert_kalshi_error(response, 400, "invalid_count")  # fractional: a venue rule
        assert "fractional" in response.json()["error"]["message"]
        return
    assert response.status_code == 201, response.text
    order = venue.find_order(DEV, f"ok-{count}")
    assert order is not None
    assert (order.remaining_count, order.yes_price) == (int(contracts) * CONTRACT, 4000)


@pytest.mark.usefixtures("nothing_placed")
@pytest.mark.parametrize(
    "client_order_id",
    ["x" * 65, "", "tab\there", 7, ["a"], str(uuid.uuid5(uuid.NAMESPACE_URL, "mine"))],
)
async def test_bad_client_order_ids_are_400(raw: RawHttp, client_order_id: object) -> None:
    response = await raw.send("POST", ORDERS, json=order_body(client_order_id=client_order_id))
    assert_kalshi_error(response, 400, "invalid_parameters")


async def test_a_64_character_client_order_id_is_fine(raw: RawHttp, venue: Venue) -> None:
    cid = "k" * 64
    response = await raw.send("POST", ORDERS, json=order_body(client_order_id=cid))
    assert response.status_code == 201, response.text
    assert venue.find_order(DEV, cid) is not None


async def test_a_client_cannot_take_an_id_the_exchange_will_generate(
    raw: RawHttp, venue: Venue
) -> None:
    anonymous = await raw.send("POST", ORDERS, json=order_body())
    first_id = anonymous.json()["order_id"]
    # The next generated id is the same prefix with the counter one higher.
    prefix, counter = first_id[:24], int(first_id[24:], 16)
    next_id = f"{prefix}{counter + 1:012x}"
    taken = await raw.send("POST", ORDERS, json=order_body(client_order_id=next_id))
    assert_kalshi_error(taken, 400, "invalid_parameters")
    second = await raw.send("POST", ORDERS, json=order_body())
    assert second.status_code == 201, second.text
    found = venue.find_order(DEV, second.json()["client_order_id"])
    assert found is not None
    assert found.order_id == second.json()["order_id"]


async def _resting_ids(raw: RawHttp, n: int) -> list[str]:
    ids = []
    for index in range(n):
        placed = await raw.send("POST", ORDERS, json=order_body(client_order_id=f"r{index}"))
        ids.append(placed.json()["order_id"])
    return ids


@pytest.mark.parametrize(
    "body",
    [
        {"ids": "abc"},
        {"ids": 5},
        {"ids": {"a": 1}},
        {"ids": [1, 2]},
        {"ids": [None]},
        {"ids": []},
        {"ids": ["a"] * 21},
        {"orders": [{"order_id": 5}]},
        {"orders": ["plain-string"]},
        {"orders": "x"},
        {},
    ],
)
async def test_batch_cancel_takes_only_lists_of_id_strings(
    raw: RawHttp, venue: Venue, body: dict[str, object]
) -> None:
    ids = await _resting_ids(raw, 2)
    response = await raw.send("DELETE", f"{ORDERS}/batched", json=body)
    assert_kalshi_error(response, 400, "invalid_parameters")
    assert [venue.get_order(i).remaining_count for i in ids] == [CONTRACT, CONTRACT]


async def test_batch_cancel_by_ids_cancels_and_reports_unknown_ones(
    raw: RawHttp, venue: Venue
) -> None:
    ids = await _resting_ids(raw, 2)
    response = await raw.send("DELETE", f"{ORDERS}/batched", json={"ids": [*ids, "nope"]})
    assert response.status_code == 200, response.text
    results = response.json()["orders"]
    assert [r["order_id"] for r in results] == [*ids, "nope"]
    assert results[2]["error"]["code"] == "not_found"
    assert all(venue.get_order(i).remaining_count == 0 for i in ids)


async def test_amend_reads_numbers_as_strictly(raw: RawHttp, venue: Venue) -> None:
    (order_id,) = await _resting_ids(raw, 1)
    body = {"ticker": TICKER, "side": "bid", "price": "0.41", "count": "2e0"}
    response = await raw.send("POST", f"{ORDERS}/{order_id}/amend", json=body)
    assert_kalshi_error(response, 400, "invalid_count")
    decrease = await raw.send("POST", f"{ORDERS}/{order_id}/decrease", json={"reduce_by": "+1"})
    assert_kalshi_error(decrease, 400, "invalid_count")
    assert venue.get_order(order_id).remaining_count == CONTRACT
