"""A skipped sequence number: the recorder writes a gap for that market, drops the deltas until
the fresh snapshot it asks for at once, and records that snapshot. The feed is a scripted
WebSocket server on loopback (the local exchange never skips a number); REST is the real local
exchange."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from kalshi_core.client import KalshiClient, Signer
from kalshi_core.client.stream import KalshiStream
from kalshi_core.clock import ManualClock
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.recording.format import RecordingWriter
from kalshi_core.recording.recorder import Backoff, Recorder

from .conftest import TICKERS, recorded_books

TICKER = TICKERS[0]
BASE_MS = 1_767_318_000_000  # 2026-01-02 01:40 UTC


def _book(kind: str, seq: int, **msg: Any) -> dict[str, Any]:
    return {"type": kind, "sid": 1, "seq": seq, "msg": {"market_ticker": TICKER, **msg}}


def _delta(seq: int, price: str, count: str) -> dict[str, Any]:
    return _book(
        "orderbook_delta", seq, price_dollars=price, delta_fp=count, side="yes", ts_ms=BASE_MS + seq
    )


LIFECYCLE = {
    "type": "market_lifecycle_v2",
    "sid": 3,
    "seq": 1,
    "msg": {"market_ticker": TICKER, "event_type": "activated", "open_ts": 1_767_315_600},
}
FIRST = [
    LIFECYCLE,
    _book("orderbook_snapshot", 1, yes_dollars_fp=[["0.4000", "3.00"]]),
    _delta(2, "0.4100", "2.00"),
    _delta(4, "0.4200", "5.00"),  # seq 3 was lost
    _delta(5, "0.4300", "1.00"),  # still before the fresh snapshot: not recorded
]
RESYNC = [
    _book("orderbook_snapshot", 6, yes_dollars_fp=[["0.4000", "3.00"], ["0.4200", "5.00"]]),
    _delta(7, "0.4000", "-1.00"),
]


async def scripted(ws: ServerConnection) -> None:
    """Answers subscribe, update_subscription and list_subscriptions like the feed."""
    async for raw in ws:
        command = json.loads(raw)
        cmd, reply_id = command["cmd"], command["id"]
        channel = command.get("params", {}).get("channels", [""])[0]
        if cmd == "subscribe":
            sid = {"orderbook_delta": 1, "trade": 2}.get(channel, 3)
            reply = {"id": reply_id, "type": "subscribed", "msg": {"channel": channel, "sid": sid}}
            await ws.send(json.dumps(reply))
            for message in FIRST if channel == "market_lifecycle_v2" else []:
                await ws.send(json.dumps(message))
        elif cmd == "update_subscription":
            assert command["params"] == {
                "sids": [1],
                "action": "get_snapshot",
                "market_tickers": [TICKER],
            }
            reply = {"market_tickers": [TICKER]}
            await ws.send(json.dumps({"id": reply_id, "sid": 1, "type": "ok", "msg": reply}))
            for message in RESYNC:
                await ws.send(json.dumps(message))
        else:
            await ws.send(json.dumps({"id": reply_id, "type": "ok", "msg": []}))


def _day_file(folder: Path) -> Path:
    (path,) = folder.glob("l2-*.jsonl")
    return path


@pytest.fixture
async def feed_url() -> AsyncIterator[str]:
    async with serve(scripted, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}/trade-api/ws/v2"


async def test_a_skipped_sequence_number_is_a_gap_then_a_fresh_snapshot(
    source: LocalExchange, client: KalshiClient, signer: Signer, feed_url: str, tmp_path: Path
) -> None:
    source.advance_clock(2 * 3600)
    recorder = Recorder(
        client=client,
        connect=lambda: KalshiStream(feed_url, signer, reply_timeout=5.0),
        tickers=[TICKER],
        writer=RecordingWriter(tmp_path),
        clock=ManualClock(),
        backoff=Backoff(base=0.0, cap=0.0),
    )
    task = asyncio.create_task(recorder.run())
    try:
        await recorder.wait_connections(1)
        await recorder.settle()  # the script, the gap, the snapshot request and its answer
        await recorder.settle()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    records = [json.loads(line) for line in _day_file(tmp_path).read_text().splitlines()]
    kinds = [(r["type"], r.get("seq")) for r in records]
    assert kinds == [
        ("market", None),
        ("lifecycle", None),
        ("snapshot", 1),
        ("delta", 2),
        ("gap", None),
        ("snapshot", 6),
        ("delta", 7),
    ]
    assert records[1]["event"] == "activated"
    assert records[1]["msg"]["open_ts"] == 1_767_315_600
    assert "expected seq 3, received 4" in records[4]["reason"]
    assert records[4]["tickers"] == [TICKER]
    assert recorded_books(tmp_path)[TICKER].yes[0].count == 200  # 3.00 - 1.00 at $0.40
    assert recorder.stats.gaps[TICKER] == 1
