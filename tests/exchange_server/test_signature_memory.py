"""Remembered signature checks: a signature that passed skips the RSA arithmetic when it comes
again, and nothing else a check refuses gets through because of it."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from kalshi_core.client import Signer
from kalshi_core.client.auth import SIGNATURE_HEADER
from kalshi_core.exchange.http.auth import KeyRegistry, Unauthorized, VerifiedSignatures
from kalshi_core.exchange.http.auth import signed_account as check
from kalshi_core.exchange.local import LocalExchange

BALANCE = "/trade-api/v2/portfolio/balance"
POSITIONS = "/trade-api/v2/portfolio/positions"


def _signer(exchange: LocalExchange) -> Signer:
    assert exchange.private_key_path is not None
    return Signer.from_file(exchange.api_key_id, exchange.private_key_path)


async def _get(exchange: LocalExchange, path: str, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        url = exchange.base_url.removesuffix("/trade-api/v2") + path
        return await http.get(url, headers=headers)


async def test_a_signature_sent_again_is_accepted_from_memory(exchange: LocalExchange) -> None:
    remembered = exchange.context.verified_signatures
    headers = _signer(exchange).headers("GET", BALANCE)
    first = await _get(exchange, BALANCE, headers)
    again = await _get(exchange, BALANCE, headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert (remembered.misses, remembered.hits) == (1, 1)


async def test_a_wrong_signature_with_a_remembered_stamp_is_refused(
    exchange: LocalExchange,
) -> None:
    headers = _signer(exchange).headers("GET", BALANCE)
    assert (await _get(exchange, BALANCE, headers)).status_code == 200
    signature = headers[SIGNATURE_HEADER]
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    forged = await _get(exchange, BALANCE, {**headers, SIGNATURE_HEADER: flipped})
    assert forged.status_code == 401
    assert "KALSHI-ACCESS-SIGNATURE" in forged.json()["error"]["message"]


async def test_a_remembered_signature_for_another_path_is_refused(
    exchange: LocalExchange,
) -> None:
    headers = _signer(exchange).headers("GET", BALANCE)
    assert (await _get(exchange, BALANCE, headers)).status_code == 200
    assert (await _get(exchange, POSITIONS, headers)).status_code == 401


async def test_a_remembered_signature_for_another_method_is_refused(
    exchange: LocalExchange,
) -> None:
    headers = _signer(exchange).headers("GET", BALANCE)
    assert (await _get(exchange, BALANCE, headers)).status_code == 200
    async with httpx.AsyncClient() as http:
        url = exchange.base_url.removesuffix("/trade-api/v2") + BALANCE
        posted = await http.post(url, headers=headers)
    assert posted.status_code == 401


async def test_a_remembered_signature_replayed_outside_its_window_is_refused(
    venue: object, key_dir: Path
) -> None:
    now = [time.time()]
    async with LocalExchange.running(
        venue=venue,  # type: ignore[arg-type]
        key_dir=key_dir,
        wall_clock=lambda: now[0],
    ) as exchange:
        headers = _signer(exchange).headers("GET", BALANCE)
        assert (await _get(exchange, BALANCE, headers)).status_code == 200
        now[0] += exchange.context.max_skew_seconds + 1
        replayed = await _get(exchange, BALANCE, headers)
    assert replayed.status_code == 401
    assert "TIMESTAMP" in replayed.json()["error"]["message"]


def _pem() -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, public


def _private_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def test_a_replaced_key_checks_a_remembered_signature_again() -> None:
    old, old_public = _pem()
    _, new_public = _pem()
    keys, remembered = KeyRegistry(), VerifiedSignatures()
    keys.add("k", "acct", old_public)
    raw = Signer.from_pem("k", _private_pem(old)).headers("GET", BALANCE)
    headers = {name.lower(): value for name, value in raw.items()}
    now = int(headers["kalshi-access-timestamp"]) / 1000
    options = {"now_seconds": now, "max_skew_seconds": 60.0, "remembered": remembered}
    assert check(keys, headers, "GET", BALANCE, **options) == "acct"
    keys.add("k", "acct", new_public)  # the key was rotated: the old signature is not its
    with pytest.raises(Unauthorized, match="invalid KALSHI-ACCESS-SIGNATURE"):
        check(keys, headers, "GET", BALANCE, **options)


def test_memory_holds_at_most_its_capacity() -> None:
    private, public = _pem()
    keys = KeyRegistry()
    key = keys.add("k", "acct", public)
    signer = Signer.from_pem("k", _private_pem(private))
    bounded, none = VerifiedSignatures(capacity=2), VerifiedSignatures(capacity=0)
    for path in (BALANCE, POSITIONS, "/trade-api/v2/portfolio/orders"):
        raw = signer.headers("GET", path)
        headers = {name.lower(): value for name, value in raw.items()}
        assert bounded.verified(key, headers, "GET", path)
        assert none.verified(key, headers, "GET", path)
    assert (len(bounded), len(none)) == (2, 0)
    with pytest.raises(ValueError, match="capacity=-1"):
        VerifiedSignatures(capacity=-1)
