"""Signing: RSA-PSS and Ed25519 signatures verified by the server; the key never leaks."""

from __future__ import annotations

import base64
import pickle
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from kalshi_core.client import KalshiClient, Signer, verify_signature
from kalshi_core.client.auth import SIGNATURE_HEADER, TIMESTAMP_HEADER, signed_text
from kalshi_core.errors import ConfigError, ExchangeError

from .conftest import BALANCE, KeyPair, MakeClient, Recorder

PEM_MARKERS = ("BEGIN", "PRIVATE KEY")


def _key_material(pair: KeyPair) -> list[str]:
    """Strings that would betray the private key if they appeared anywhere."""
    body = b"".join(pair.private_pem.splitlines()[1:-1]).decode()
    return [body[:40], body[-40:], *PEM_MARKERS]


@pytest.mark.parametrize("which", ["rsa_key", "ed25519_key"])
async def test_signed_requests_verify_on_the_server(
    which: str, request: pytest.FixtureRequest, make_client: MakeClient, recorder: Recorder
) -> None:
    pair: KeyPair = request.getfixturevalue(which)
    client = make_client(signer=Signer.from_pem(pair.key_id, pair.private_pem))
    balance = await client.get_balance()
    orders = [order async for order in client.iter_orders(ticker="X", limit=5)]
    assert balance.balance == BALANCE
    assert orders == []
    assert recorder.statuses[401] == 0
    assert recorder.hits[("GET", "/portfolio/orders")] == 1


async def test_a_key_the_server_does_not_know_is_refused(
    make_client: MakeClient, rsa_key: KeyPair, recorder: Recorder
) -> None:
    client = make_client(signer=Signer.from_pem("unknown-key", rsa_key.private_pem))
    with pytest.raises(ExchangeError) as caught:
        await client.get_balance()
    assert caught.value.status == 401
    assert caught.value.code == "unauthorized"
    assert caught.value.endpoint == "GET /portfolio/balance"
    assert recorder.statuses[401] == 1
    assert recorder.hits[("GET", "/portfolio/balance")] == 1  # a 401 is not retried


async def test_portfolio_without_credentials_is_refused(make_client: MakeClient) -> None:
    client = make_client(signer=None)
    assert (await client.get_exchange_status()).exchange_active is True
    with pytest.raises(ExchangeError, match="401"):
        await client.get_balance()


def test_rsa_signature_is_pss_sha256_over_ts_method_path(rsa_key: KeyPair) -> None:
    signer = Signer.from_pem(
        rsa_key.key_id, rsa_key.private_pem.decode(), clock_ms=lambda: 1703123456789
    )
    headers = signer.headers("get", "/trade-api/v2/portfolio/orders?limit=5")
    assert headers[TIMESTAMP_HEADER] == "1703123456789"
    assert signed_text(1703123456789, "get", "/trade-api/v2/portfolio/orders?limit=5") == (
        b"1703123456789GET/trade-api/v2/portfolio/orders"
    )
    assert len(base64.b64decode(headers[SIGNATURE_HEADER])) == 256  # a 2048-bit RSA signature
    assert verify_signature(rsa_key.public_pem, headers, "GET", "/trade-api/v2/portfolio/orders")
    # the query string is not signed, but method and path are
    assert verify_signature(
        rsa_key.public_pem, headers, "GET", "/trade-api/v2/portfolio/orders?x=1"
    )
    assert not verify_signature(
        rsa_key.public_pem, headers, "POST", "/trade-api/v2/portfolio/orders"
    )
    assert not verify_signature(rsa_key.public_pem, headers, "GET", "/trade-api/v2/portfolio/fills")


def test_signature_checks_fail_closed(ed25519_key: KeyPair, rsa_key: KeyPair) -> None:
    signer = Signer.from_pem(ed25519_key.key_id, ed25519_key.private_pem, clock_ms=lambda: 5)
    headers = signer.headers("GET", "/trade-api/v2/markets")
    path = "/trade-api/v2/markets"
    assert verify_signature(ed25519_key.public_pem, headers, "GET", path)
    assert not verify_signature(rsa_key.public_pem, headers, "GET", path)  # wrong key
    assert not verify_signature(
        ed25519_key.public_pem, {**headers, TIMESTAMP_HEADER: "6"}, "GET", path
    )
    assert not verify_signature(
        ed25519_key.public_pem, {**headers, SIGNATURE_HEADER: "%%"}, "GET", path
    )
    assert not verify_signature(ed25519_key.public_pem, {}, "GET", path)
    lower = {name.lower(): value for name, value in headers.items()}
    assert verify_signature(ed25519_key.public_pem, lower, "GET", path)


def test_pkcs8_rsa_keys_load_too(rsa_key: KeyPair) -> None:
    key = serialization.load_pem_private_key(rsa_key.private_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signer = Signer.from_pem("k", pkcs8)
    headers = signer.headers("DELETE", "/trade-api/v2/portfolio/events/orders")
    assert signer.algorithm == "rsa-pss"
    assert verify_signature(
        rsa_key.public_pem, headers, "DELETE", "/trade-api/v2/portfolio/events/orders"
    )


def test_signer_loads_from_a_file(tmp_path: Path, ed25519_key: KeyPair) -> None:
    path = tmp_path / "key.pem"
    path.write_bytes(ed25519_key.private_pem)
    signer = Signer.from_file(ed25519_key.key_id, path)
    assert signer.algorithm == "ed25519"
    with pytest.raises(ConfigError, match="cannot read"):
        Signer.from_file("k", tmp_path / "missing.pem")


@pytest.mark.parametrize("which", ["rsa_key", "ed25519_key"])
def test_private_key_never_appears_in_repr_str_or_errors(
    which: str, request: pytest.FixtureRequest
) -> None:
    pair: KeyPair = request.getfixturevalue(which)
    signer = Signer.from_pem(pair.key_id, pair.private_pem)
    client = KalshiClient("http://127.0.0.1:1/trade-api/v2", signer=signer)
    texts = [repr(signer), str(signer), repr(client), repr(client.transport)]
    broken = pair.private_pem.replace(b"\n", b"\n!", 3)
    with pytest.raises(ConfigError) as caught:
        Signer.from_pem(pair.key_id, broken)
    texts += [str(caught.value), repr(caught.value)]
    with pytest.raises(TypeError):
        pickle.dumps(signer)
    assert pair.key_id in repr(signer)
    for text in texts:
        for secret in _key_material(pair):
            assert secret not in text, (secret, text)


def test_only_rsa_and_ed25519_keys_are_accepted() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ConfigError, match="only RSA and Ed25519"):
        Signer.from_pem("k", pem)
