"""Fixtures: a local exchange whose WebSocket feed ticks only when a test says so.

The venue runs on a :class:`ManualClock`; ``mm`` and ``taker`` trade directly on the venue and
the dev account (the one the stream authenticates as) does too, so fills reach the stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from kalshi_core.client import KalshiClient, RateLimiter, Signer
from kalshi_core.client.stream import KalshiStream, stream_url
from kalshi_core.clock import ManualClock
from kalshi_core.exchange import Venue, VenueOrder
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.exchange.websocket import StreamFeed
from kalshi_core.models import BookSide, Market, MarketStatus, TimeInForce
from kalshi_core.money import CONTRACT, DOLLAR

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MM = "mm"
TAKER = "taker"
TICKERS = ("KXTEST-26MAR01-T50", "KXTEST-26MAR01-T60", "KXTEST-26MAR01-T70")
TICKER = TICKERS[0]


def make_market(ticker: str) -> Market:
    return Market(
        ticker=ticker,
        event_ticker=ticker.rsplit("-", 1)[0],
        status=MarketStatus.ACTIVE,
        title=f"Market {ticker}",
        open_time=START - timedelta(days=1),
        close_time=START + timedelta(days=30),
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def venue(clock: ManualClock) -> Venue:
    v = Venue(clock)
    for ticker in TICKERS:
        v.list_market(make_market(ticker))
    v.deposit(MM, 100_000 * DOLLAR)
    v.deposit(TAKER, 100_000 * DOLLAR)
    return v


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stream-keys")


@pytest.fixture
async def exchange(venue: Venue, key_dir: Path) -> AsyncIterator[LocalExchange]:
    async with LocalExchange.running(
        venue=venue, key_dir=key_dir, starting_balance=1_000 * DOLLAR
    ) as ex:
        ex.app.feed.tick_seconds = None  # the tests tick the feed themselves
        yield ex


@pytest.fixture
def feed(exchange: LocalExchange) -> StreamFeed:
    return exchange.app.feed


@pytest.fixture
def signer(exchange: LocalExchange) -> Signer:
    assert exchange.private_key_path is not None
    return Signer.from_file(exchange.api_key_id, exchange.private_key_path)


@pytest.fixture
async def client(exchange: LocalExchange, signer: Signer) -> AsyncIterator[KalshiClient]:
    async with KalshiClient(
        exchange.base_url,
        signer=signer,
        timeout=httpx.Timeout(5.0),
        rate_limiter=RateLimiter.for_rates(10_000, 10_000),
    ) as made:
        yield made


MakeStream = Callable[..., KalshiStream]


@pytest.fixture
async def make_stream(exchange: LocalExchange, signer: Signer) -> AsyncIterator[MakeStream]:
    made: list[KalshiStream] = []

    def build(**options: Any) -> KalshiStream:
        options.setdefault("reply_timeout", 5.0)
        stream = KalshiStream(stream_url(exchange.base_url), signer, **options)
        made.append(stream)
        return stream

    yield build
    for stream in made:
        await stream.close()


@pytest.fixture
async def stream(make_stream: MakeStream) -> AsyncIterator[KalshiStream]:
    async with make_stream() as opened:
        yield opened


def order(
    side: BookSide,
    price: int,
    contracts: int = 1,
    ticker: str = TICKER,
    *,
    account: str = MM,
    tif: TimeInForce = TimeInForce.GOOD_TILL_CANCELED,
) -> VenueOrder:
    return VenueOrder(
        account=account,
        ticker=ticker,
        side=side,
        price=price,
        count=contracts * CONTRACT,
        time_in_force=tif,
    )
