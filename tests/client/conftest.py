"""Fixtures: the real local exchange on a free 127.0.0.1 port, test keys, clients for it.

The exchange is :class:`~kalshi_core.exchange.local.LocalExchange` (faults injected with
``exchange.faults``); its ASGI app is wrapped in a :class:`Recorder` that counts what reached
the server (and can hold requests there), so a test can assert how many requests a retry or
a coalesced read really sent. Behaviour no honest exchange shows (a malformed reply, a server
dripping bytes) comes from the hostile servers in :mod:`.hostile`.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from kalshi_core.client import KalshiClient, RateLimiter, RetryPolicy, Signer
from kalshi_core.clock import ManualClock
from kalshi_core.exchange import Venue, VenueOrder
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.exchange.server import PREFIX
from kalshi_core.models import BookSide, Market, MarketStatus, PriceRange, TimeInForce
from kalshi_core.money import CONTRACT, DOLLAR

RSA_KEY_ID = "11111111-1111-4111-8111-111111111111"
ED25519_KEY_ID = "22222222-2222-4222-8222-222222222222"
START = datetime(2026, 1, 2, 15, tzinfo=UTC)
EVENT = "KXTEST-26"
TICKERS = [f"{EVENT}-M{i:02d}" for i in range(7)]
TICKER = TICKERS[0]
DEV = "dev"
MM = "mm"
TAKER = "taker"
BALANCE = 12_345 * DOLLAR
SUB_PENNY_GRID = (PriceRange(start=0, end=DOLLAR, step=1),)  # 0.0001 ticks: "0.4213" is valid

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@attrs.frozen
class KeyPair:
    key_id: str
    private_pem: bytes
    public_pem: bytes


def _public_pem(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.fixture(scope="session")
def rsa_key() -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    # Kalshi hands out RSA keys as PKCS#1 ("BEGIN RSA PRIVATE KEY").
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return KeyPair(RSA_KEY_ID, pem, _public_pem(key))


@pytest.fixture(scope="session")
def ed25519_key() -> KeyPair:
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return KeyPair(ED25519_KEY_ID, pem, _public_pem(key))


class Recorder:
    """ASGI wrapper in front of the exchange: what reached it, and a gate to hold it there."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.hits: Counter[tuple[str, str]] = Counter()
        self.statuses: Counter[int] = Counter()
        self.queries: list[tuple[str, str, list[tuple[str, str]]]] = []
        self.bodies: list[Any] = []
        self.hold: asyncio.Event | None = None  # when set, requests wait for it
        self.received = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope["path"].removeprefix(PREFIX), scope["method"]
        self.hits[(method, path)] += 1
        query = httpx.QueryParams(scope["query_string"].decode("latin-1"))
        self.queries.append((method, path, list(query.multi_items())))
        body = await self._read_body(receive)
        if body:
            self.bodies.append(json.loads(body))
        self.received.set()
        if self.hold is not None:
            await self.hold.wait()
        await self.app(scope, self._replay(body, receive), self._status(send))

    @staticmethod
    async def _read_body(receive: Receive) -> bytes:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                return b"".join(chunks)

    @staticmethod
    def _replay(body: bytes, receive: Receive) -> Receive:
        """The body once, as read; then the real channel (which reports a disconnect)."""
        pending = [{"type": "http.request", "body": body, "more_body": False}]

        async def wrapped() -> Message:
            return pending.pop() if pending else await receive()

        return wrapped

    def _status(self, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.statuses[message["status"]] += 1
            await send(message)

        return wrapped

    def held(self) -> asyncio.Event:
        """Hold every request at the server until the returned event is set."""
        self.hold = asyncio.Event()
        self.received.clear()
        return self.hold


def make_market(ticker: str, status: MarketStatus = MarketStatus.ACTIVE) -> Market:
    return Market(
        ticker=ticker,
        event_ticker=EVENT,
        status=status,
        title=f"Market {ticker}",
        open_time=START - timedelta(days=1),
        close_time=START + timedelta(days=30),
        price_ranges=SUB_PENNY_GRID,
    )


def mm_order(
    side: BookSide,
    price: int,
    contracts: int = 1,
    ticker: str = TICKER,
    tif: TimeInForce = TimeInForce.GOOD_TILL_CANCELED,
    account: str = MM,
) -> VenueOrder:
    return VenueOrder(
        account=account,
        ticker=ticker,
        side=side,
        price=price,
        count=contracts * CONTRACT,
        time_in_force=tif,
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def venue(clock: ManualClock) -> Venue:
    v = Venue(clock)
    for ticker in TICKERS:
        v.list_market(make_market(ticker), fractional=True)
    v.deposit(MM, 100_000 * DOLLAR)
    v.deposit(TAKER, 100_000 * DOLLAR)
    return v


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("client-exchange-keys")


@pytest.fixture
async def exchange(
    venue: Venue, key_dir: Path, rsa_key: KeyPair, ed25519_key: KeyPair
) -> AsyncIterator[LocalExchange]:
    """The local exchange for the ``dev`` account; the RSA and Ed25519 test keys trade for
    it too."""
    ex = LocalExchange.create(venue=venue, key_dir=key_dir, starting_balance=BALANCE)
    for pair in (rsa_key, ed25519_key):
        ex.add_account(pair.key_id, DEV, pair.public_pem)
    recorder = Recorder(ex.app)
    ex.app = recorder  # type: ignore[assignment]  # served as given: any ASGI app will do
    async with ex.serving():
        try:
            yield ex
        finally:
            if recorder.hold is not None:
                recorder.hold.set()


@pytest.fixture
def recorder(exchange: LocalExchange) -> Recorder:
    app = exchange.app
    assert isinstance(app, Recorder)
    return app


class SleepRecorder:
    """Stands in for ``asyncio.sleep`` as the client's time source: records each delay asked
    for and only yields to the loop, so backoff never makes a test wait. ``on_sleep`` runs at
    each backoff (what happens at the exchange between two attempts)."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.on_sleep: Callable[[], None] = lambda: None

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.on_sleep()
        await asyncio.sleep(0)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


MakeClient = Callable[..., KalshiClient]


def client_options(signer: Signer | None, sleeps: SleepRecorder) -> dict[str, Any]:
    return {
        "signer": signer,
        "timeout": httpx.Timeout(5.0),
        "rate_limiter": RateLimiter.for_rates(10_000, 10_000),
        "retry": RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=4.0),
        "sleep": sleeps,
        "uniform": lambda: 0.5,
    }


@pytest.fixture
async def make_client(
    exchange: LocalExchange, ed25519_key: KeyPair, sleeps: SleepRecorder
) -> AsyncIterator[MakeClient]:
    """Build clients for the exchange; all are closed at teardown."""
    made: list[KalshiClient] = []

    def build(**overrides: Any) -> KalshiClient:
        signer = Signer.from_pem(ed25519_key.key_id, ed25519_key.private_pem)
        options = client_options(signer, sleeps) | overrides
        client = KalshiClient(exchange.base_url, **options)
        made.append(client)
        return client

    yield build
    for client in made:
        await client.aclose()


@pytest.fixture
def client(make_client: MakeClient) -> KalshiClient:
    return make_client()
