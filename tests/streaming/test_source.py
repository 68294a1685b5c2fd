"""The streaming source's unhappy paths: a full queue resyncs (never silent loss), an
unanswered heartbeat reconnects, failed connects back off with seeded jitter."""

from __future__ import annotations

import asyncio
import json
import random
import socket
from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from prometheus_client import CollectorRegistry
from websockets.asyncio.server import ServerConnection, serve

from kalshi_core.client import KalshiClient, Signer
from kalshi_core.client.stream_feed import Backoff, StreamingSource
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.models import BookSide
from kalshi_core.money import CENT
from kalshi_core.monitoring.stream_collector import StreamCollector, engine_stream_stats
from tests.exchange_stream.conftest import TICKERS, order

from .conftest import WAIT, Sleeps, make_source


async def test_a_full_queue_drops_to_a_snapshot_resync(
    exchange: LocalExchange, signer: Signer, sleeps: Sleeps, client: KalshiClient
) -> None:
    ticker = TICKERS[0]
    async with make_source(exchange, signer, sleeps, queue_size=4) as source:
        assert await source.wait_live(WAIT)
        await source.watch([ticker])
        await source.catch_up()
        for cents in range(30, 45):  # 15 deltas in one tick, 4 fit in the queue
            exchange.venue.place_order(order(BookSide.BID, cents * CENT, 1, ticker))
        exchange.app.feed.tick()
        await asyncio.sleep(0)
        changes = await source.catch_up()
        # the 5th overflows; the 10 after it are covered by the snapshot asked for
        assert (source.stats.overflows, source.stats.superseded) == (1, 10)
        assert source.stats.resyncs == 1
        assert changes.moved == {ticker}
        assert source.book(ticker) == await client.get_orderbook(ticker)
        assert source.queue.maxsize == 4
        # ... and the counts are exported (kalshi-core run registers this on /metrics)
        registry = CollectorRegistry()
        registry.register(StreamCollector(engine_stream_stats(streaming_engine(source))))
        exported = {
            event: registry.get_sample_value("kalshi_stream_events_total", {"event": event})
            for event in ("overflows", "superseded", "resyncs", "gaps")
        }
        assert exported == {"overflows": 1, "superseded": 10, "resyncs": 1, "gaps": 0}


def streaming_engine(feed: object) -> SimpleNamespace:
    return SimpleNamespace(market_data=SimpleNamespace(feed=feed))


def test_a_polling_engine_exports_zero_stream_events() -> None:
    registry = CollectorRegistry()
    registry.register(StreamCollector(engine_stream_stats(SimpleNamespace(market_data=None))))
    assert registry.get_sample_value("kalshi_stream_events_total", {"event": "overflows"}) == 0


async def test_a_book_is_withheld_while_it_waits_for_its_resync(
    exchange: LocalExchange, signer: Signer, sleeps: Sleeps, client: KalshiClient
) -> None:
    ticker = TICKERS[0]
    async with make_source(exchange, signer, sleeps, queue_size=2) as source:
        assert await source.wait_live(WAIT)
        await source.watch([ticker])
        await source.catch_up()
        for cents in range(30, 36):
            exchange.venue.place_order(order(BookSide.BID, cents * CENT, 1, ticker))
        exchange.app.feed.tick()
        await source.flushed()
        assert ticker in source.stale
        assert source.book(ticker) is None  # a book that missed a delta is never shown
        await source.catch_up()
        assert source.book(ticker) == await client.get_orderbook(ticker)


def test_backoff_is_exponential_capped_and_seeded() -> None:
    backoff = Backoff(base=1.0, factor=2.0, cap=5.0)
    first = [backoff.delay(n, random.Random(7)) for n in range(6)]
    again = [backoff.delay(n, random.Random(7)) for n in range(6)]
    assert first == again
    rng = random.Random(3)
    for attempt, ceiling in enumerate([1.0, 2.0, 4.0, 5.0, 5.0, 5.0]):
        delays = [backoff.delay(attempt, rng) for _ in range(200)]
        assert min(delays) >= 0
        assert max(delays) <= ceiling
        assert max(delays) > ceiling / 2  # jitter spans the window, not a fixed wait


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_failed_connects_back_off_with_the_seeded_jitter(sleeps: Sleeps) -> None:
    signer = Signer("key-id", ed25519.Ed25519PrivateKey.generate())
    url = f"ws://127.0.0.1:{free_port()}/trade-api/ws/v2"  # nobody listens
    backoff = Backoff(base=0.5, factor=2.0, cap=3.0)
    async with StreamingSource(url, signer, sleep=sleeps, seed=11, backoff=backoff) as source:
        for _ in range(int(WAIT / 0.005)):
            if len(sleeps.delays) >= 5:
                break
            await asyncio.sleep(0.005)
        assert not source.live
        assert source.stats.failed_connects >= 5
        assert source.book(TICKERS[0]) is None
    rng = random.Random(11)
    assert sleeps.delays[:5] == [backoff.delay(n, rng) for n in range(5)]


@pytest.fixture
async def deaf_feed() -> AsyncIterator[tuple[str, list[int]]]:
    """A feed that answers the first commands, then stops answering (a half-dead server)."""
    connections: list[int] = []

    async def handler(ws: ServerConnection) -> None:
        connections.append(1)
        async for raw in ws:
            command = json.loads(raw)
            if command["cmd"] == "subscribe":
                sid = 100 + len(connections)
                reply = {"channel": command["params"]["channels"][0], "sid": sid}
                await ws.send(json.dumps({"id": command["id"], "type": "subscribed", "msg": reply}))

    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}/trade-api/ws/v2", connections


async def test_an_unanswered_heartbeat_reconnects(
    deaf_feed: tuple[str, list[int]], sleeps: Sleeps
) -> None:
    url, connections = deaf_feed
    signer = Signer("key-id", ed25519.Ed25519PrivateKey.generate())
    source = StreamingSource(url, signer, sleep=sleeps, heartbeat_seconds=0.01, reply_timeout=0.2)
    async with source:
        for _ in range(int(WAIT / 0.005)):
            if source.stats.heartbeat_failures >= 2 and len(connections) >= 3:
                break
            await asyncio.sleep(0.005)
    assert source.stats.heartbeat_failures >= 2
    assert len(connections) >= 3  # each missed heartbeat closed the connection; it came back


def book_message(kind: str, seq: int, msg: dict[str, object]) -> str:
    return json.dumps(
        {"type": kind, "sid": 1, "seq": seq, "msg": {"market_ticker": TICKERS[0], **msg}}
    )


@pytest.fixture
async def hostile_feed() -> AsyncIterator[tuple[str, list[str]]]:
    """One book subscription whose second message is malformed; a get_snapshot is answered
    with a snapshot of three contracts at $0.45."""
    commands: list[str] = []

    async def handler(ws: ServerConnection) -> None:
        seq = 0
        async for raw in ws:
            command = json.loads(raw)
            commands.append(command["cmd"] + "/" + str(command.get("params", {}).get("action", "")))
            if command["cmd"] == "subscribe":
                channel = command["params"]["channels"][0]
                sid = 1 if channel == "orderbook_delta" else 2 if channel == "trade" else 3
                reply = {"channel": channel, "sid": sid}
                await ws.send(json.dumps({"id": command["id"], "type": "subscribed", "msg": reply}))
                if sid == 1:
                    await ws.send(book_message("orderbook_snapshot", 1, {}))
                    bad = {"side": "yes", "price_dollars": 0.4, "delta_fp": "1.00"}  # not a string
                    await ws.send(book_message("orderbook_delta", 2, bad))
                    good = {"side": "yes", "price_dollars": "0.4100", "delta_fp": "1.00"}
                    await ws.send(book_message("orderbook_delta", 3, good))
                    seq = 3
            elif command["cmd"] == "update_subscription":
                reply = {"market_tickers": [TICKERS[0]]}
                await ws.send(json.dumps({"id": command["id"], "type": "ok", "msg": reply}))
                seq += 1
                levels = {"yes_dollars_fp": [["0.4500", "3.00"]]}
                await ws.send(book_message("orderbook_snapshot", seq, levels))
            else:
                await ws.send(json.dumps({"id": command["id"], "type": "ok", "msg": []}))

    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}/trade-api/ws/v2", commands


async def test_a_malformed_book_message_is_counted_and_its_book_resynced(
    hostile_feed: tuple[str, list[str]], sleeps: Sleeps
) -> None:
    url, commands = hostile_feed
    signer = Signer("key-id", ed25519.Ed25519PrivateKey.generate())
    async with StreamingSource(url, signer, sleep=sleeps, heartbeat_seconds=0) as source:
        await source.watch([TICKERS[0]])
        assert await source.wait_live(WAIT)
        await source.catch_up()
        # the malformed delta is dropped and counted; the next one shows the gap it left
        assert (source.stats.bad_messages, source.stats.gaps) == (1, 1)
        assert "update_subscription/get_snapshot" in commands
        book = source.book(TICKERS[0])
        assert book is not None
        assert [(level.price, level.count) for level in book.yes] == [(45 * CENT, 300)]
