"""Fixtures: a real local exchange replaying ``kxinxu`` on a stepped clock, whose WebSocket feed
ticks only when a test says so, and a recorder connected to it over a real WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from kalshi_core.client import KalshiClient, RateLimiter, Signer
from kalshi_core.client.stream import KalshiStream, stream_url
from kalshi_core.clock import ManualClock
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.models import OrderBook
from kalshi_core.recording.format import BookTracker, RecordingWriter, read_recording
from kalshi_core.recording.recorder import Backoff, Recorder

WINDOW_END = datetime(2026, 1, 2, 6, 0, tzinfo=UTC)
TICKERS = (
    "KXINXU-26JAN02H1600-T6924.9999",
    "KXINXU-26JAN02H1600-T6899.9999",
    "KXINXU-26JAN02H1600-T6849.9999",
    "KXINXU-26JAN02H1600-T6824.9999",
)


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("recording-keys")


@pytest.fixture
async def source(key_dir: Path) -> AsyncIterator[LocalExchange]:
    """The exchange being recorded: kxinxu's first hours, the synthetic book quoting it."""
    async with LocalExchange.running(
        data_sets=["kxinxu"], stepped=True, key_dir=key_dir, window=(None, WINDOW_END), seed=7
    ) as ex:
        ex.app.feed.tick_seconds = None  # the tests tick the feed themselves
        yield ex


@pytest.fixture
def signer(source: LocalExchange) -> Signer:
    assert source.private_key_path is not None
    return Signer.from_file(source.api_key_id, source.private_key_path)


@pytest.fixture
async def client(source: LocalExchange, signer: Signer) -> AsyncIterator[KalshiClient]:
    async with KalshiClient(
        source.base_url,
        signer=signer,
        timeout=httpx.Timeout(5.0),
        rate_limiter=RateLimiter.for_rates(10_000, 10_000),
    ) as made:
        yield made


class GatedStream(KalshiStream):
    """A real stream whose connection waits for ``gate`` once ``entered`` is set."""

    def __init__(self, *args: Any, gate: asyncio.Event, entered: asyncio.Event, **kw: Any):
        super().__init__(*args, **kw)
        self.gate, self.entered = gate, entered

    async def connect(self) -> None:
        self.entered.set()
        await self.gate.wait()
        await super().connect()


class Gates:
    """Open by default; ``close()`` makes the next connection wait for ``open()``."""

    def __init__(self) -> None:
        self.gate, self.entered = asyncio.Event(), asyncio.Event()
        self.gate.set()

    def close(self) -> None:
        self.gate.clear()
        self.entered.clear()

    def open(self) -> None:
        self.gate.set()


@pytest.fixture
def gates() -> Gates:
    return Gates()


MakeRecorder = Callable[..., Recorder]


@pytest.fixture
async def make_recorder(
    source: LocalExchange, signer: Signer, client: KalshiClient, gates: Gates, tmp_path: Path
) -> AsyncIterator[MakeRecorder]:
    tasks: list[asyncio.Task[Any]] = []

    def build(out: Path | None = None, **options: Any) -> Recorder:
        def connect() -> KalshiStream:
            return GatedStream(
                stream_url(source.base_url),
                signer,
                gate=gates.gate,
                entered=gates.entered,
                reply_timeout=5.0,
            )

        options.setdefault("tickers", TICKERS)
        recorder = Recorder(
            client=client,
            connect=connect,
            writer=RecordingWriter(out or tmp_path / "rec"),
            clock=ManualClock(datetime(2026, 1, 1, tzinfo=UTC)),
            backoff=Backoff(base=0.0, cap=0.0),
            **options,
        )
        tasks.append(asyncio.create_task(recorder.run()))
        return recorder

    yield build
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def recorded_books(folder: Path) -> dict[str, OrderBook]:
    """Each market's book as the recording says it stands after its last record."""
    tracker = BookTracker()
    books: dict[str, OrderBook] = {}
    for line in read_recording(folder):
        book = tracker.apply(line)
        if book is not None:
            books[line.ticker] = book
    return books


async def step(source: LocalExchange, recorder: Recorder, seconds: float) -> None:
    """Move recorded time on, send what changed, and wait until the recorder has written it."""
    source.advance_clock(seconds)
    source.app.feed.tick()
    await recorder.settle()
