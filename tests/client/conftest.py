"""Fixtures: test keys, the fake Kalshi server on a free 127.0.0.1 port, and clients for it."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import attrs
import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from kalshi_core.client import KalshiClient, RateLimiter, RetryPolicy, Signer

from .server import PREFIX, FakeKalshi

RSA_KEY_ID = "11111111-1111-4111-8111-111111111111"
ED25519_KEY_ID = "22222222-2222-4222-8222-222222222222"


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


class _Server(uvicorn.Server):
    """uvicorn that announces the end of its start-up on an event (no polling)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


@attrs.frozen
class RunningServer:
    fake: FakeKalshi
    base_url: str


@pytest.fixture
async def server(rsa_key: KeyPair, ed25519_key: KeyPair) -> AsyncIterator[RunningServer]:
    fake = FakeKalshi({k.key_id: k.public_pem for k in (rsa_key, ed25519_key)})
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle + delayed-ACK stall
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        fake, lifespan="off", log_level="critical", access_log=False, http="h11"
    )
    uv = _Server(config)
    serving = asyncio.create_task(uv.serve(sockets=[sock]))
    ready = asyncio.create_task(uv.ready.wait())
    await asyncio.wait({serving, ready}, return_when=asyncio.FIRST_COMPLETED)
    assert uv.ready.is_set(), "test server failed to start"
    try:
        yield RunningServer(fake, f"http://127.0.0.1:{port}{PREFIX}")
    finally:
        fake.release.set()
        if fake.hold is not None:
            fake.hold.set()
        uv.should_exit = True
        await serving
        sock.close()


class SleepRecorder:
    """Stands in for ``asyncio.sleep`` as the client's time source: records each delay asked
    for and only yields to the loop, so backoff never makes a test wait."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


MakeClient = Callable[..., KalshiClient]


@pytest.fixture
async def make_client(
    server: RunningServer, ed25519_key: KeyPair, sleeps: SleepRecorder
) -> AsyncIterator[MakeClient]:
    """Build clients for the test server; all are closed at teardown."""
    made: list[KalshiClient] = []

    def build(**overrides: Any) -> KalshiClient:
        options: dict[str, Any] = {
            "signer": Signer.from_pem(ed25519_key.key_id, ed25519_key.private_pem),
            "timeout": httpx.Timeout(5.0),
            "rate_limiter": RateLimiter.for_rates(10_000, 10_000),
            "retry": RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=4.0),
            "sleep": sleeps,
            "uniform": lambda: 0.5,
        }
        options.update(overrides)
        client = KalshiClient(server.base_url, **options)
        made.append(client)
        return client

    yield build
    for client in made:
        await client.aclose()


@pytest.fixture
def client(make_client: MakeClient) -> KalshiClient:
    return make_client()


@pytest.fixture
def fake(server: RunningServer) -> FakeKalshi:
    return server.fake
