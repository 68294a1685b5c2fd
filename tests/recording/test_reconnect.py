"""A dropped connection while recording: a gap record, then a fresh snapshot of every market
after the recorder reconnects and resubscribes, never deltas papered over the gap."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from kalshi_core.client import KalshiClient, Signer
from kalshi_core.client.stream import KalshiStream, StreamError, stream_url
from kalshi_core.clock import ManualClock
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.gateway import OrderRequest
from kalshi_core.models import BookSide
from kalshi_core.money import CENT, CONTRACT
from kalshi_core.recording.format import RecordingWriter
from kalshi_core.recording.recorder import Backoff, Recorder

from .conftest import TICKERS, Gates, MakeRecorder, recorded_books, step


def _records(folder: Path) -> list[dict[str, object]]:
    return [
        json.loads(line)
        for path in sorted(folder.glob("l2-*.jsonl"))
        for line in path.read_text().splitlines()
    ]


async def test_a_dropped_connection_is_a_gap_then_a_resync_snapshot(
    source: LocalExchange,
    client: KalshiClient,
    make_recorder: MakeRecorder,
    gates: Gates,
    tmp_path: Path,
) -> None:
    source.advance_clock(3 * 3600)  # all four markets are open and quoted
    out = tmp_path / "rec"
    recorder = make_recorder(out)
    await recorder.wait_connections(1)
    await step(source, recorder, 60)
    before = len(_records(out))

    gates.close()  # the next connection waits until the test opens the gate
    (connection,) = source.app.feed.connections
    await connection.websocket.close(code=1011)
    await gates.entered.wait()  # the recorder saw the drop and is reconnecting
    # While it is away the book moves: an order rests and recorded time passes.
    bid = OrderRequest(
        ticker=TICKERS[0],
        book_side=BookSide.BID,
        price=3 * CENT,
        count=7 * CONTRACT,
        client_order_id="while-away",
    )
    await client.create_order(bid)
    source.advance_clock(600)
    source.app.feed.tick()  # nobody is connected: these changes reach no one
    gates.open()
    await recorder.wait_connections(2)
    await step(source, recorder, 1)

    after = _records(out)[before:]
    gap = after[0]
    assert gap["type"] == "gap"
    assert sorted(gap["tickers"]) == sorted(TICKERS)  # type: ignore[arg-type]
    assert "closed" in str(gap["reason"]) or "Stream" in str(gap["reason"])
    book_records = [r for r in after if r["type"] in ("snapshot", "delta")]
    first_by_market = {}
    for record in book_records:
        first_by_market.setdefault(record["ticker"], record["type"])
    assert first_by_market == dict.fromkeys(TICKERS, "snapshot")
    assert recorder.stats.connections == 2
    assert sum(recorder.stats.gaps.values()) == len(TICKERS)
    books = recorded_books(out)
    for ticker in TICKERS:
        assert books[ticker] == await client.get_orderbook(ticker)
    assert any(level.price == 3 * CENT for level in books[TICKERS[0]].yes)


async def test_the_recorder_gives_up_after_its_reconnect_attempts(
    signer: Signer, tmp_path: Path
) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/trade-api/v2"
    async with KalshiClient(url, signer=signer) as dead:
        recorder = Recorder(
            client=dead,
            connect=lambda: KalshiStream(stream_url(url), signer),
            tickers=TICKERS,
            writer=RecordingWriter(tmp_path / "rec"),
            clock=ManualClock(),
            backoff=Backoff(base=0.0, cap=0.0, attempts=2),
        )
        with pytest.raises(StreamError, match="gave up reconnecting after 2 tries: StreamError"):
            await recorder.run()
    assert recorder.stats.connections == 0
    assert sum(recorder.stats.gaps.values()) == 0  # nothing was recorded, so nothing lost
