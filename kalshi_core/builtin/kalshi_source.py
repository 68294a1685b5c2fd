"""Built-in data source ``kalshi``: the Trade API v2 HTTP client, configured from ``[kalshi]``.

The same client trades live on Kalshi, on Kalshi's demo, and on the local exchange; only the
base URL differs. A non-loopback URL needs ``allow_remote=True``, which only the engine passes,
after the user's explicit live-trading confirmation: no setting can switch it on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from kalshi_core.client import KalshiClient, RateLimiter, RetryPolicy, Signer
from kalshi_core.errors import ConfigError
from kalshi_core.hookspecs import hookimpl


def make_signer(section: Mapping[str, Any]) -> Signer | None:
    """A signer from ``api_key_id`` plus ``private_key`` (PEM text) or ``private_key_path``."""
    key_id = section.get("api_key_id", "")
    pem, path = section.get("private_key", ""), section.get("private_key_path", "")
    if not key_id:
        if pem or path:
            raise ConfigError("kalshi.api_key_id is empty but a private key is configured")
        return None
    if pem:
        return Signer.from_pem(key_id, pem)
    if path:
        return Signer.from_file(key_id, path)
    raise ConfigError(
        "kalshi.api_key_id is set but neither kalshi.private_key_path nor kalshi.private_key is"
    )


def make_kalshi_client(
    section: Mapping[str, Any],
    *,
    base_url: str | None = None,
    allow_remote: bool = False,
    signer: Signer | None = None,
    rate_limiter: RateLimiter | None = None,
) -> KalshiClient:
    """The client for ``base_url`` (default: ``kalshi.base_url``)."""
    url = base_url or section.get("base_url", "")
    if not url:
        raise ConfigError(
            "kalshi.base_url is empty: `kalshi-core run` starts the local exchange and passes "
            "its URL; to use another exchange set kalshi.base_url"
        )
    timeout = float(section.get("timeout_seconds", 10.0))
    return KalshiClient(
        url,
        allow_remote=allow_remote,
        signer=signer or make_signer(section),
        timeout=httpx.Timeout(timeout),
        rate_limiter=rate_limiter or RateLimiter.for_tier(section.get("rate_limit_tier", "basic")),
        retry=RetryPolicy(max_attempts=int(section.get("max_retries", 4)) + 1),
    )


@hookimpl
def register_data_sources(register: Any) -> None:
    register("kalshi", make_kalshi_client)
