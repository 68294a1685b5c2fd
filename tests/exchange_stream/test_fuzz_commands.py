"""Fuzzing the WebSocket feed's commands over a real connection.

Hypothesis sends commands that mix valid shapes (known commands, channels, tickers, sids)
with hostile ones (wrong JSON types, unknown names, huge or negative numbers, garbage text).
Every command must be answered in Kalshi's reply shapes, never with error 17 (internal
error), and the connection must stay usable: ``list_subscriptions`` after each command is
the barrier that proves it.
"""

from __future__ import annotations

import json
from typing import Any

import hypothesis.strategies as st
import websockets
from hypothesis import HealthCheck, given, settings

from kalshi_core.client import Signer
from kalshi_core.client.stream import stream_url
from kalshi_core.exchange.local import LocalExchange

from .conftest import TICKER, TICKERS

BARRIER = 424242
CHANNELS = [
    "orderbook_delta",
    "ticker",
    "trade",
    "fill",
    "user_orders",
    "market_positions",
    "market_lifecycle_v2",
    "nope",
]
WORDS = st.sampled_from(["", "subscribe", "x", "\u00b2", "1e999", TICKER, "add_markets", "-1"])
ANY = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | WORDS | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(WORDS, inner, max_size=3),
    max_leaves=6,
)
PARAMS = st.fixed_dictionaries(
    {},
    optional={
        "channels": st.lists(st.sampled_from(CHANNELS), max_size=3) | ANY,
        "market_ticker": st.sampled_from([*TICKERS, "NOPE-1"]) | ANY,
        "market_tickers": st.lists(st.sampled_from([*TICKERS, "NOPE-1"]), max_size=3) | ANY,
        "sids": st.lists(st.integers(-2, 6), max_size=3) | ANY,
        "sid": st.integers(-2, 6) | ANY,
        "action": st.sampled_from(["add_markets", "delete_markets", "get_snapshot"]) | ANY,
        "send_initial_snapshot": st.booleans() | ANY,
    },
)
COMMANDS = st.fixed_dictionaries(
    {
        "id": st.integers(0, 10_000) | ANY,
        "cmd": st.sampled_from(
            ["subscribe", "unsubscribe", "list_subscriptions", "update_subscription"]
        )
        | ANY,
    },
    optional={"params": PARAMS | ANY},
)
FRAMES = st.one_of(
    COMMANDS.map(json.dumps),
    COMMANDS.map(json.dumps),
    ANY.map(json.dumps),
    st.text(max_size=40),
)


def assert_reply_shape(message: dict[str, Any]) -> None:
    assert message["type"] in {
        "subscribed",
        "unsubscribed",
        "ok",
        "error",
        "orderbook_snapshot",
        "ticker",
    }, message
    if message["type"] == "error":
        assert set(message["msg"]) == {"code", "msg"}
        assert message["msg"]["code"] != 17, message  # 17: internal error


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    database=None,
)
@given(frames=st.lists(FRAMES, min_size=1, max_size=6))
async def test_no_command_breaks_the_feed(
    exchange: LocalExchange, signer: Signer, frames: list[str]
) -> None:
    url = stream_url(exchange.base_url)
    headers = signer.headers("GET", "/trade-api/ws/v2")
    async with websockets.connect(url, additional_headers=headers, proxy=None) as ws:
        for frame in frames:
            await ws.send(frame)
            await ws.send(json.dumps({"id": BARRIER, "cmd": "list_subscriptions"}))
            while True:
                message = json.loads(await ws.recv())
                if message.get("id") == BARRIER:
                    assert message["type"] == "ok"
                    break
                assert_reply_shape(message)
