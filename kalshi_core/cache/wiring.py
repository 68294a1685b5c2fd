"""Building the cache from the ``[cache]`` settings and putting it in front of the venue and
the forecasters: all a session needs is :func:`build_cache` and :func:`cache_engine_parts`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from kalshi_core.cache.forecaster import CachingForecaster, prompt_version
from kalshi_core.cache.gateway import CachingGateway
from kalshi_core.cache.memory import LruMemoryCache, Monotonic
from kalshi_core.cache.settings import ttls_from_section
from kalshi_core.cache.stats import CacheStats
from kalshi_core.cache.store import Backends, SharedCache, Tier
from kalshi_core.client.ratelimit import RateLimiter
from kalshi_core.clock import Clock
from kalshi_core.forecasting.prompts import SYSTEM_PROMPT
from kalshi_core.gateway import Gateway
from kalshi_core.plugins import Registry
from kalshi_core.protocols import Forecaster


def is_shared(cache: Any) -> bool:
    """A backend other processes see (Redis); declared by the backend's ``shared`` flag."""
    return bool(getattr(cache, "shared", False))


def cache_from_section(
    section: Mapping[str, Any], backends: Registry[Any], *, clock: Monotonic = time.monotonic
) -> SharedCache:
    """The cache ``cache.backend`` names, with a memory fallback when that backend is shared."""
    primary = backends.create(str(section.get("backend", "memory")), section)
    shared = is_shared(primary)
    if isinstance(primary, LruMemoryCache):
        primary.use_clock(clock)
    fallback = (
        Tier(LruMemoryCache(int(section.get("max_entries", 100_000)), clock=clock), shared=False)
        if shared
        else None
    )
    tiers = Backends(
        primary=Tier(primary, shared=shared),
        fallback=fallback,
        stats=CacheStats(),
        retry_seconds=float(section.get("retry_seconds", 5)),
        clock=clock,
    )
    return SharedCache(
        tiers,
        ttls_from_section(section),
        lease_seconds=float(section.get("lock_lease_seconds", 10)),
    )


def seconds_of(clock: Clock) -> Monotonic:
    """The trading clock as seconds: memory TTLs follow replayed time in paper trading."""
    return lambda: clock.now().timestamp()


def build_cache(app: Any, clock: Clock | None = None) -> SharedCache:
    """The cache of a running :class:`~kalshi_core.app.App` (``[cache]`` section). Memory
    TTLs run on ``clock`` (the engine's) when given; a shared backend's TTLs are its own
    (real seconds on Redis)."""
    monotonic = seconds_of(clock) if clock is not None else time.monotonic
    return cache_from_section(app.section("cache"), app.registry("cache_backends"), clock=monotonic)


@attrs.frozen(kw_only=True)
class CachedParts:
    gateway: CachingGateway
    forecasters: list[Forecaster]


def cache_engine_parts(
    cache: SharedCache,
    section: Mapping[str, Any],
    gateway: Gateway,
    forecasters: Sequence[Forecaster],
    *,
    reader: Any = None,
) -> CachedParts:
    """The engine's gateway and forecasters behind the cache; with a shared backend and
    ``shared_rate_limit`` the reader's rate budget is shared by every worker too."""
    bucket = int(section.get("forecast_price_bucket", 100))
    wrapped: list[Forecaster] = [
        CachingForecaster(f, cache, price_bucket=bucket, prompt=_prompt_of(f)) for f in forecasters
    ]
    reader = reader if reader is not None else getattr(gateway, "client", None)
    if section.get("shared_rate_limit", False):
        share_rate_budget(cache, reader)
    return CachedParts(gateway=CachingGateway(gateway, cache, reader=reader), forecasters=wrapped)


def _prompt_of(forecaster: Forecaster) -> str:
    """The LLM forecaster's prompt template versions its forecasts; others declare their own
    ``prompt_version`` (or none)."""
    if getattr(forecaster, "options", None) is not None and forecaster.name == "llm":
        return prompt_version(SYSTEM_PROMPT)
    return str(getattr(forecaster, "prompt_version", "") or "")


def share_rate_budget(cache: SharedCache, client: Any) -> bool:
    """Give ``client`` read and write buckets kept in the shared backend, when it has them
    (``token_bucket(name, limiter_bucket)``); ``False`` when nothing changed."""
    primary = cache.backends.primary.cache
    make = getattr(primary, "token_bucket", None)
    transport = getattr(client, "transport", None)
    limiter = getattr(transport, "rate_limiter", None)
    if make is None or transport is None or not isinstance(limiter, RateLimiter):
        return False
    transport.rate_limiter = RateLimiter(
        make("read", limiter.read, cache.stats), make("write", limiter.write, cache.stats)
    )
    return True
