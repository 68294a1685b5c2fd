"""Fixtures: a local exchange over real loopback HTTP, its dev key, and real clients for it.

The venue runs on a :class:`ManualClock` with a handful of listed markets; a second account,
``mm``, trades against the dev account directly on the venue (no HTTP), so every test can
check what the client saw against what the venue holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from kalshi_core.client import KalshiClient, RateLimiter, RetryPolicy, Signer
from kalshi_core.clock import ManualClock
from kalshi_core.exchange import OrderRequest, Venue
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.models import BookSide, Market, MarketStatus, TimeInForce
from kalshi_core.money import CONTRACT, DOLLAR

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MM = "mm"
TAKER = "taker"
EVENTS = ("KXTEST-26MAR01", "KXTEST-26MAR02", "KXOTHER-26MAR01")
TICKER = "KXTEST-26MAR01-T50"


def make_market(ticker: str, status: MarketStatus = MarketStatus.ACTIVE) -> Market:
    return Market(
        ticker=ticker,
        event_ticker=ticker.rsplit("-", 1)[0],
        status=status,
        title=f"Market {ticker}",
        open_time=START - timedelta(days=1),
        close_time=START + timedelta(days=30),
    )


def tickers() -> list[str]:
    """Four markets per event: 12 in all; the last of each event is not yet open."""
    return [f"{event}-T{strike}" for event in EVENTS for strike in (50, 60, 70, 80)]


class SleepRecorder:
    """The client's sleep: records each backoff and only yields, so retries never wait."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def venue(clock: ManualClock) -> Venue:
    v = Venue(clock)
    for ticker in tickers():
        status = MarketStatus.INITIALIZED if ticker.endswith("T80") else MarketStatus.ACTIVE
        v.list_market(make_market(ticker, status))
    v.deposit(MM, 100_000 * DOLLAR)
    v.deposit(TAKER, 100_000 * DOLLAR)
    return v


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("exchange-keys")


@pytest.fixture
async def exchange(venue: Venue, key_dir: Path) -> AsyncIterator[LocalExchange]:
    async with LocalExchange.running(
        venue=venue, key_dir=key_dir, starting_balance=1_000 * DOLLAR
    ) as ex:
        yield ex


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


MakeClient = Callable[..., KalshiClient]


@pytest.fixture
async def make_client(exchange: LocalExchange, sleeps: SleepRecorder) -> AsyncIterator[MakeClient]:
    made: list[KalshiClient] = []

    def build(**overrides: Any) -> KalshiClient:
        assert exchange.private_key_path is not None
        options: dict[str, Any] = {
            "signer": Signer.from_file(exchange.api_key_id, exchange.private_key_path),
            "timeout": httpx.Timeout(5.0),
            "rate_limiter": RateLimiter.for_rates(10_000, 10_000),
            "retry": RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05),
            "sleep": sleeps,
        }
        options.update(overrides)
        client = KalshiClient(exchange.base_url, **options)
        made.append(client)
        return client

    yield build
    for client in made:
        await client.aclose()


@pytest.fixture
def client(make_client: MakeClient) -> KalshiClient:
    return make_client()


def mm_order(
    side: BookSide,
    price: int,
    contracts: int = 1,
    ticker: str = TICKER,
    tif: TimeInForce = TimeInForce.GOOD_TILL_CANCELED,
    account: str = MM,
) -> OrderRequest:
    return OrderRequest(
        account=account,
        ticker=ticker,
        side=side,
        price=price,
        count=contracts * CONTRACT,
        time_in_force=tif,
    )


def cross(venue: Venue, price: int, contracts: int = 1, ticker: str = TICKER) -> None:
    """One print at ``price``: ``mm`` rests an ask, ``taker`` lifts it."""
    venue.place_order(mm_order(BookSide.ASK, price, contracts, ticker))
    ioc = TimeInForce.IMMEDIATE_OR_CANCEL
    venue.place_order(mm_order(BookSide.BID, price, contracts, ticker, ioc, account=TAKER))


class RawHttp:
    """Raw requests to the exchange over loopback, signed by the dev key unless told not to:
    for inputs no well-behaved client would send."""

    def __init__(self, exchange: LocalExchange, http: httpx.AsyncClient) -> None:
        assert exchange.private_key_path is not None
        self.exchange = exchange
        self.http = http
        self.signer = Signer.from_file(exchange.api_key_id, exchange.private_key_path)

    async def send(
        self, method: str, path: str, *, signed: bool = True, **options: Any
    ) -> httpx.Response:
        url = self.exchange.base_url + path
        full_path = httpx.URL(url).path
        headers = dict(options.pop("headers", {}))
        if signed:
            headers = {**self.signer.headers(method, full_path), **headers}
        return await self.http.request(method, url, headers=headers, **options)


@pytest.fixture
async def raw(exchange: LocalExchange) -> AsyncIterator[RawHttp]:
    # The timeout turns a stalled server into a failure instead of a hung suite.
    async with httpx.AsyncClient(timeout=httpx.Timeout(30.0)) as http:
        yield RawHttp(exchange, http)


def assert_kalshi_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    """``response`` is ``status`` with Kalshi's error body (and ``code``, if given)."""
    assert response.status_code == status, (response.status_code, response.text)
    error = response.json()["error"]
    assert set(error) == {"code", "message", "service"}
    assert error["service"] == "exchange"
    assert isinstance(error["message"], str)
    assert error["message"]
    if code is not None:
        assert error["code"] == code, error
