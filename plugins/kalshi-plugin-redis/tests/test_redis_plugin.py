"""The plugin is discovered through its entry point, really talks to Redis, and shares one
rate budget between workers."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator
from importlib.metadata import entry_points

import pluggy
import pytest
from kalshi_plugin_redis.plugin import SharedRedisCache, redis_cache, redis_options
from kalshi_plugin_redis.ratelimit import SharedTokenBucket

from kalshi_core import hookspecs
from kalshi_core.cache.stats import CacheStats
from kalshi_core.client.ratelimit import TokenBucket
from kalshi_core.errors import ConfigError

SKIP_REASON = "KALSHI_TEST_REDIS_URL not set: Redis tests need a server (.ci/services.sh start)"


def redis_url() -> str:
    url = os.environ.get("KALSHI_TEST_REDIS_URL", "")
    if url:
        return url
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("KALSHI_TEST_REDIS_URL is not set but CI=true: start .ci/services.sh")
    pytest.skip(SKIP_REASON)


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def installed_backends() -> dict[str, object]:
    """Backends registered by this distribution's own ``kalshi_core`` entry point."""
    [entry] = [e for e in entry_points(group="kalshi_core") if e.name == "redis"]
    assert entry.dist is not None
    assert entry.dist.name == "kalshi-plugin-redis"
    manager = pluggy.PluginManager("kalshi_core")
    manager.add_hookspecs(hookspecs)
    manager.register(entry.load(), name=entry.name)
    backends: dict[str, object] = {}
    manager.hook.register_cache_backends(register=backends.setdefault)
    return backends


@pytest.fixture
async def cache() -> AsyncIterator[SharedRedisCache]:
    namespace = f"kc-plugin-{uuid.uuid4().hex[:12]}"
    made = redis_cache({"url": redis_url(), "namespace": namespace})
    yield made
    await made.clear(namespace=namespace)
    await made.close()


def test_entry_point_registers_the_redis_backend() -> None:
    assert installed_backends() == {"redis": redis_cache}


def test_url_parts_reach_the_client() -> None:
    assert redis_options("rediss://:s3cret@cache.example:6380/3") == {
        "endpoint": "cache.example",
        "port": 6380,
        "db": 3,
        "password": "s3cret",
        "ssl": True,
    }
    made = redis_cache({"url": "redis://127.0.0.1", "namespace": "kc", "timeout_seconds": 0.5})
    assert (made.endpoint, made.port, made.db, made.timeout) == ("127.0.0.1", 6379, 0, 0.5)
    assert made.shared is True


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "cache.url is empty"),
        ("http://:topsecret@h/0", "'http://:\\*\\*\\*@h/0' is not a redis:// or rediss:// URL"),
        ("redis://:topsecret@h/zero", "the database must be a number, got 'zero'"),
        ("redis://:topsecret@h:notaport/0", "is not a valid URL"),
    ],
)
def test_bad_urls_are_config_errors_without_the_password(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        redis_cache({"url": url})
    assert "topsecret" not in str(raised.value)


async def test_values_round_trip_with_ttl_and_close_warns_nothing(
    cache: SharedRedisCache,
) -> None:
    # pyproject's filterwarnings = error: aiocache's own close() would fail this test
    await cache.set("k", '{"a":1}', ttl=30.0)
    await cache.set("whole-seconds", "x", ttl=30)
    assert await cache.get("k") == '{"a":1}'
    ttl_ms = await cache.client.pttl(cache.build_key("whole-seconds"))
    assert 0 < ttl_ms <= 30_000
    await cache.add("lock", "token-a", ttl=10.0)
    with pytest.raises(ValueError, match="already exists"):
        await cache.add("lock", "token-b", ttl=10.0)
    assert await cache._redlock_release(cache.build_key("lock"), "token-b") == 0
    assert await cache._redlock_release(cache.build_key("lock"), "token-a") == 1


async def test_workers_share_one_token_bucket(cache: SharedRedisCache) -> None:
    stats = CacheStats()
    worker_a = cache.token_bucket("read", TokenBucket(10, 10), stats)
    worker_b = cache.token_bucket("read", TokenBucket(10, 10), stats)
    waits_a = [await worker_a._take(1) for _ in range(10)]
    assert waits_a == [0.0] * 10  # the first worker spends the whole second's budget
    wait_b = await worker_b._take(1)
    assert 0.05 < wait_b <= 0.1  # the second worker now waits for a refill
    assert stats.backend_errors == 0


async def test_bucket_falls_back_to_its_own_budget_when_redis_is_down() -> None:
    unreachable = redis_cache(
        {"url": f"redis://127.0.0.1:{closed_port()}/0", "timeout_seconds": 0.5}
    )
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    local = TokenBucket(2, 2, clock=lambda: 0.0, sleep=sleep)
    stats = CacheStats()
    bucket: SharedTokenBucket = unreachable.token_bucket("write", local, stats)
    try:
        assert [await bucket.acquire(1) for _ in range(3)] == [0.0, 0.0, 0.5]
        assert slept == [0.5]
        assert stats.backend_errors == 1  # one failed try; then the local bucket until retry
    finally:
        await unreachable.close()
