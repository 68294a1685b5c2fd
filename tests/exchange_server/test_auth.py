"""Signature checks: every signed request is verified; portfolio routes require one."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from kalshi_core.client import KalshiClient, Signer
from kalshi_core.errors import ConfigError, ExchangeError
from kalshi_core.exchange import Venue
from kalshi_core.exchange.local import KEY_FILE, LocalExchange, ensure_dev_key

from .conftest import MakeClient

BALANCE = "/trade-api/v2/portfolio/balance"


def _other_key() -> tuple[bytes, bytes]:
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


async def _get(exchange: LocalExchange, path: str, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.get(exchange.base_url + path, headers=headers)


async def test_unsigned_portfolio_call_is_401(make_client: MakeClient) -> None:
    client = make_client(signer=None)
    with pytest.raises(ExchangeError) as caught:
        await client.get_balance()
    assert (caught.value.status, caught.value.code) == (401, "unauthorized")
    assert len((await client.get_markets()).items) == 12  # public routes need no signature


async def test_signature_by_another_key_is_401(
    exchange: LocalExchange, make_client: MakeClient
) -> None:
    private, _ = _other_key()
    client = make_client(signer=Signer.from_pem(exchange.api_key_id, private))
    with pytest.raises(ExchangeError) as caught:
        await client.get_balance()
    assert caught.value.status == 401
    with pytest.raises(ExchangeError):  # a bad signature is refused on public routes too
        await client.get_markets()


async def test_signature_over_another_path_is_401(
    exchange: LocalExchange, client: KalshiClient
) -> None:
    signer = client.transport.signer
    assert signer is not None
    wrong = await _get(exchange, "/portfolio/balance", signer.headers("GET", "/trade-api/v2/x"))
    assert wrong.status_code == 401
    assert wrong.json()["error"]["service"] == "exchange"
    right = await _get(exchange, "/portfolio/balance?x=1", signer.headers("GET", BALANCE))
    assert right.status_code == 200  # the query string is not signed


async def test_stale_timestamp_is_401(exchange: LocalExchange) -> None:
    assert exchange.private_key_path is not None
    stale_ms = int((time.time() - 120) * 1000)
    signer = Signer.from_file(
        exchange.api_key_id, exchange.private_key_path, clock_ms=lambda: stale_ms
    )
    response = await _get(exchange, "/portfolio/balance", signer.headers("GET", BALANCE))
    assert response.status_code == 401


async def test_second_account_signs_with_its_own_key(
    exchange: LocalExchange, make_client: MakeClient, venue: Venue
) -> None:
    private, public = _other_key()
    exchange.add_account("key-2", "second", public, balance=50 * 10_000)
    client = make_client(signer=Signer.from_pem("key-2", private))
    balance = await client.get_balance()
    assert balance.balance == 50 * 10_000
    assert venue.balance("second").balance == balance.balance


def test_dev_key_is_made_once_and_private(tmp_path: Path) -> None:
    first = ensure_dev_key(tmp_path)
    second = ensure_dev_key(tmp_path)
    assert first == second
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert "PRIVATE" not in repr(first)


async def test_only_loopback_hosts(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        async with LocalExchange.running(host="0.0.0.0", key_dir=tmp_path):
            pass
