"""Subaccounts over real loopback HTTP: create, balances, transfers (idempotent, refused when
they would overdraw), and the ``subaccount`` of every portfolio and order route."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from kalshi_core.exchange import Venue
from kalshi_core.exchange.subaccounts import MAX_SUBACCOUNT
from kalshi_core.models import BookSide, OrderStatus, TimeInForce
from kalshi_core.money import CENT, DOLLAR

from .conftest import TICKER, RawHttp, assert_kalshi_error, mm_order
from .test_bounds import ORDERS, order_body

DEV = "dev"
SUBS = "/portfolio/subaccounts"
HOSTILE_QUERY = ["1e2", "-1", "true", "01", "+1", " 1", "\uff11", "64", "9" * 30, "0x1"]
HOSTILE_INT: list[Any] = ["1e2", "1", -1, True, False, 1.0, 1.5, "01", 10**30, None, [1], {}]
# Every route that takes the ``subaccount`` query parameter (method, path, body).
QUERY_ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/portfolio/balance", None),
    ("GET", "/portfolio/positions", None),
    ("GET", "/portfolio/orders", None),
    ("GET", "/portfolio/fills", None),
    ("GET", "/portfolio/settlements", None),
    ("GET", "/portfolio/orders/queue_positions", None),
    ("GET", "/portfolio/summary/total_resting_order_value", None),
    ("GET", "/historical/fills", None),
    ("GET", "/historical/orders", None),
    ("GET", "/portfolio/order_groups", None),
    ("DELETE", ORDERS, None),
    ("DELETE", f"{ORDERS}/some-order", None),
    ("POST", f"{ORDERS}/some-order/amend", {"ticker": TICKER, "side": "bid", "price": "0.41"}),
    ("POST", f"{ORDERS}/some-order/decrease", {"reduce_by": 1}),
]


async def _ok(raw: RawHttp, method: str, path: str, status: int = 200, **options: Any) -> Any:
    response = await raw.send(method, path, **options)
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def _create(raw: RawHttp) -> int:
    body = await _ok(raw, "POST", SUBS, 201, json={})
    assert set(body) == {"subaccount_number"}
    number: int = body["subaccount_number"]
    return number


def _transfer(source: int, target: int, cents: int, client_id: str | None = None) -> Any:
    return {
        "client_transfer_id": client_id or str(uuid.uuid4()),
        "from_subaccount": source,
        "to_subaccount": target,
        "amount_cents": cents,
    }


async def _balances(raw: RawHttp) -> dict[int, str]:
    body = await _ok(raw, "GET", f"{SUBS}/balances")
    rows = body["subaccount_balances"]
    for row in rows:
        assert set(row) == {"subaccount_number", "exchange_index", "balance", "updated_ts"}
        assert isinstance(row["updated_ts"], int)
    return {row["subaccount_number"]: row["balance"] for row in rows}


async def _place(raw: RawHttp, **fields: Any) -> str:
    body = await _ok(raw, "POST", ORDERS, 201, json=order_body(**fields))
    order_id: str = body["order_id"]
    return order_id


def _user_cash(venue: Venue) -> int:
    return sum(venue.account(venue.subaccount_id(DEV, n)).cash for n in venue.subaccounts(DEV))


async def test_create_numbers_sequentially_up_to_kalshis_cap(raw: RawHttp, venue: Venue) -> None:
    assert await _balances(raw) == {0: "1000.0000"}
    assert [await _create(raw) for _ in range(3)] == [1, 2, 3]
    assert await _balances(raw) == {0: "1000.0000", 1: "0.0000", 2: "0.0000", 3: "0.0000"}
    for _ in range(MAX_SUBACCOUNT - 3):
        await _create(raw)
    refused = await raw.send("POST", SUBS, json={})
    assert_kalshi_error(refused, 400, "invalid_parameters")
    assert "63" in refused.json()["error"]["message"]
    assert venue.subaccounts(DEV) == list(range(MAX_SUBACCOUNT + 1))
    other_shard = await raw.send("POST", SUBS, json={"exchange_index": 1})
    assert_kalshi_error(other_shard, 400)
    assert "exchange_index" in other_shard.json()["error"]["message"]


async def test_transfers_move_cents_and_are_listed_newest_first(raw: RawHttp, venue: Venue) -> None:
    await _create(raw)
    assert await _ok(raw, "POST", f"{SUBS}/transfer", json=_transfer(0, 1, 2_500)) == {}
    assert await _ok(raw, "POST", f"{SUBS}/transfer", json=_transfer(1, 0, 100)) == {}
    assert await _balances(raw) == {0: "976.0000", 1: "24.0000"}
    one = await _ok(raw, "GET", "/portfolio/balance", params={"subaccount": "1"})
    assert (one["balance"], one["balance_dollars"]) == (2_400, "24.0000")
    listed = await _ok(raw, "GET", f"{SUBS}/transfers", params={"limit": 1})
    first = listed["transfers"]
    assert [(t["from_subaccount"], t["to_subaccount"], t["amount_cents"]) for t in first] == [
        (1, 0, 100)
    ]
    assert set(first[0]) == {
        "transfer_id",
        "from_subaccount",
        "to_subaccount",
        "amount_cents",
        "created_ts",
        "exchange_index",
    }
    rest = await _ok(
        raw, "GET", f"{SUBS}/transfers", params={"limit": 1, "cursor": listed["cursor"]}
    )
    assert [t["amount_cents"] for t in rest["transfers"]] == [2_500]
    assert rest["cursor"] == ""
    assert venue.ledger().balanced


async def test_a_retried_transfer_moves_money_once(raw: RawHttp, venue: Venue) -> None:
    await _create(raw)
    body = _transfer(0, 1, 1_000, str(uuid.uuid4()).upper())
    for _ in range(3):
        assert await _ok(raw, "POST", f"{SUBS}/transfer", json=body) == {}
    lower = {**body, "client_transfer_id": body["client_transfer_id"].lower()}
    assert await _ok(raw, "POST", f"{SUBS}/transfer", json=lower) == {}  # the same UUID
    assert await _balances(raw) == {0: "990.0000", 1: "10.0000"}
    changed = await raw.send("POST", f"{SUBS}/transfer", json={**body, "amount_cents": 5})
    assert_kalshi_error(changed, 400, "invalid_parameters")
    assert "client_transfer_id" in changed.json()["error"]["message"]
    listed = await _ok(raw, "GET", f"{SUBS}/transfers")
    assert len(listed["transfers"]) == 1
    assert await _balances(raw) == {0: "990.0000", 1: "10.0000"}


async def test_overdraft_and_held_cash_are_refused(raw: RawHttp, venue: Venue) -> None:
    await _create(raw)
    before = venue.ledger()
    too_much = await raw.send("POST", f"{SUBS}/transfer", json=_transfer(0, 1, 100_001))
    assert_kalshi_error(too_much, 400, "insufficient_balance")
    empty = await raw.send("POST", f"{SUBS}/transfer", json=_transfer(1, 0, 1))
    assert_kalshi_error(empty, 400, "insufficient_balance")
    await _place(raw, price="0.50", count="1000")  # holds $500 and its fees of the $1,000
    free = venue.balance(DEV).balance // CENT
    assert 0 < free < 50_000
    held = await raw.send("POST", f"{SUBS}/transfer", json=_transfer(0, 1, free + 1))
    assert_kalshi_error(held, 400, "insufficient_balance")
    await _ok(raw, "POST", f"{SUBS}/transfer", json=_transfer(0, 1, free))
    assert venue.balance(DEV).balance < CENT
    assert venue.ledger().cash == before.cash
    assert venue.ledger().balanced


@pytest.mark.parametrize("field", ["from_subaccount", "to_subaccount", "amount_cents"])
@pytest.mark.parametrize("value", HOSTILE_INT, ids=repr)
async def test_hostile_transfer_numbers_are_refused_naming_the_field(
    raw: RawHttp, venue: Venue, field: str, value: Any
) -> None:
    await _create(raw)
    cash = _user_cash(venue)
    body = {**_transfer(0, 1, 100), field: value}
    if value is None:
        del body[field]
    response = await raw.send("POST", f"{SUBS}/transfer", json=body)
    assert_kalshi_error(response, 400, "invalid_parameters")
    assert field in response.json()["error"]["message"]
    assert _user_cash(venue) == cash
    assert venue.transfers(DEV) == []


@pytest.mark.parametrize(
    "body",
    [
        _transfer(0, 5, 100),  # subaccount 5 was never created
        _transfer(7, 0, 100),
        _transfer(1, 1, 100),
        _transfer(0, 1, 0),
        {**_transfer(0, 1, 100), "client_transfer_id": "not-a-uuid"},
        {**_transfer(0, 1, 100), "client_transfer_id": 12345},
        {k: v for k, v in _transfer(0, 1, 100).items() if k != "client_transfer_id"},
        {**_transfer(0, 1, 100), "exchange_index": 2},
    ],
)
async def test_bad_transfers_change_nothing(
    raw: RawHttp, venue: Venue, body: dict[str, Any]
) -> None:
    await _create(raw)
    ledger = venue.ledger()
    response = await raw.send("POST", f"{SUBS}/transfer", json=body)
    assert_kalshi_error(response, 400, "invalid_parameters")
    assert venue.ledger() == ledger
    assert venue.transfers(DEV) == []
    assert await _balances(raw) == {0: "1000.0000", 1: "0.0000"}


@pytest.mark.parametrize(("method", "path", "body"), QUERY_ROUTES, ids=lambda v: str(v)[:40])
@pytest.mark.parametrize("value", [*HOSTILE_QUERY, "5"])
async def test_every_route_refuses_a_bad_or_unknown_subaccount(
    raw: RawHttp, venue: Venue, method: str, path: str, body: Any, value: str
) -> None:
    await _create(raw)
    ledger = venue.ledger()
    response = await raw.send(method, path, params={"subaccount": value}, json=body)
    assert_kalshi_error(response, 400, "invalid_parameters")
    assert "subaccount" in response.json()["error"]["message"]
    assert venue.ledger() == ledger


@pytest.mark.parametrize("value", [5, -1, "1", True, 1.0, 64, 10**30])
async def test_order_entry_refuses_a_bad_or_unknown_subaccount(
    raw: RawHttp, venue: Venue, value: Any
) -> None:
    await _create(raw)
    response = await raw.send("POST", ORDERS, json=order_body(subaccount=value))
    assert_kalshi_error(response, 400, "invalid_parameters")
    assert "subaccount" in response.json()["error"]["message"]
    group = await raw.send(
        "POST", "/portfolio/order_groups/create", json={"contracts_limit": 5, "subaccount": value}
    )
    assert_kalshi_error(group, 400, "invalid_parameters")
    batch = await _ok(
        raw,
        "POST",
        f"{ORDERS}/batched",
        201,
        json={"orders": [order_body(subaccount=value), order_body()]},
    )
    assert "error" in batch["orders"][0]
    assert "order_id" in batch["orders"][1]
    assert venue.orders(DEV)
    assert not venue.orders(venue.subaccount_id(DEV, 1))


async def test_orders_of_one_subaccount_stay_out_of_anothers_lists(
    raw: RawHttp, venue: Venue
) -> None:
    await _create(raw)
    await _create(raw)
    await _ok(raw, "POST", f"{SUBS}/transfer", json=_transfer(0, 2, 10_000))
    mine = await _place(raw, client_order_id="zero", price="0.30")
    theirs = await _place(raw, client_order_id="two", price="0.31", subaccount=2)

    async def listed(**params: Any) -> list[tuple[str, int, str]]:
        body = await _ok(raw, "GET", "/portfolio/orders", params=params)
        return sorted(
            (o["client_order_id"], o["subaccount_number"], o["user_id"]) for o in body["orders"]
        )

    assert await listed(subaccount=0) == [("zero", 0, DEV)]
    assert await listed(subaccount=2) == [("two", 2, DEV)]
    assert await listed(subaccount=1) == []
    assert await listed() == [("two", 2, DEV), ("zero", 0, DEV)]  # Kalshi: omitted means all
    one = await _ok(raw, "GET", f"/portfolio/orders/{theirs}")
    assert (one["order"]["subaccount_number"], one["order"]["user_id"]) == (2, DEV)
    resting = await _ok(
        raw, "GET", "/portfolio/summary/total_resting_order_value", params={"subaccount": 2}
    )
    assert resting["total_resting_order_value"] == 31
    queue = await _ok(raw, "GET", "/portfolio/orders/queue_positions", params={"subaccount": 2})
    assert [q["order_id"] for q in queue["queue_positions"]] == [theirs]
    # Cancel, amend and decrease act in the subaccount given (Kalshi's default: 0).
    wrong = await raw.send("DELETE", f"{ORDERS}/{theirs}")
    assert_kalshi_error(wrong, 404, "not_found")
    wrong = await raw.send("DELETE", f"{ORDERS}/{mine}", params={"subaccount": "2"})
    assert_kalshi_error(wrong, 404, "not_found")
    amend = {"ticker": TICKER, "side": "bid", "price": "0.32", "count": "3"}
    await _ok(raw, "POST", f"{ORDERS}/{theirs}/amend", params={"subaccount": "2"}, json=amend)
    clash = await raw.send(
        "POST",
        f"{ORDERS}/{theirs}/amend",
        params={"subaccount": "2"},
        json={**amend, "subaccount": 0},
    )
    assert_kalshi_error(clash, 400, "invalid_parameters")
    await _ok(raw, "POST", f"{ORDERS}/{theirs}/decrease", json={"reduce_by": 1, "subaccount": 2})
    assert venue.get_order(theirs).remaining_count == 200
    assert venue.get_order(theirs).yes_price == 3200
    batch = {"orders": [{"order_id": theirs, "subaccount": 2}, {"order_id": mine}]}
    cancels = await _ok(raw, "DELETE", f"{ORDERS}/batched", json=batch)
    assert [c.get("error") for c in cancels["orders"]] == [None, None]
    assert venue.get_order(theirs).status is OrderStatus.CANCELED
    assert venue.balance(venue.subaccount_id(DEV, 2)).balance == 100 * DOLLAR


async def test_cancel_all_takes_one_subaccount_or_every_one(raw: RawHttp, venue: Venue) -> None:
    await _create(raw)
    await _ok(raw, "POST", f"{SUBS}/transfer", json=_transfer(0, 1, 10_000))
    zero = await _place(raw, price="0.30")
    one = await _place(raw, price="0.30", subaccount=1)
    assert await _ok(raw, "DELETE", ORDERS, 204, params={"subaccount": "1"}) is None
    assert venue.get_order(one).status is OrderStatus.CANCELED
    assert venue.get_order(zero).status is OrderStatus.RESTING
    again = await _place(raw, price="0.30", subaccount=1)
    await _ok(raw, "DELETE", ORDERS, 204)
    assert {venue.get_order(i).status for i in (zero, again)} == {OrderStatus.CANCELED}


async def test_fills_positions_and_self_trade_prevention_span_subaccounts(
    raw: RawHttp, venue: Venue
) -> None:
    await _create(raw)
    await _ok(raw, "POST", f"{SUBS}/transfer", json=_transfer(0, 1, 10_000))
    resting = await _place(raw, price="0.40", count="2", subaccount=1)
    # The same user's ask would cross its own subaccount's bid: taker_at_cross stops it.
    crossing = await _place(raw, side="ask", price="0.40", count="1")
    assert venue.get_order(crossing).status is OrderStatus.CANCELED
    assert venue.get_order(resting).fill_count == 0
    venue.place_order(mm_order(BookSide.ASK, 4000, 2, tif=TimeInForce.IMMEDIATE_OR_CANCEL))
    fills = await _ok(raw, "GET", "/portfolio/fills", params={"subaccount": "1"})
    assert [(f["order_id"], f["subaccount_number"]) for f in fills["fills"]] == [(resting, 1)]
    assert (await _ok(raw, "GET", "/portfolio/fills", params={"subaccount": "0"}))["fills"] == []
    assert len((await _ok(raw, "GET", "/portfolio/fills"))["fills"]) == 1
    positions = await _ok(raw, "GET", "/portfolio/positions", params={"subaccount": "1"})
    assert [p["position_fp"] for p in positions["market_positions"]] == ["2.00"]
    primary = await _ok(raw, "GET", "/portfolio/positions")
    assert primary["market_positions"] == []
    spent = 80 * CENT + venue.get_order(resting).maker_fees
    assert venue.account(venue.subaccount_id(DEV, 1)).cash == 100 * DOLLAR - spent


async def test_order_groups_live_in_their_subaccount(raw: RawHttp, venue: Venue) -> None:
    await _create(raw)
    created = await _ok(
        raw,
        "POST",
        "/portfolio/order_groups/create",
        201,
        json={"contracts_limit": 5, "subaccount": 1},
    )
    assert created["subaccount"] == 1
    group = created["order_group_id"]
    in_one = await _ok(raw, "GET", "/portfolio/order_groups", params={"subaccount": "1"})
    assert [g["id"] for g in in_one["order_groups"]] == [group]
    in_zero = await _ok(raw, "GET", "/portfolio/order_groups", params={"subaccount": "0"})
    assert in_zero["order_groups"] == []
    assert [
        g["id"] for g in (await _ok(raw, "GET", "/portfolio/order_groups"))["order_groups"]
    ] == [group]
    assert (await _ok(raw, "GET", f"/portfolio/order_groups/{group}"))["orders"] == []
    wrong = await raw.send("PUT", f"/portfolio/order_groups/{group}/trigger")
    assert_kalshi_error(wrong, 404, "not_found")
    await _ok(raw, "PUT", f"/portfolio/order_groups/{group}/trigger", params={"subaccount": "1"})
    # An order of subaccount 0 cannot join subaccount 1's group.
    refused = await raw.send("POST", ORDERS, json=order_body(order_group_id=group))
    assert_kalshi_error(refused, 404, "not_found")
