"""API keys and the signature check, shared by the HTTP routes and the WebSocket handshake.

A request is signed by ``KALSHI-ACCESS-KEY``, ``-TIMESTAMP`` (Unix milliseconds) and
``-SIGNATURE`` (:func:`kalshi_core.client.verify_signature` over ``ts + METHOD + path``). The
timestamp must be within ``max_skew_seconds`` of the server's *wall* clock; it is read as at
most :data:`MAX_TIMESTAMP_DIGITS` ASCII digits before any arithmetic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import attrs

from kalshi_core.client.auth import (
    KEY_HEADER,
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
) -> str | None:
    """The account of a correctly signed request, None for an unsigned one.

    Raises :class:`Unauthorized` for an unknown key, a missing or stale timestamp, or a bad
    signature. ``headers`` have lower-case names; ``path`` is the full path, no query.
    """
    key_id = headers.get(KEY_HEADER.lower())
    if key_id is None:
        return None
    key = keys.get(key_id)
    if key is None:
        raise Unauthorized("unknown API key id")
    if not _fresh(headers.get(TIMESTAMP_HEADER.lower(), ""), now_seconds, max_skew_seconds):
        raise Unauthorized("KALSHI-ACCESS-TIMESTAMP is missing or too far from the server's clock")
    if not verify_signature(key.public_key, headers, method, path):
        raise Unauthorized("invalid KALSHI-ACCESS-SIGNATURE")
    return key.account_id
