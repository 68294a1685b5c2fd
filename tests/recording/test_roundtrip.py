"""Record the local exchange replaying kxinxu while orders are placed, then replay the
recording and check the book at every sequence number equals the recorded one."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
from pathlib import Path

from kalshi_core.client import KalshiClient, Signer
from kalshi_core.client.stream import KalshiStream, stream_url
from kalshi_core.clock import ManualClock
from kalshi_core.exchange.fill_models.recorded import L2Replay, ProbQueue, TradeThrough, builder
from kalshi_core.exchange.liquidity import LiquidityProvider
from kalshi_core.exchange.loaders.base import installed_loaders
from kalshi_core.exchange.loaders.recorded_l2 import RecordedL2Loader
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.exchange.replay import EventKind, Replay, load_history
from kalshi_core.exchange.venue import Venue
from kalshi_core.gateway import OrderRequest
from kalshi_core.models import BookSide, TimeInForce
from kalshi_core.money import CENT, CONTRACT, DOLLAR
from kalshi_core.recording.format import BookQuote, RecordingWriter, day_of, recording_files
from kalshi_core.recording.recorder import Recorder

from .conftest import TICKERS, MakeRecorder, recorded_books, step

STEPS = 24  # ten recorded minutes each


async def _record(
    source: LocalExchange,
    client: KalshiClient,
    make_recorder: MakeRecorder,
    out: Path,
    tickers: tuple[str, ...] = TICKERS,
) -> int:
    """Record while the dev account places orders; after each step the recorded books equal
    the exchange's REST books. Returns how many orders were placed."""
    recorder = make_recorder(out, tickers=tickers)
    await recorder.wait_connections(1)
    await recorder.settle()
    placed = 0
    for index in range(STEPS):
        await step(source, recorder, 600)
        markets = {m.ticker: m for m in [await client.get_market(t) for t in tickers]}
        active = [t for t in tickers if markets[t].status.value == "active"]
        if active and index % 2 == 0:
            ticker = active[index % len(active)]
            await client.create_order(_bid(ticker, 1 + index % 5, index // 2))
            placed += 1
            await step(source, recorder, 1)
        books = recorded_books(out)
        for ticker in tickers:
            assert books[ticker] == await client.get_orderbook(ticker), (index, ticker)
    return placed


def _bid(ticker: str, cents: int, index: int) -> OrderRequest:
    """A resting bid at a few cents, or (every other time) one that takes the ask."""
    taking = index % 2 == 1
    return OrderRequest(
        ticker=ticker,
        book_side=BookSide.BID,
        count=2 * CONTRACT,
        price=99 * CENT if taking else cents * CENT,
        client_order_id=f"roundtrip-{index}",
        time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL if taking else TimeInForce.GOOD_TILL_CANCELED,
    )


async def test_record_then_replay_reproduces_every_book(
    source: LocalExchange,
    client: KalshiClient,
    make_recorder: MakeRecorder,
    tmp_path: Path,
    key_dir: Path,
) -> None:
    out = tmp_path / "recorded"
    source.advance_clock(2 * 3600)  # 01:49 on Jan 2: all four markets are listed
    placed = await _record(source, client, make_recorder, out / "kxinxu_l2")
    assert placed >= 3
    history = load_history(out, ["kxinxu_l2"], loaders=installed_loaders())
    quotes = [e.quote for e in history.events if e.kind is EventKind.QUOTE]
    assert all(isinstance(q, BookQuote) for q in quotes)
    assert any(e.kind is EventKind.TRADE for e in history.events)  # the orders that took
    assert len(quotes) > 50
    assert any(q.yes and q.no for q in quotes if isinstance(q, BookQuote))
    # The replay, event by event, shows the recorded book after every book record.
    venue = Venue(ManualClock(history.start_time))
    replay = Replay(venue, history, fill_model=functools.partial(builder(L2Replay), {}))
    checked = 0
    last: dict[str, BookQuote] = {}
    for moment in sorted({q.ts for q in quotes}):
        replay.advance(moment)
        last.update({q.ticker: q for q in quotes if q.ts == moment})
        checked += _check_books_at(venue, last)
    assert checked == len({q.ts for q in quotes})
    _check_every_sequence_number(out / "kxinxu_l2")
    await _check_served_replay(out, [q for q in quotes if isinstance(q, BookQuote)], key_dir)


def _check_every_sequence_number(folder: Path) -> None:
    """Each fill model, fed the recorded books one by one, shows each exactly."""
    recorded = RecordedL2Loader().load(folder)
    for model_class in (L2Replay, TradeThrough, ProbQueue, LiquidityProvider):
        venue = Venue(ManualClock(recorded.quotes[0].ts))
        model = model_class(venue, account="provider", tape_account="tape")
        venue.deposit("provider", 10_000_000 * DOLLAR)
        for market in recorded.markets:
            venue.list_market(market)
            venue.open_market(market.ticker)
            model.register(market)
        for quote in recorded.quotes:
            assert isinstance(quote, BookQuote)
            model.on_quote(quote)
            assert venue.orderbook(quote.ticker) == quote.orderbook(), (model.name, quote.step)
        assert [q.step for q in recorded.quotes] == list(range(1, len(recorded.quotes) + 1))
        assert model.stats.rejected_orders == 0


async def _check_served_replay(out: Path, quotes: list[BookQuote], key_dir: Path) -> None:
    """``exchange serve --data OUT --data-set kxinxu_l2`` (its default synthetic book): over
    HTTP, the book at the end of the recording is the last one recorded, for every market."""
    replayed = LocalExchange.create(
        data_dir=out, data_sets=["kxinxu_l2"], stepped=True, key_dir=key_dir, id_namespace="rt"
    )
    moments = sorted({q.ts for q in quotes})
    async with replayed.serving() as running:
        running.app.feed.tick_seconds = None
        running.advance_clock((moments[0] - running.clock.now()).total_seconds())
        assert running.private_key_path is not None
        signer = Signer.from_file(running.api_key_id, running.private_key_path)
        async with KalshiClient(running.base_url, signer=signer) as client:
            await _record_the_replay(running, client, signer, quotes, out / "again")
            for ticker in TICKERS:
                last = [q for q in quotes if q.ticker == ticker][-1]
                assert await client.get_orderbook(ticker) == last.orderbook()


async def _record_the_replay(
    running: LocalExchange,
    client: KalshiClient,
    signer: Signer,
    quotes: list[BookQuote],
    folder: Path,
) -> None:
    """Record the served replay of the recording at every recorded moment: the second
    recording's books equal the first's."""
    recorder = Recorder(
        client=client,
        connect=lambda: KalshiStream(stream_url(running.base_url), signer, reply_timeout=5.0),
        tickers=TICKERS,
        writer=RecordingWriter(folder),
        clock=ManualClock(),
    )
    task = asyncio.create_task(recorder.run())
    try:
        await recorder.wait_connections(1)
        for moment in sorted({q.ts for q in quotes}):
            seconds = (moment - running.clock.now()).total_seconds()
            if seconds > 0:
                running.advance_clock(seconds)
            running.app.feed.tick()
            await recorder.settle()
            again = recorded_books(folder)
            for ticker in TICKERS:
                first = [q for q in quotes if q.ticker == ticker and q.ts <= moment]
                if first:
                    assert again[ticker] == first[-1].orderbook(), (moment, ticker)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _check_books_at(venue: Venue, last: dict[str, BookQuote]) -> int:
    """Every market's book equals the last book recorded for it so far."""
    for ticker, quote in last.items():
        if venue.market(ticker).status.value == "active":
            assert venue.orderbook(ticker) == quote.orderbook(), (quote.step, ticker)
    return 1


async def test_files_rotate_by_the_exchange_day(
    source: LocalExchange, client: KalshiClient, make_recorder: MakeRecorder, tmp_path: Path
) -> None:
    out = tmp_path / "rotation"  # from 23:49 on Jan 1, when only the first market is listed
    await _record(source, client, make_recorder, out, TICKERS[:1])
    files = recording_files(out)
    assert [f.name for f in files] == ["l2-2026-01-01.jsonl", "l2-2026-01-02.jsonl"]
    for path in files:
        for line in path.read_text().splitlines():
            assert day_of(json.loads(line)["ts_ms"]).isoformat() in path.name
    assert json.loads((out / "set.json").read_text()) == {"loader": "recorded_l2"}
