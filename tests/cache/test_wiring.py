"""From the ``[cache]`` settings to the engine's parts: backends, TTLs, clock, rate budget."""

from __future__ import annotations

import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest

from kalshi_core.app import App
from kalshi_core.cache import kinds
from kalshi_core.cache.memory import LruMemoryCache
from kalshi_core.cache.wiring import build_cache, cache_from_section, share_rate_budget
from kalshi_core.client import KalshiClient, RateLimiter
from kalshi_core.clock import ManualClock
from kalshi_core.errors import ConfigError, PluginError
from kalshi_core.models import Market
from kalshi_core.monitoring.session import probes
from kalshi_core.plugins import Registry
from tests.cache.conftest import redis_backend, redis_url, shared_cache
from tests.cache.test_store import Loader, market


def test_default_settings_build_a_memory_cache_with_a_ttl_per_kind() -> None:
    cache = build_cache(App.create())
    assert isinstance(cache.backends.primary.cache, LruMemoryCache)
    assert cache.backends.fallback is None
    assert cache.backends.primary.cache.max_entries == 100_000
    assert cache.ttls == {
        "markets": 5.0,
        "market": 5.0,
        "orderbook": 1.0,
        "series": 3600.0,
        "event": 3600.0,
        "status": 10.0,
        "forecast": 86400.0,
        # the account is never shared by default (not even under the "*" TTL)
        "balance": 0.0,
        "positions": 0.0,
        "resting": 0.0,
        "fills": 0.0,
        "settlements": 0.0,
        "*": 30.0,
    }
    assert cache.lease_seconds == 10.0


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("KALSHI_CACHE__MARKETS_TTL_SECONDS", "-1", "cache.markets_ttl_seconds"),
        ("KALSHI_CACHE__FORECAST_PRICE_BUCKET", "0", "cache.forecast_price_bucket"),
        ("KALSHI_CACHE__LOCK_LEASE_SECONDS", "0", "cache.lock_lease_seconds"),
        ("KALSHI_CACHE__SHARED_RATE_LIMIT", "'yes'", "cache.shared_rate_limit"),
        ("KALSHI_CACHE__ACCOUNT_TTL_SECONDS", "600", "cache.account_ttl_seconds"),
    ],
)
def test_bad_cache_settings_fail_start_up_naming_the_key(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=message):
        App.create().check()


async def test_memory_ttls_follow_the_trading_clock() -> None:
    clock = ManualClock()
    cache = build_cache(App.create(), clock)
    load = Loader([market()])
    await cache.fetch(kinds.MARKETS, "open", load)
    clock.advance(timedelta(seconds=4.9))
    await cache.fetch(kinds.MARKETS, "open", load)
    assert load.calls == 1
    clock.advance(timedelta(seconds=0.1))  # markets_ttl_seconds = 5 of trading time
    await cache.fetch(kinds.MARKETS, "open", load)
    assert load.calls == 2


def test_unknown_backend_names_what_is_installed() -> None:
    with pytest.raises(
        PluginError, match=r"no cache backend named 'memcached' is installed \(installed: memory"
    ):
        cache_from_section({"backend": "memcached"}, App.create().registry("cache_backends"))


@pytest.mark.redis
async def test_redis_backend_gets_a_memory_fallback_and_shares_the_rate_budget() -> None:
    url = redis_url()
    namespace = f"kc-wiring-{uuid.uuid4().hex[:8]}"
    redis_backend(url, namespace)  # skips (fails on CI) without the plugin
    from kalshi_plugin_redis.plugin import redis_cache  # noqa: PLC0415

    registry: Registry[object] = Registry("cache backend")
    registry.add("redis", redis_cache, "redis")
    section = {"backend": "redis", "url": url, "namespace": namespace, "max_entries": 50}
    cache = cache_from_section(section, registry)
    client = KalshiClient("http://127.0.0.1:1/trade-api/v2")
    try:
        assert cache.backends.primary.shared
        assert cache.backends.fallback is not None
        assert cache.backends.fallback.cache.max_entries == 50
        assert share_rate_budget(cache, client)
        limiter = client.transport.rate_limiter
        assert isinstance(limiter, RateLimiter)
        assert type(limiter.read).__name__ == "SharedTokenBucket"
        assert limiter.read.key == f"{namespace}:ratelimit:read"  # type: ignore[attr-defined]
        assert await client.transport.rate_limiter.acquire_read() == 0.0
    finally:
        await client.aclose()
        await cache.backends.primary.cache.clear(namespace=namespace)
        await cache.close()


def test_memory_backend_has_no_shared_rate_budget() -> None:
    cache = build_cache(App.create())
    client = KalshiClient("http://127.0.0.1:1/trade-api/v2")
    assert not share_rate_budget(cache, client)


async def test_readiness_names_the_cache_when_its_shared_backend_is_down() -> None:
    """Redis down: the cache still answers from memory, but /readyz says the workers no longer
    share one view; memory alone is always ready."""
    down = redis_backend("redis://127.0.0.1:1/0", "kc-ready", timeout_seconds=0.5)
    cache = shared_cache(down)
    engine = SimpleNamespace(gateway=None, database=None)
    with pytest.raises(cache.backends.primary.outage_errors):
        await probes(engine, cache)["cache"]()
    assert await cache.fetch(kinds.MARKETS, "open", _no_markets) == []  # served from memory
    assert cache.backends.degraded
    await probes(engine, shared_cache(LruMemoryCache(10)))["cache"]()
    await cache.close()


async def _no_markets() -> list[Market]:
    return []
