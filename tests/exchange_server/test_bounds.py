"""Hostile input is a 4xx in Kalshi's error shape, answered at once, and never moves money.

Each case here once gave a 500, a plain-text error or a server stalled for a minute and a
half (issue 17, item 4).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from kalshi_core.client import Signer
from kalshi_core.exchange import Venue
from kalshi_core.exchange.local import LocalExchange

from .conftest import TICKER, RawHttp, assert_kalshi_error

ORDERS = "/portfolio/events/orders"


def order_body(**fields: object) -> dict[str, object]:
    body: dict[str, object] = {
        "ticker": TICKER,
        "side": "bid",
        "price": "0.40",
        "count": "1",
        "time_in_force": "good_till_canceled",
        "self_trade_prevention_type": "taker_at_cross",
    }
    body.update(fields)
    return body


@pytest.fixture
def ledger_before(venue: Venue, raw: RawHttp) -> Iterator[None]:
    """The test's requests leave the venue's ledger and the dev account's orders as they were."""
    before = venue.ledger()
    yield
    assert venue.ledger() == before
    assert venue.orders("dev") == []


@pytest.mark.usefixtures("ledger_before")
async def test_an_exponent_count_is_refused_at_once(raw: RawHttp) -> None:
    response = await raw.send("POST", ORDERS, json=order_body(count="1e999990"))
    assert_kalshi_error(response, 400, "invalid_count")


@pytest.mark.usefixtures("ledger_before")
@pytest.mark.parametrize(
    "field",
    [
        {"count": 10**40},
        {"count": -1},
        {"count": 1.5},
        {"price": "9" * 5000},
        {"price": 0.4},
        {"expiration_time": 10**30},
        {"expiration_time": -5},
        {"expiration_time": "soon"},
    ],
)
async def test_out_of_range_body_numbers_are_400(raw: RawHttp, field: dict[str, object]) -> None:
    response = await raw.send("POST", ORDERS, json=order_body(**field))
    assert_kalshi_error(response, 400)


@pytest.mark.parametrize(
    "query",
    [
        "/markets?limit=%C2%B2",  # superscript two: str.isdigit() says yes, int() says no
        "/markets?limit=--5",
        "/markets?limit=99999999999999999999999999",
        "/markets?min_close_ts=99999999999999999",
        "/markets?min_created_ts=%C2%B2",
        "/markets?cursor=%C2%B2",
        "/markets/trades?min_ts=1e9",
        "/markets/trades?max_ts=-1",
        f"/markets/{TICKER}/orderbook?depth=%D9%A3",  # Arabic-Indic three
        f"/series/KXTEST/markets/{TICKER}/candlesticks?start_ts=0&end_ts=99999999999999&period_interval=1",
        "/portfolio/orders?limit=+5",
        "/portfolio/fills?min_ts=%EF%BC%91",  # fullwidth one
        "/events?limit=1_0",
    ],
)
async def test_bad_query_values_are_400(raw: RawHttp, query: str) -> None:
    assert_kalshi_error(await raw.send("GET", query), 400, "invalid_parameters")


@pytest.mark.parametrize("stamp", ["²".encode(), b"\xb2", b"9" * 40, b"-1", b"1e12", b"1 2"])
async def test_a_bad_timestamp_header_is_401_in_kalshi_shape(raw: RawHttp, stamp: bytes) -> None:
    signed = raw.signer.headers("GET", "/trade-api/v2/markets")
    headers: dict[str, str | bytes] = {**signed, "KALSHI-ACCESS-TIMESTAMP": stamp}
    response = await raw.send("GET", "/markets", signed=False, headers=headers)
    assert_kalshi_error(response, 401, "unauthorized")


@pytest.mark.usefixtures("ledger_before")
async def test_a_declared_oversized_body_is_413(raw: RawHttp) -> None:
    body = b'{"pad": "' + b"x" * 70_000 + b'"}'
    response = await raw.send("POST", ORDERS, content=body)
    assert_kalshi_error(response, 413, "payload_too_large")


@pytest.mark.usefixtures("ledger_before")
async def test_a_streamed_oversized_body_is_413_before_it_is_read_whole(raw: RawHttp) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"pad": "'
        for _ in range(64):  # 4 MiB, chunked: no Content-Length to refuse it by
            yield b"x" * 65_536

    response = await raw.send("POST", ORDERS, content=chunks())
    assert_kalshi_error(response, 413, "payload_too_large")


@pytest.mark.usefixtures("ledger_before")
async def test_deeply_nested_json_is_400(raw: RawHttp) -> None:
    response = await raw.send("POST", ORDERS, content=b"[" * 60_000)
    assert_kalshi_error(response, 400, "invalid_parameters")


async def test_a_body_under_the_limit_is_still_served(raw: RawHttp, venue: Venue) -> None:
    response = await raw.send("POST", ORDERS, json=order_body(client_order_id="ok-1"))
    assert response.status_code == 201, response.text
    assert venue.find_order("dev", "ok-1") is not None


async def test_the_app_stops_pulling_a_body_past_the_limit(exchange: LocalExchange) -> None:
    """At the ASGI level: the app asks for no more chunks once the limit is passed."""
    pulled, sent = 0, []
    path = "/trade-api/v2" + ORDERS
    signer = Signer.from_file(exchange.api_key_id, exchange.private_key_path or "")
    headers = [(k.lower().encode(), v.encode()) for k, v in signer.headers("POST", path).items()]

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 16_384, "more_body": pulled < 1_000}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "headers": headers,
        "query_string": b"",
    }
    await exchange.app(scope, receive, send)
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["error"]["code"] == "payload_too_large"
    assert pulled == 65_536 // 16_384 + 1


async def test_an_unexpected_failure_is_a_500_in_kalshi_shape(
    raw: RawHttp, exchange: LocalExchange
) -> None:
    def broken_sync() -> None:
        raise RuntimeError("replay exploded")

    exchange.context.sync = broken_sync
    response = await raw.send("GET", "/markets")
    assert_kalshi_error(response, 500, "internal_error")
    assert "replay exploded" not in response.text  # internals stay in the log
