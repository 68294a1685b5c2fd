"""API keys and the signature check, shared by the HTTP routes and the WebSocket handshake.

A request is signed by ``KALSHI-ACCESS-KEY``, ``-TIMESTAMP`` (Unix milliseconds) and
``-SIGNATURE`` (:func:`kalshi_core.client.verify_signature` over ``ts + METHOD + path``). The
timestamp must be within ``max_skew_seconds`` of the server's *wall* clock; it is read as at
most :data:`MAX_TIMESTAMP_DIGITS` ASCII digits before any arithmetic.

An RSA check costs tens of microseconds, so :class:`VerifiedSignatures` remembers the
signatures that passed, keyed by everything the signature covers plus the signature itself
(key, timestamp, method, path, signature). It only skips the RSA arithmetic: the key lookup and
the timestamp's freshness are checked on every request, so a remembered signature is refused
once its timestamp leaves the window, and a different signature, method or path is verified
afresh.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping

import attrs

from kalshi_core.client.auth import (
    KEY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    PublicKey,
    load_public_key,
    verify_signature,
)

MAX_TIMESTAMP_DIGITS = 16
_TIMESTAMP = re.compile(rf"[0-9]{{1,{MAX_TIMESTAMP_DIGITS}}}")


class Unauthorized(Exception):
    """A request or handshake refused with 401; the message says why."""


@attrs.frozen
class ApiKey:
    """An API key: its id, the account it trades for and its public key (never the private)."""

    key_id: str
    account_id: str
    public_key: PublicKey = attrs.field(repr=False)


class KeyRegistry:
    """API key id -> account id + public key."""

    def __init__(self) -> None:
        self._keys: dict[str, ApiKey] = {}

    def add(self, key_id: str, account_id: str, public_key_pem: str | bytes) -> ApiKey:
        key = ApiKey(key_id, account_id, load_public_key(public_key_pem))
        self._keys[key_id] = key
        return key

    def get(self, key_id: str) -> ApiKey | None:
        return self._keys.get(key_id)

    def __len__(self) -> int:
        return len(self._keys)


SignedBy = tuple[str, str, str, str, str]  # key id, timestamp, METHOD, path, signature
DEFAULT_REMEMBERED = 4096


class VerifiedSignatures:
    """The most recent ``capacity`` signatures that verified, and the key that verified each."""

    def __init__(self, capacity: int = DEFAULT_REMEMBERED) -> None:
        if capacity < 0:
            raise ValueError(f"capacity={capacity} must be at least 0")
        self.capacity = capacity
        self._passed: OrderedDict[SignedBy, ApiKey] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def verified(self, key: ApiKey, headers: Mapping[str, str], method: str, path: str) -> bool:
        """Whether ``headers`` carry ``key``'s signature of ``method path`` (remembered)."""
        signed_by = _signed_by(key, headers, method, path)
        if self._passed.get(signed_by) is key:  # the same key object: a replaced key re-checks
            self._passed.move_to_end(signed_by)
            self.hits += 1
            return True
        self.misses += 1
        if not verify_signature(key.public_key, headers, method, path):
            return False
        self._remember(signed_by, key)
        return True

    def _remember(self, signed_by: SignedBy, key: ApiKey) -> None:
        if self.capacity == 0:
            return
        self._passed[signed_by] = key
        if len(self._passed) > self.capacity:
            self._passed.popitem(last=False)

    def __len__(self) -> int:
        return len(self._passed)


def _signed_by(key: ApiKey, headers: Mapping[str, str], method: str, path: str) -> SignedBy:
    stamp = headers.get(TIMESTAMP_HEADER.lower(), "")
    signature = headers.get(SIGNATURE_HEADER.lower(), "")
    return (key.key_id, stamp, method.upper(), path.split("?", 1)[0], signature)


def header_map(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """An ASGI scope's headers as lower-case names -> values."""
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw}


def _fresh(stamp: str, now_seconds: float, max_skew_seconds: float) -> bool:
    if _TIMESTAMP.fullmatch(stamp) is None:
        return False
    return abs(now_seconds * 1000 - int(stamp)) <= max_skew_seconds * 1000


def signed_account(
    keys: KeyRegistry,
    headers: Mapping[str, str],
    method: str,
    path: str,
    *,
    now_seconds: float,
    max_skew_seconds: float,
    remembered: VerifiedSignatures | None = None,
) -> str | None:
    """The account of a correctly signed request, None for an unsigned one.

    Raises :class:`Unauthorized` for an unknown key, a missing or stale timestamp, or a bad
    signature. ``headers`` have lower-case names; ``path`` is the full path, no query.
    ``remembered`` skips the RSA check of a signature that already passed (never the others).
    """
    key_id = headers.get(KEY_HEADER.lower())
    if key_id is None:
        return None
    key = keys.get(key_id)
    if key is None:
        raise Unauthorized("unknown API key id")
    if not _fresh(headers.get(TIMESTAMP_HEADER.lower(), ""), now_seconds, max_skew_seconds):
        raise Unauthorized("KALSHI-ACCESS-TIMESTAMP is missing or too far from the server's clock")
    if remembered is not None:
        valid = remembered.verified(key, headers, method, path)
    else:
        valid = verify_signature(key.public_key, headers, method, path)
    if not valid:
        raise Unauthorized("invalid KALSHI-ACCESS-SIGNATURE")
    return key.account_id
