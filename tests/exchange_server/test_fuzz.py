"""Fuzzing every route of the exchange over real loopback HTTP (issue 17, item 4).

For each route in the server's own route table, Hypothesis sends requests whose path
parameters, query values, bodies and authentication headers mix valid values with hostile
ones (exponents, non-ASCII digits, huge numbers, wrong JSON types, deep nesting). Whatever it
sends, the exchange must answer below 500, put every error in Kalshi's shape, keep its ledger
balanced, and leave the ledger and the account's orders untouched when it refuses a request.

Bounded for CI: ``EXAMPLES`` requests per route (20, about 30 s for all routes on a loaded
two-core box); ``KALSHI_FUZZ_EXAMPLES=500`` searches harder locally.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import quote

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings
from starlette.routing import Route

from kalshi_core.exchange import Venue
from kalshi_core.exchange.http.app import PREFIX, SECTIONS
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.models import BookSide, TimeInForce

from .conftest import EVENTS, MM, TICKER, RawHttp, cross, mm_order, tickers

EXAMPLES = int(os.environ.get("KALSHI_FUZZ_EXAMPLES", "20"))
ROUTES = [(method, path) for section in SECTIONS for method, path, _ in section.ROUTES]
DEV = "dev"

NASTY_WORDS = [
    "",
    "0",
    "-0",
    "-1",
    "1",
    "10",
    "1e999990",
    "1e2",
    "\u00b2",
    "--5",
    "+1",
    "1_0",
    " 1",
    "01",
    "\uff11",
    "\u0663",
    "99999999999999999999999999",
    "253402300800",
    "NaN",
    "Infinity",
    "-inf",
    "true",
    "false",
    "null",
    "0.4200",
    "0.42001",
    "10.00",
    "%",
    "%00",
    "\x00",
    "\u202e",
    "a,b,,",
    "open",
    "closed",
    "settled",
    "unopened",
    "paused",
    "resting",
    "canceled",
    "executed",
    "all",
    "position",
    "total_traded",
    "only",
    "exclude",
    "bid",
    "ask",
    "yes",
    "no",
    TICKER,
    EVENTS[0],
    "KXTEST",
    "/..//",
    "a" * 300,
]
TEXT = st.one_of(
    st.sampled_from(NASTY_WORDS),
    st.text(max_size=24),
    st.integers().map(str),
    st.from_regex(r"[-+]?[0-9]{0,24}(\.[0-9]{0,8})?([eE][-+]?[0-9]{1,7})?", fullmatch=True),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)
QUERY_NAMES = [
    "limit",
    "cursor",
    "status",
    "ticker",
    "tickers",
    "event_ticker",
    "series_ticker",
    "min_ts",
    "max_ts",
    "min_close_ts",
    "max_close_ts",
    "min_created_ts",
    "max_created_ts",
    "min_updated_ts",
    "max_settled_ts",
    "depth",
    "start_ts",
    "end_ts",
    "period_interval",
    "include_latest_before_start",
    "with_nested_markets",
    "is_block_trade",
    "mve_filter",
    "settlement_status",
    "count_filter",
    "market_tickers",
    "order_id",
    "subaccount",
]
GOOD_QUERY: dict[str, Any] = {
    "limit": st.sampled_from(["1", "2", "100"]),
    "status": st.sampled_from(["open", "resting", "settled"]),
    "ticker": st.sampled_from(tickers()),
    "tickers": st.sampled_from([TICKER, ",".join(tickers()[:3])]),
    "market_tickers": st.sampled_from([TICKER, ",".join(tickers()[:3])]),
    "start_ts": st.sampled_from(["0", "1772366400"]),
    "end_ts": st.sampled_from(["1772370000", "1772452800"]),
    "period_interval": st.sampled_from(["1", "60", "1440"]),
}
BODY_FIELDS: dict[str, Any] = {
    "ticker": st.sampled_from(tickers()),
    "side": st.sampled_from(["bid", "ask"]),
    "price": st.sampled_from(["0.40", "0.5", "0.6000", "0.01", "0.99"]),
    "count": st.sampled_from(["1", "2.00", 3, "0"]),
    "time_in_force": st.sampled_from(["good_till_canceled", "immediate_or_cancel", "fill_or_kill"]),
    "self_trade_prevention_type": st.sampled_from(["taker_at_cross", "maker"]),
    "post_only": st.booleans(),
    "reduce_only": st.booleans(),
    "expiration_time": st.sampled_from([None, 1772366460, 1_000]),
    "client_order_id": st.uuids(version=4).map(str) | st.text(min_size=1, max_size=8),
    "updated_client_order_id": st.text(min_size=1, max_size=8),
    "reduce_by": st.sampled_from(["1", 1]),
    "reduce_to": st.sampled_from(["0", "1"]),
    "subaccount": st.sampled_from([0, 1]),
}


def _field(name: str, good: dict[str, Any]) -> Any:
    return st.one_of(good[name], JSON) if name in good else JSON


def _object(good: dict[str, Any], names: list[str], most: int) -> Any:
    keys = st.lists(st.sampled_from(names), unique=True, max_size=most)
    return keys.flatmap(lambda ks: st.fixed_dictionaries({k: _field(k, good) for k in ks}))


ORDER_OBJECT = _object(BODY_FIELDS, list(BODY_FIELDS), len(BODY_FIELDS))
BATCH = st.fixed_dictionaries(
    {"orders": st.one_of(st.lists(ORDER_OBJECT, max_size=4), JSON)},
)
BODIES = st.one_of(
    ORDER_OBJECT.map(lambda body: json.dumps(body).encode()),
    BATCH.map(lambda body: json.dumps(body).encode()),
    st.fixed_dictionaries({"ids": JSON}).map(lambda body: json.dumps(body).encode()),
    JSON.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=64),
    st.sampled_from([b"[" * 5000, b'{"count": 1' + b"0" * 5000 + b"}", b"\xff\xfe"]),
)
CREATE = ("ticker", "side", "price", "count", "time_in_force", "self_trade_prevention_type")


def near_valid(base: dict[str, Any], extra: tuple[str, ...] = ()) -> Any:
    """A valid body with up to two fields replaced by hostile values and one maybe dropped,
    so requests get past the first check and reach the venue."""
    fields = st.fixed_dictionaries(
        {k: st.just(base[k]) if k in base else BODY_FIELDS[k] for k in (*base, *extra)}
    )
    changed = st.dictionaries(st.sampled_from(list(BODY_FIELDS)), JSON, max_size=2)
    dropped = st.lists(st.sampled_from([*base, *extra]), max_size=1)

    def apply(parts: tuple[dict[str, Any], dict[str, Any], list[str], bool]) -> dict[str, Any]:
        body, hostile, gone, clean = parts
        if clean:
            return body
        body = {**body, **hostile}
        return {k: v for k, v in body.items() if k not in gone}

    return st.tuples(fields, changed, dropped, st.booleans()).map(apply)


ANY_CREATE = near_valid({}, (*CREATE, "client_order_id", "post_only", "expiration_time"))
CREATE_BODY = st.one_of(ANY_CREATE, st.fixed_dictionaries({k: BODY_FIELDS[k] for k in CREATE}))
AMEND_BODY = near_valid({"ticker": TICKER, "side": "bid"}, ("price", "count"))
DECREASE_BODY = near_valid({}, ("reduce_by",))


def body_for(method: str, path: str, ids: list[str]) -> Any:
    """Mostly near-valid bodies for the route, sometimes anything at all."""
    some_ids = st.lists(st.integers(0, 63).map(lambda i: ids[i % len(ids)]), min_size=1, max_size=3)
    if path.endswith("/amend"):
        fitting = AMEND_BODY
    elif path.endswith("/decrease"):
        fitting = DECREASE_BODY
    elif path.endswith("/batched"):
        fitting = (
            st.fixed_dictionaries({"orders": st.lists(CREATE_BODY, min_size=1, max_size=3)})
            if method == "POST"
            else st.one_of(
                st.fixed_dictionaries({"ids": some_ids}),
                some_ids.map(lambda xs: {"orders": [{"order_id": x} for x in xs]}),
            )
        )
    else:
        fitting = CREATE_BODY if method == "POST" else st.just({})
    encoded = fitting.map(lambda body: json.dumps(body).encode())
    return st.one_of(encoded, encoded, BODIES)


AUTH = st.sampled_from(["signed"] * 6 + ["unsigned", "bad-timestamp"])


@st.composite
def requests(draw: st.DrawFn, method: str, path: str, ids: list[str]) -> dict[str, Any]:
    values = {
        "ticker": st.sampled_from(tickers()) | TEXT,
        "series": st.sampled_from(["KXTEST", "KXOTHER"]) | TEXT,
        "event": st.sampled_from(list(EVENTS)) | TEXT,
        "order_id": st.integers(0, 63).map(lambda i: ids[i % len(ids)]) | TEXT,
    }
    for name, strategy in values.items():
        part = draw(strategy)
        path = path.replace("{" + name + "}", quote(part, safe="") or "x")
    query = draw(_object(GOOD_QUERY, QUERY_NAMES, 4))
    request: dict[str, Any] = {"path": path, "auth": draw(AUTH)}
    request["params"] = {k: v if isinstance(v, str) else json.dumps(v) for k, v in query.items()}
    if method in ("POST", "DELETE"):
        request["content"] = draw(body_for(method, path, ids))
    return request


def _seed(venue: Venue) -> list[str]:
    """Resting orders of the dev account and a few prints, so ids and books are real."""
    cross(venue, 5000, 2)
    venue.place_order(mm_order(BookSide.ASK, 5500, 5))
    ids = []
    for price in (4000, 4200, 4400):
        ids.append(venue.place_order(mm_order(BookSide.BID, price, 3, account=DEV)).order_id)
    ioc = TimeInForce.IMMEDIATE_OR_CANCEL
    venue.place_order(mm_order(BookSide.BID, 5500, 1, tif=ioc, account=DEV))
    ids.append(venue.orders(MM)[0].order_id)  # another account's order: never ours to touch
    return ids


def assert_answer_is_sound(response: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code == 204:
        assert response.content == b""
        return
    body = response.json()
    if response.status_code >= 400:
        error = body["error"]
        assert set(error) == {"code", "message", "service"}, body
        assert error["service"] == "exchange"
        assert isinstance(error["code"], str)
        assert error["code"]


async def _send(raw: RawHttp, method: str, request: dict[str, Any]) -> Any:
    headers: dict[str, str | bytes] = {"content-type": "application/json"}
    signed = request["auth"] != "unsigned"
    if request["auth"] == "bad-timestamp":
        headers["KALSHI-ACCESS-TIMESTAMP"] = "\u00b21".encode()
    return await raw.send(
        method,
        request["path"],
        signed=signed,
        headers=headers,
        params=request["params"],
        content=request.get("content"),
    )


def test_every_route_is_fuzzed(exchange: LocalExchange) -> None:
    served = {
        (method, route.path.removeprefix(PREFIX))
        for route in exchange.app.app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    assert served == set(ROUTES)
    assert len(ROUTES) == len(set(ROUTES)) == 52


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(data=st.data())
async def test_no_input_breaks_the_exchange(
    method: str, path: str, data: st.DataObject, raw: RawHttp, venue: Venue
) -> None:
    ids = [o.order_id for o in venue.orders(DEV) + venue.orders(MM)] or _seed(venue)
    request = data.draw(requests(method, path, ids))
    ledger, orders = venue.ledger(), venue.orders(DEV)
    response = await _send(raw, method, request)
    assert_answer_is_sound(response)
    assert venue.ledger().balanced
    if response.status_code >= 400:
        assert venue.ledger() == ledger, (request, response.text)
        assert venue.orders(DEV) == orders, (request, response.text)
