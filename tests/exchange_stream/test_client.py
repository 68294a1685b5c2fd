"""The stream client against a scripted feed on loopback: gap detection, parsing, LocalBook."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from websockets.asyncio.server import ServerConnection, serve

from kalshi_core.client import Signer
from kalshi_core.client.stream import (
    KalshiStream,
    LocalBook,
    OrderbookDelta,
    OrderbookSnapshot,
    SequenceGap,
    StreamError,
    TradeUpdate,
)
from kalshi_core.errors import WireFormatError
from kalshi_core.models import BookSide, PriceLevel, Side
from kalshi_core.money import CENT, CONTRACT

TICKER = "KXTEST-26MAR01-T50"


def snapshot(seq: int) -> dict[str, object]:
    msg = {"market_ticker": TICKER, "market_id": "m", "yes_dollars_fp": [["0.4000", "3.00"]]}
    return {"type": "orderbook_snapshot", "sid": 1, "seq": seq, "msg": msg}


def delta(seq: int, price: str, count: str, side: str = "yes") -> dict[str, object]:
    msg = {"market_ticker": TICKER, "price_dollars": price, "delta_fp": count, "side": side}
    return {"type": "orderbook_delta", "sid": 1, "seq": seq, "msg": msg}


SCRIPT = [snapshot(1), delta(2, "0.4100", "2.00"), delta(4, "0.4000", "-3.00")]


async def scripted(ws: ServerConnection) -> None:
    """Answers a subscribe, then sends SCRIPT (which skips seq 3) and a malformed trade."""
    command = json.loads(await ws.recv())
    reply = {"channel": "orderbook_delta", "sid": 1}
    await ws.send(json.dumps({"id": command["id"], "type": "subscribed", "msg": reply}))
    for message in SCRIPT:
        await ws.send(json.dumps(message))
    bad = {"trade_id": "t", "market_ticker": TICKER, "yes_price_dollars": 0.5}
    await ws.send(json.dumps({"type": "trade", "sid": 2, "msg": bad}))
    await ws.wait_closed()


@pytest.fixture
async def feed_url() -> AsyncIterator[str]:
    async with serve(scripted, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}/trade-api/ws/v2"


@pytest.fixture
def signer() -> Signer:
    return Signer("key-id", ed25519.Ed25519PrivateKey.generate())


async def test_a_skipped_seq_raises_sequence_gap(feed_url: str, signer: Signer) -> None:
    async with KalshiStream(feed_url, signer) as stream:
        assert await stream.subscribe("orderbook_delta", [TICKER]) == 1
        book = LocalBook(TICKER)
        first = await stream.receive()
        assert first == OrderbookSnapshot(
            sid=1, seq=1, market_ticker=TICKER, yes=(PriceLevel(40 * CENT, 3 * CONTRACT),)
        )
        book.apply(first)
        book.apply(await stream.receive())
        assert book.orderbook().yes == (
            PriceLevel(40 * CENT, 3 * CONTRACT),
            PriceLevel(41 * CENT, 2 * CONTRACT),
        )
        with pytest.raises(SequenceGap) as gap:
            await stream.receive()
        assert (gap.value.sid, gap.value.expected, gap.value.received) == (1, 3, 4)
        assert isinstance(gap.value.update, OrderbookDelta)
        with pytest.raises(WireFormatError, match="yes_price_dollars"):
            await stream.receive()


def test_local_book_refuses_deltas_it_cannot_apply() -> None:
    book = LocalBook(TICKER)
    early = OrderbookDelta(sid=1, seq=2, market_ticker=TICKER, side=Side.NO, price=1, delta=1)
    with pytest.raises(StreamError, match="before the snapshot"):
        book.apply(early)
    assert book.apply(OrderbookSnapshot(sid=1, seq=1, market_ticker=TICKER))
    with pytest.raises(StreamError, match="negative"):
        book.apply(
            OrderbookDelta(sid=1, seq=2, market_ticker=TICKER, side=Side.NO, price=1, delta=-1)
        )
    other = OrderbookSnapshot(sid=1, seq=3, market_ticker="KXOTHER-1")
    trade = TradeUpdate(
        sid=2,
        seq=1,
        trade_id="t",
        market_ticker=TICKER,
        yes_price=1,
        no_price=9_999,
        count=1,
        taker_outcome_side=Side.YES,
        taker_book_side=BookSide.BID,
    )
    assert not book.apply(other)
    assert not book.apply(trade)
    assert book.orderbook().yes == book.orderbook().no == ()
