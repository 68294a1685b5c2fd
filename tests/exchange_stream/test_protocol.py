"""The handshake and the commands of ``/trade-api/ws/v2``, over real WebSockets."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from cryptography.hazmat.primitives.asymmetric import ed25519
from websockets.exceptions import InvalidStatus

from kalshi_core.client import Signer
from kalshi_core.client.stream import (
    KalshiStream,
    OrderbookSnapshot,
    StreamError,
    Subscription,
    stream_url,
)
from kalshi_core.errors import ConfigError, ExchangeError
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.exchange.websocket import StreamFeed

from .conftest import TICKER, TICKERS, MakeStream


async def test_a_signature_by_another_key_is_refused_with_401(
    exchange: LocalExchange, make_stream: MakeStream
) -> None:
    impostor = Signer(exchange.api_key_id, ed25519.Ed25519PrivateKey.generate())
    stream = KalshiStream(stream_url(exchange.base_url), impostor)
    with pytest.raises(ExchangeError) as refused:
        await stream.connect()
    assert refused.value.status == 401
    assert refused.value.code == "unauthorized"
    assert "SIGNATURE" in str(refused.value)


async def test_an_unsigned_handshake_is_refused(exchange: LocalExchange) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await websockets.connect(stream_url(exchange.base_url), proxy=None)
    assert refused.value.response.status_code == 401


async def test_a_signature_over_the_rest_path_is_refused(
    exchange: LocalExchange, signer: Signer
) -> None:
    headers = signer.headers("GET", "/trade-api/v2/portfolio/balance")
    with pytest.raises(InvalidStatus) as refused:
        await websockets.connect(
            stream_url(exchange.base_url), additional_headers=headers, proxy=None
        )
    assert refused.value.response.status_code == 401


@pytest.mark.parametrize("stamp", ["\u00b2", "9" * 40, "1e12", ""])
async def test_a_bad_timestamp_is_refused_like_rest_does(
    exchange: LocalExchange, signer: Signer, stamp: str
) -> None:
    """The handshake goes through the same auth module as REST: 401 in Kalshi's shape."""
    headers: dict[str, str | bytes] = {
        **signer.headers("GET", "/trade-api/ws/v2"),
        "KALSHI-ACCESS-TIMESTAMP": stamp.encode(),
    }
    with pytest.raises(InvalidStatus) as refused:
        await websockets.connect(
            stream_url(exchange.base_url), additional_headers=headers, proxy=None
        )
    response = refused.value.response
    assert response.status_code == 401
    error = json.loads(response.body or b"{}")["error"]
    assert (error["code"], error["service"]) == ("unauthorized", "exchange")
    assert "TIMESTAMP" in error["message"]


async def test_a_remote_url_is_refused_before_any_connection(signer: Signer) -> None:
    with pytest.raises(ConfigError, match="non-loopback"):
        KalshiStream("wss://demo-api.kalshi.co/trade-api/ws/v2", signer)
    assert KalshiStream("ws://[::1]:9/trade-api/ws/v2", signer).url.startswith("ws://[::1]")


async def test_subscribe_list_and_unsubscribe(stream: KalshiStream) -> None:
    replies = await stream.command(
        "subscribe", {"channels": ["orderbook_delta", "trade"], "market_ticker": TICKER}, replies=2
    )
    assert [r["type"] for r in replies] == ["subscribed", "subscribed"]
    assert [r["msg"] for r in replies] == [
        {"channel": "orderbook_delta", "sid": 1},
        {"channel": "trade", "sid": 2},
    ]
    assert await stream.subscribe("ticker") == 3
    listed = await stream.list_subscriptions()
    assert listed == [
        Subscription(channel="orderbook_delta", sid=1),
        Subscription(channel="trade", sid=2),
        Subscription(channel="ticker", sid=3),
    ]
    (gone,) = await stream.command("unsubscribe", {"sids": [1]})
    assert gone == {"id": gone["id"], "sid": 1, "seq": 1, "type": "unsubscribed"}
    await stream.unsubscribe(2, 3)
    assert await stream.list_subscriptions() == []
    snapshot = stream.drain()
    assert [type(u) for u in snapshot] == [OrderbookSnapshot]


@pytest.mark.parametrize(
    ("cmd", "params", "code"),
    [
        ("subscribe", {"channels": ["orderbook_v3"], "market_ticker": TICKER}, 8),
        ("subscribe", {"channels": ["communications"]}, 8),
        ("subscribe", {"channels": ["orderbook_delta"]}, 14),
        ("subscribe", {"channels": ["orderbook_delta"], "market_ticker": "KXNOPE-1"}, 16),
        ("subscribe", {"channels": ["trade"], "market_tickers": [TICKER, "KXNOPE-1"]}, 16),
        ("subscribe", {"market_ticker": TICKER}, 3),
        ("subscribe", None, 2),
        ("unsubscribe", {"sids": [99]}, 7),
        ("unsubscribe", {"channels": ["trade"]}, 4),
        ("update_subscription", {"sids": [1, 2], "action": "add_markets"}, 12),
        ("update_subscription", {"sids": [1], "market_tickers": [TICKERS[1]]}, 15),
        ("update_subscription", {"sids": [1], "action": "rename"}, 13),
        ("update_subscription", {"sids": [1], "action": "add_markets"}, 14),
        ("update_subscription", {"sids": [1], "action": "add_markets", "market_ticker": "X"}, 16),
        ("update_subscription", {"sid": 5, "action": "add_markets"}, 7),
        ("subscribe_everything", {"channels": ["trade"]}, 5),
    ],
)
async def test_bad_commands_get_kalshis_error_codes(
    stream: KalshiStream, cmd: str, params: dict[str, object] | None, code: int
) -> None:
    await stream.subscribe("orderbook_delta", [TICKER])
    with pytest.raises(StreamError) as refused:
        await stream.command(cmd, params)
    assert refused.value.number == code
    # The connection stays usable and nothing was subscribed by the failed command.
    assert [s.sid for s in await stream.list_subscriptions()] == [1]


async def test_garbage_is_error_1_and_the_reply_shape_is_kalshis(
    exchange: LocalExchange, signer: Signer
) -> None:
    url = stream_url(exchange.base_url)
    headers = signer.headers("GET", "/trade-api/ws/v2")
    async with websockets.connect(url, additional_headers=headers, proxy=None) as ws:
        await ws.send("{not json")
        reply = json.loads(await ws.recv())
        assert reply == {
            "id": 0,
            "type": "error",
            "msg": {"code": 1, "msg": "the command is not valid JSON"},
        }
        await ws.send(json.dumps({"id": 7, "cmd": "list_subscriptions"}))
        assert json.loads(await ws.recv()) == {"id": 7, "type": "ok", "msg": []}


async def test_a_client_that_disconnects_is_forgotten(
    feed: StreamFeed, make_stream: MakeStream
) -> None:
    async with make_stream() as first, make_stream() as second:
        await first.subscribe("trade")
        await second.subscribe("fill")
        assert len(feed.connections) == 2
    await asyncio.wait_for(feed.idle.wait(), 5)
    assert feed.connections == []
    feed.tick()  # nothing left to send to, and nothing fails
