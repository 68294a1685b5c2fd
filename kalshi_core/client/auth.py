"""Request signing for the Kalshi Trade API v2, and the matching server-side check.

Kalshi authenticates a request with three headers: the key id, a millisecond timestamp, and a
signature over ``timestamp + METHOD + path`` where ``path`` is the URL path from the root
(``/trade-api/v2/...``) without the query string. RSA keys sign with RSA-PSS / SHA-256 /
MGF1(SHA-256) and a digest-length salt; Ed25519 keys sign the same text.

The private key is held only inside :class:`Signer`; its ``repr`` shows the key id alone, and
no error raised here quotes key material.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from kalshi_core.errors import ConfigError

KEY_HEADER = "KALSHI-ACCESS-KEY"
TIMESTAMP_HEADER = "KALSHI-ACCESS-TIMESTAMP"
SIGNATURE_HEADER = "KALSHI-ACCESS-SIGNATURE"

PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def _pss() -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)


# Built once: the padding and hash objects are immutable descriptions, and RSA-PSS draws its
# random salt inside each sign() call, so sharing them changes no signature's randomness.
_PSS = _pss()
_SHA256 = hashes.SHA256()


def signed_text(timestamp_ms: int | str, method: str, path: str) -> bytes:
    """The exact bytes Kalshi signs: ``ts + METHOD + path`` with any query string removed."""
    return f"{timestamp_ms}{method.upper()}{path.split('?', 1)[0]}".encode()


def _load_private_key(pem: bytes, source: str) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # The underlying message may echo parts of the input; say only where it came from.
        raise ConfigError(
            f"cannot load the Kalshi private key from {source}: expected an unencrypted "
            "RSA (PKCS#1 or PKCS#8) or Ed25519 PEM private key"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise ConfigError(
            f"the Kalshi private key from {source} is a {type(key).__name__}; "
            "only RSA and Ed25519 keys are accepted"
        )
    return key


class Signer:
    """Signs requests with one API key. Build it with :meth:`from_pem` or :meth:`from_file`."""

    __slots__ = ("_clock_ms", "_key", "key_id")

    def __init__(
        self, key_id: str, key: PrivateKey, *, clock_ms: Callable[[], int] = _wall_clock_ms
    ) -> None:
        if not key_id:
            raise ConfigError("the Kalshi API key id is empty")
        self.key_id = key_id
        self._key = key
        self._clock_ms = clock_ms

    @classmethod
    def from_pem(
        cls, key_id: str, pem: str | bytes, *, clock_ms: Callable[[], int] = _wall_clock_ms
    ) -> Signer:
        data = pem.encode() if isinstance(pem, str) else pem
        return cls(key_id, _load_private_key(data, "the PEM text given"), clock_ms=clock_ms)

    @classmethod
    def from_file(
        cls, key_id: str, path: str | Path, *, clock_ms: Callable[[], int] = _wall_clock_ms
    ) -> Signer:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read the Kalshi private key file {path}: {exc}") from None
        return cls(key_id, _load_private_key(data, f"file {path}"), clock_ms=clock_ms)

    @property
    def algorithm(self) -> str:
        return "rsa-pss" if isinstance(self._key, rsa.RSAPrivateKey) else "ed25519"

    def sign(self, text: bytes) -> str:
        """Base64 signature of ``text`` (standard alphabet, padded)."""
        if isinstance(self._key, rsa.RSAPrivateKey):
            raw = self._key.sign(text, _PSS, _SHA256)
        else:
            raw = self._key.sign(text)
        return base64.b64encode(raw).decode("ascii")

    def headers(self, method: str, path: str) -> dict[str, str]:
        """The three authentication headers for one request to ``path`` (query ignored)."""
        timestamp = str(self._clock_ms())
        return {
            KEY_HEADER: self.key_id,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: self.sign(signed_text(timestamp, method, path)),
        }

    def __repr__(self) -> str:
        return f"Signer(key_id={self.key_id!r}, algorithm={self.algorithm!r})"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a Signer holds a private key and cannot be pickled")


def load_public_key(public_key_pem: str | bytes) -> PublicKey:
    """Load an SPKI (``BEGIN PUBLIC KEY``) RSA or Ed25519 public key."""
    data = public_key_pem.encode() if isinstance(public_key_pem, str) else public_key_pem
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ConfigError(f"cannot load the public key: {exc}") from None
    if not isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        raise ConfigError(f"public key is a {type(key).__name__}; expected RSA or Ed25519")
    return key


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def verify_signature(
    public_key_pem: str | bytes | PublicKey,
    headers: Mapping[str, str],
    method: str,
    path: str,
) -> bool:
    """True when ``headers`` carry a valid Kalshi signature of ``method path`` by this key.

    ``path`` is the full URL path (``/trade-api/v2/...``); a query string is ignored. Header
    names match case-insensitively. The key id header is not checked against anything here;
    the caller picks the public key from it.
    """
    timestamp = _header(headers, TIMESTAMP_HEADER)
    signature = _header(headers, SIGNATURE_HEADER)
    if not timestamp or not signature or not timestamp.isdigit():
        return False
    key = (
        public_key_pem
        if isinstance(public_key_pem, rsa.RSAPublicKey | ed25519.Ed25519PublicKey)
        else load_public_key(public_key_pem)
    )
    try:
        raw = base64.b64decode(signature, validate=True)
        text = signed_text(timestamp, method, path)
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(raw, text, _PSS, _SHA256)
        else:
            key.verify(raw, text)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
