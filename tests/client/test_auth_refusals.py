"""Key handling refuses what it cannot use, with a ConfigError that says what was wrong (and
never the key), and a signature check says no, never raises, on hostile headers."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from kalshi_core.client import Signer, verify_signature
from kalshi_core.client.auth import load_public_key
from kalshi_core.errors import ConfigError

PATH = "/trade-api/v2/portfolio/balance"


def _ed25519_pem() -> tuple[bytes, bytes]:
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def test_an_empty_key_id_is_refused() -> None:
    private, _ = _ed25519_pem()
    with pytest.raises(ConfigError, match="key id is empty"):
        Signer.from_pem("", private)


def test_a_public_key_that_is_not_pem_is_refused() -> None:
    with pytest.raises(ConfigError, match="cannot load the public key"):
        load_public_key("-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n")


def test_a_public_key_of_another_algorithm_is_refused_by_name() -> None:
    elliptic = ec.generate_private_key(ec.SECP256R1()).public_key()
    pem = elliptic.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(ConfigError, match=r"public key is a \w+; expected RSA or Ed25519"):
        load_public_key(pem.decode())


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"KALSHI-ACCESS-TIMESTAMP": "1700000000000"},
        {"KALSHI-ACCESS-TIMESTAMP": "soon", "KALSHI-ACCESS-SIGNATURE": "AAAA"},
        {"KALSHI-ACCESS-TIMESTAMP": "1700000000000", "KALSHI-ACCESS-SIGNATURE": "%%%not-b64"},
        {"KALSHI-ACCESS-TIMESTAMP": "1700000000000", "KALSHI-ACCESS-SIGNATURE": "AAAA"},
    ],
)
def test_hostile_signature_headers_are_a_plain_no(headers: dict[str, str]) -> None:
    _, public = _ed25519_pem()
    assert verify_signature(public, headers, "GET", PATH) is False


def test_a_signature_checks_with_any_header_case_and_only_for_its_own_key() -> None:
    private, public = _ed25519_pem()
    _, other = _ed25519_pem()
    signed = Signer.from_pem("key-1", private).headers("GET", PATH)
    lowered = {name.lower(): value for name, value in signed.items()}
    assert verify_signature(load_public_key(public), lowered, "GET", PATH + "?limit=5") is True
    assert verify_signature(other, lowered, "GET", PATH) is False
    assert verify_signature(public, lowered, "POST", PATH) is False
