"""A dropped connection while recording: a gap record, then a fresh snapshot of every market
after the recorder reconnects and resubscribes, never deltas papered over the gap."""

from __future__ import annotations

import json
from pathlib import Path

from kalshi_core.client import KalshiClient
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.gateway import OrderRequest
from kalshi_core.models import BookSide
from kalshi_core.money import CENT, CONTRACT

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
