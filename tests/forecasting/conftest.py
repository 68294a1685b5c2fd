"""Fixtures: the OpenAI-compatible test server on a free 127.0.0.1 port, a market, a context."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import attrs
import pytest
import uvicorn

from kalshi_core.models import Market, MarketStatus
from kalshi_core.protocols import PipelineContext, Portfolio

from .openai_server import FakeOpenAI

NOW = datetime(2026, 2, 2, 15, 30, tzinfo=UTC)


class _Server(uvicorn.Server):
    """uvicorn that announces the end of its start-up on an event (no polling)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


@attrs.frozen
class RunningOpenAI:
    fake: FakeOpenAI
    base_url: str


@pytest.fixture
async def openai_server() -> AsyncIterator[RunningOpenAI]:
    fake = FakeOpenAI()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(fake, lifespan="off", log_level="critical", access_log=False)
    server = _Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    ready = asyncio.create_task(server.ready.wait())
    await asyncio.wait({serving, ready}, return_when=asyncio.FIRST_COMPLETED)
    assert server.ready.is_set(), "test OpenAI server failed to start"
    try:
        yield RunningOpenAI(fake, f"http://127.0.0.1:{port}/v1")
    finally:
        fake.release.set()
        server.should_exit = True
        await serving
        sock.close()


@pytest.fixture
def market() -> Market:
    """A KXINXU-style market a day before its close, with a two-sided quote."""
    return Market(
        ticker="KXINXU-26FEB03H1600-T6924.9999",
        event_ticker="KXINXU-26FEB03H1600",
        status=MarketStatus.ACTIVE,
        open_time=datetime(2026, 2, 2, 14, 30, tzinfo=UTC),
        close_time=datetime(2026, 2, 3, 21, 0, tzinfo=UTC),
        title="Will the S&P 500 close above 6,925 at 4pm ET on 2026-02-03?",
        rules_primary=(
            "If the S&P 500 closes above 6,925 at 4pm ET on Feb 3, 2026, the market resolves "
            "to Yes."
        ),
        rules_secondary="The close is the official index value published by S&P Dow Jones.",
        yes_bid=5800,
        yes_ask=6100,
        last_price=5900,
        volume=1_234_500,
        open_interest=45_600,
    )


@pytest.fixture
def context() -> PipelineContext:
    return PipelineContext(now=NOW, portfolio=Portfolio(cash=1_000_000))
