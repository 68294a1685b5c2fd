"""Malformed responses name endpoint and field; remote URLs need an explicit opt-in."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from kalshi_core.client import (
    DEMO_BASE_URL,
    PRODUCTION_BASE_URL,
    KalshiClient,
    check_base_url,
    encode_params,
)
from kalshi_core.errors import ConfigError, ExchangeError, WireFormatError
from kalshi_core.models import BookSide

from .conftest import MakeClient
from .server import FakeKalshi, market_json


def _body(data: object) -> bytes:
    return json.dumps(data).encode()


async def test_a_bad_field_names_endpoint_and_field(client: KalshiClient, fake: FakeKalshi) -> None:
    market = market_json("KXTEST-26-M00") | {"yes_bid_dollars": 0.42}  # a number, not a string
    fake.inject("body", status=200, body=_body({"market": market}))
    with pytest.raises(ExchangeError) as caught:
        await client.get_market("KXTEST-26-M00")
    text = str(caught.value)
    assert "GET /markets/KXTEST-26-M00" in text
    assert "yes_bid_dollars" in text
    assert isinstance(caught.value.__cause__, WireFormatError)


async def test_a_bad_item_in_a_page_names_its_index(client: KalshiClient, fake: FakeKalshi) -> None:
    broken = market_json("B") | {"status": "open"}  # a filter value, not an object status
    fake.inject(
        "body", status=200, body=_body({"markets": [market_json("A"), broken], "cursor": ""})
    )
    with pytest.raises(ExchangeError, match=r"markets\[1\]\.status") as caught:
        await client.get_markets()
    assert caught.value.endpoint == "GET /markets"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<html>oops</html>", "not valid JSON"),
        (_body([1, 2]), "expected a JSON object"),
        (_body({"cursor": ""}), "markets: required field missing"),
        (_body({"markets": [], "cursor": 5}), "cursor"),
    ],
)
async def test_malformed_envelopes(
    client: KalshiClient, fake: FakeKalshi, body: bytes, expected: str
) -> None:
    fake.inject("body", status=200, body=body)
    with pytest.raises(ExchangeError, match=expected) as caught:
        await client.get_markets()
    assert caught.value.endpoint == "GET /markets"


async def test_a_malformed_orderbook_names_the_level(
    client: KalshiClient, fake: FakeKalshi
) -> None:
    book = {"orderbook_fp": {"yes_dollars": [["0.42", "x"]], "no_dollars": []}}
    fake.inject("body", status=200, body=_body(book))
    with pytest.raises(ExchangeError, match=r"yes_dollars\[0\]\[1\]") as caught:
        await client.get_orderbook("KXTEST-26-M00")
    assert "GET /markets/KXTEST-26-M00/orderbook" in str(caught.value)


async def test_an_error_body_that_is_not_json_still_raises(
    client: KalshiClient, fake: FakeKalshi
) -> None:
    fake.inject("body", status=400, body=b"bad request")
    with pytest.raises(ExchangeError) as caught:
        await client.get_exchange_status()
    assert (caught.value.status, caught.value.code) == (400, None)


async def test_exchange_error_codes_come_from_the_error_body(
    client: KalshiClient, fake: FakeKalshi
) -> None:
    fake.inject("status", status=409, code="trading_is_paused", method="POST")
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


def test_param_encoding_rejects_naive_datetimes() -> None:
    with pytest.raises(WireFormatError, match="min_ts: naive datetime"):
        encode_params(min_ts=datetime(2026, 1, 1))
    assert encode_params(a=True, b=False, c=None, d=("x", "y")) == (
        ("a", "true"),
        ("b", "false"),
        ("d", "x,y"),
    )


async def test_metrics_count_calls_statuses_and_retries(
    make_client: MakeClient, fake: FakeKalshi
) -> None:
    client = make_client()
    fake.inject("status", status=503, code="service_unavailable", path="/portfolio/balance")
    await client.get_balance()
    await client.get_market("KXTEST-26-M03")
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
