"""Malformed responses name endpoint and field; remote URLs need an explicit opt-in.

The malformed replies come from a hostile server (:mod:`.hostile`) serving JSON taken from
the real local exchange and then broken on purpose.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from kalshi_core.client import (
    DEMO_BASE_URL,
    PRODUCTION_BASE_URL,
    KalshiClient,
    OrderRequest,
    OrderStateUnknown,
    check_base_url,
    encode_params,
)
from kalshi_core.errors import ConfigError, ExchangeError, WireFormatError
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.models import BookSide

from .conftest import TICKER, TICKERS, MakeClient, SleepRecorder, client_options
from .hostile import Answer, HostileServer, json_answer


@pytest.fixture
async def market_wire(exchange: LocalExchange) -> dict[str, Any]:
    """A market exactly as the local exchange serves it."""
    async with httpx.AsyncClient(base_url=exchange.base_url) as http:
        data: dict[str, Any] = (await http.get(f"/markets/{TICKER}")).json()["market"]
        return data


class Served:
    """One hostile server answering every request with the answer set by the test."""

    def __init__(self) -> None:
        self.next = Answer()
        self.server = HostileServer(lambda _: self.next)


@pytest.fixture
async def served(sleeps: SleepRecorder) -> AsyncIterator[tuple[Served, KalshiClient]]:
    holder = Served()
    async with (
        holder.server.running() as server,
        KalshiClient(server.base_url, **client_options(None, sleeps)) as client,
    ):
        yield holder, client


async def test_a_bad_field_names_endpoint_and_field(
    served: tuple[Served, KalshiClient], market_wire: dict[str, Any]
) -> None:
    holder, client = served
    holder.next = json_answer({"market": market_wire | {"yes_bid_dollars": 0.42}})  # not a string
    with pytest.raises(ExchangeError) as caught:
        await client.get_market(TICKER)
    text = str(caught.value)
    assert f"GET /markets/{TICKER}" in text
    assert "yes_bid_dollars" in text
    assert isinstance(caught.value.__cause__, WireFormatError)


async def test_a_bad_item_in_a_page_names_its_index(
    served: tuple[Served, KalshiClient], market_wire: dict[str, Any]
) -> None:
    holder, client = served
    broken = market_wire | {"status": "open"}  # a filter value, not an object status
    holder.next = json_answer({"markets": [market_wire, broken], "cursor": ""})
    with pytest.raises(ExchangeError, match=r"markets\[1\]\.status") as caught:
        await client.get_markets()
    assert caught.value.endpoint == "GET /markets"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (Answer(body=b"<html>oops</html>"), "not valid JSON"),
        (json_answer([1, 2]), "expected a JSON object"),
        (json_answer({"cursor": ""}), "markets: required field missing"),
        (json_answer({"markets": [], "cursor": 5}), "cursor"),
    ],
)
async def test_malformed_envelopes(
    served: tuple[Served, KalshiClient], answer: Answer, expected: str
) -> None:
    holder, client = served
    holder.next = answer
    with pytest.raises(ExchangeError, match=expected) as caught:
        await client.get_markets()
    assert caught.value.endpoint == "GET /markets"


async def test_a_malformed_orderbook_names_the_level(served: tuple[Served, KalshiClient]) -> None:
    holder, client = served
    holder.next = json_answer({"orderbook_fp": {"yes_dollars": [["0.42", "x"]], "no_dollars": []}})
    with pytest.raises(ExchangeError, match=r"yes_dollars\[0\]\[1\]") as caught:
        await client.get_orderbook(TICKER)
    assert f"GET /markets/{TICKER}/orderbook" in str(caught.value)


async def test_an_error_body_that_is_not_json_still_raises(
    served: tuple[Served, KalshiClient],
) -> None:
    holder, client = served
    holder.next = Answer(status=400, body=b"bad request")
    with pytest.raises(ExchangeError) as caught:
        await client.get_exchange_status()
    assert (caught.value.status, caught.value.code) == (400, None)


async def test_an_unreadable_order_ack_is_order_state_unknown(
    served: tuple[Served, KalshiClient],
) -> None:
    holder, client = served
    order = OrderRequest(
        ticker=TICKER, book_side=BookSide.BID, price=4200, count=100, client_order_id="w-1"
    )
    holder.next = json_answer({"order_id": 7}, status=201)
    with pytest.raises(OrderStateUnknown, match="order_id") as caught:
        await client.create_order(order)
    assert caught.value.client_order_id == "w-1"
    holder.next = Answer(status=201, body=b"<html>")
    with pytest.raises(OrderStateUnknown, match="not valid JSON"):
        await client.create_order(order)


async def test_retry_after_is_honoured(
    served: tuple[Served, KalshiClient], sleeps: SleepRecorder
) -> None:
    holder, client = served
    answers = [
        Answer(status=429, body=b"{}", headers=(("Retry-After", "3"),)),
        Answer(status=429, body=b"{}", headers=(("Retry-After", "600"),)),
        json_answer({"exchange_active": True, "trading_active": True}),
    ]
    holder.server.answer = lambda _: answers.pop(0)
    status = await client.get_exchange_status()
    assert status.trading_active
    assert sleeps.delays == [3.0, 60.0]  # the second is capped by max_retry_after
    assert len(holder.server.requests) == 3


async def test_exchange_error_codes_come_from_the_error_body(
    client: KalshiClient, exchange: LocalExchange
) -> None:
    exchange.faults.fail_next(1, "/portfolio/events/orders/o/amend", 409, code="trading_is_paused")
    with pytest.raises(ExchangeError) as caught:
        await client.amend_order("o", ticker="T", book_side=BookSide.BID, price=1, count=1)
    assert (caught.value.status, caught.value.code) == (409, "trading_is_paused")


@pytest.mark.parametrize(
    "url",
    [
        PRODUCTION_BASE_URL,
        DEMO_BASE_URL,
        "http://10.0.0.1/trade-api/v2",
        "http://example.com/trade-api/v2",
        "http://127.0.0.1.example.com/",
    ],
)
def test_remote_urls_are_refused_without_opt_in(url: str) -> None:
    with pytest.raises(ConfigError, match="allow_remote=True"):
        KalshiClient(url)


def test_loopback_urls_are_accepted_and_remote_needs_the_flag() -> None:
    for url in ("http://127.0.0.1:8000/trade-api/v2", "http://[::1]:8000/x", "http://localhost/x"):
        assert check_base_url(url, allow_remote=False).host in ("127.0.0.1", "::1", "localhost")
    # constructing with the opt-in contacts nothing
    assert check_base_url(PRODUCTION_BASE_URL, allow_remote=True).host == "external-api.kalshi.com"
    with pytest.raises(ConfigError, match="credentials") as caught:
        check_base_url("http://user:hunter2@127.0.0.1/x", allow_remote=False)
    assert "hunter2" not in str(caught.value)
    with pytest.raises(ConfigError, match="http"):
        check_base_url("ftp://127.0.0.1/x", allow_remote=False)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://[::1/trade-api/v2", "Invalid port"),
        ("::::", "Relative URLs"),
        ("http://127.0.0.1:99999/trade-api/v2", "port 99999 is not in 1-65535"),
    ],
)
def test_a_malformed_base_url_is_one_config_error_naming_the_key(url: str, problem: str) -> None:
    """Issue 17 item 11: not a raw ``httpx.InvalidURL``."""
    with pytest.raises(ConfigError) as caught:
        KalshiClient(url)
    message = str(caught.value)
    assert message.startswith(f"kalshi.base_url {url!r}")
    assert problem in message
    assert "\n" not in message


def test_param_encoding_rejects_naive_datetimes() -> None:
    with pytest.raises(WireFormatError, match="min_ts: naive datetime"):
        encode_params(min_ts=datetime(2026, 1, 1))
    assert encode_params(a=True, b=False, c=None, d=("x", "y")) == (
        ("a", "true"),
        ("b", "false"),
        ("d", "x,y"),
    )


async def test_metrics_count_calls_statuses_and_retries(
    make_client: MakeClient, exchange: LocalExchange
) -> None:
    client = make_client()
    exchange.faults.fail_next(1, "/portfolio/balance", 503)
    await client.get_balance()
    await client.get_market(TICKERS[3])
    with pytest.raises(ExchangeError):
        await client.get_market("NOPE")
    snapshot = client.metrics.snapshot()
    calls = {(c["endpoint"], c["status"]): c["count"] for c in snapshot["calls"]}
    assert calls == {
        ("GET /portfolio/balance", "503"): 1,
        ("GET /portfolio/balance", "200"): 1,
        ("GET /markets/{ticker}", "200"): 1,
        ("GET /markets/{ticker}", "404"): 1,
    }
    assert snapshot["retries"] == [
        {"endpoint": "GET /portfolio/balance", "reason": "HTTP 503 service_unavailable", "count": 1}
    ]
    latency = snapshot["latency"]["GET /markets/{ticker}"]
    assert latency["count"] == 2
    assert sum(latency["buckets"].values()) == 2
    assert "KALSHI" not in json.dumps(snapshot)
    assert "BEGIN" not in json.dumps(snapshot)
