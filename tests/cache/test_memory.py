"""The built-in memory backend: bounded, least recently used first, TTLs on a fake clock."""

from __future__ import annotations

import pytest

from kalshi_core.app import App
from kalshi_core.cache.memory import LruMemoryCache
from kalshi_core.errors import ConfigError
from tests.cache.conftest import FakeMonotonic


async def test_least_recently_used_entry_goes_first() -> None:
    cache = LruMemoryCache(2)
    await cache.set("a", 1)
    await cache.set("b", 2)
    assert await cache.get("a") == 1  # "a" is now the most recently used
    await cache.set("c", 3)
    assert await cache.get("b") is None
    assert (await cache.get("a"), await cache.get("c")) == (1, 3)
    assert len(cache) == 2


async def test_entries_expire_on_the_injected_clock_only() -> None:
    clock = FakeMonotonic()
    cache = LruMemoryCache(10, clock=clock)
    await cache.set("book", {"yes": []}, ttl=2.0)
    await cache.set("forever", "x")
    clock.now += 1.999
    assert await cache.get("book") == {"yes": []}
    clock.now += 0.001
    assert await cache.get("book") is None
    assert await cache.get("forever") == "x"
    assert len(cache) == 1


async def test_add_is_a_lock_released_only_by_its_owner() -> None:
    clock = FakeMonotonic()
    cache = LruMemoryCache(10, clock=clock)
    await cache.add("lock", "token-a", ttl=10.0)
    with pytest.raises(ValueError, match="already exists"):
        await cache.add("lock", "token-b", ttl=10.0)
    assert await cache._redlock_release("lock", "token-b") == 0
    assert await cache.exists("lock")
    assert await cache._redlock_release("lock", "token-a") == 1
    await cache.add("lock", "token-b", ttl=10.0)
    clock.now += 10.0  # a lease that runs out frees the lock
    await cache.add("lock", "token-c", ttl=10.0)


async def test_increment_keeps_integers_and_refuses_text() -> None:
    cache = LruMemoryCache(10)
    assert await cache.increment("n", 2) == 2
    assert await cache.increment("n", 3) == 5
    await cache.set("word", "abc")
    with pytest.raises(TypeError, match="not an integer"):
        await cache.increment("word", 1)


def test_a_cache_of_no_entries_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"cache\.max_entries must be at least 1, got 0"):
        LruMemoryCache(0)


async def test_builtin_memory_backend_is_bounded_by_settings() -> None:
    app = App.create()
    cache = app.registry("cache_backends").create("memory", {"max_entries": 3, "namespace": "kc"})
    assert isinstance(cache, LruMemoryCache)
    for n in range(5):
        await cache.set(f"k{n}", n)
    assert [await cache.get(f"k{n}") for n in range(5)] == [None, None, 2, 3, 4]
    assert cache.build_key("k1") == "kc:k1"
