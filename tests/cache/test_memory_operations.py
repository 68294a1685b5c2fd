"""The memory backend through aiocache's whole public API: what each operation does to the
entries, their expiry on the injected clock and their least-recently-used order, and the
refusals (a second add, a non-integer increment, a raw command)."""

from __future__ import annotations

import pytest

from kalshi_core.cache.memory import LruMemoryCache


class Ticks:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
def cache(ticks: Ticks) -> LruMemoryCache:
    return LruMemoryCache(3, clock=ticks)


async def test_multi_set_and_multi_get_keep_the_objects_and_report_misses(
    cache: LruMemoryCache,
) -> None:
    book = {"yes": [(4200, 5)]}
    assert await cache.multi_set([("a", book), ("b", 2)]) is True
    values = await cache.multi_get(["a", "missing", "b"])
    assert values == [book, None, 2]
    assert values[0] is book  # no encoding round trip


async def test_a_second_add_is_refused_and_leaves_the_first_value(cache: LruMemoryCache) -> None:
    assert await cache.add("k", "first") is True
    with pytest.raises(ValueError, match="already exists"):
        await cache.add("k", "second")
    assert await cache.get("k") == "first"


async def test_add_succeeds_again_once_the_entry_expired(
    cache: LruMemoryCache, ticks: Ticks
) -> None:
    await cache.add("k", "first", ttl=5)
    ticks.now += 5
    assert await cache.exists("k") is False
    assert await cache.add("k", "second") is True
    assert await cache.get("k") == "second"


async def test_increment_counts_from_the_delta_and_keeps_the_expiry(
    cache: LruMemoryCache, ticks: Ticks
) -> None:
    assert await cache.increment("n", 3) == 3
    await cache.set("m", 10, ttl=10)
    assert await cache.increment("m", -4) == 6
    ticks.now += 10
    assert await cache.get("m") is None  # the increment did not extend the TTL


async def test_increment_of_a_non_integer_is_a_type_error_and_changes_nothing(
    cache: LruMemoryCache,
) -> None:
    await cache.set("text", "abc")
    with pytest.raises(TypeError, match="not an integer"):
        await cache.increment("text", 1)
    assert await cache.get("text") == "abc"


async def test_expire_sets_a_new_ttl_or_removes_it_and_misses_absent_keys(
    cache: LruMemoryCache, ticks: Ticks
) -> None:
    await cache.set("a", 1)
    await cache.set("b", 2, ttl=3)
    assert await cache.expire("a", 5) is True
    assert await cache.expire("b", 0) is True  # 0: no expiry any more
    assert await cache.expire("absent", 5) is False
    ticks.now += 5
    assert await cache.multi_get(["a", "b"]) == [None, 2]


async def test_delete_reports_whether_it_removed_something(cache: LruMemoryCache) -> None:
    await cache.set("a", 1)
    assert await cache.delete("a") == 1
    assert await cache.delete("a") == 0
    assert await cache.exists("a") is False


async def test_clear_of_a_namespace_keeps_the_others(cache: LruMemoryCache) -> None:
    await cache.set("a", 1, namespace="book")
    await cache.set("b", 2, namespace="market")
    assert await cache.clear(namespace="book") is True
    assert await cache.get("a", namespace="book") is None
    assert await cache.get("b", namespace="market") == 2
    assert await cache.clear() is True
    assert len(cache) == 0


async def test_a_read_makes_an_entry_recent_so_the_oldest_unread_goes_first(
    cache: LruMemoryCache,
) -> None:
    await cache.multi_set([("a", 1), ("b", 2), ("c", 3)])
    assert await cache.get("a") == 1  # "b" is now the least recently used
    await cache.set("d", 4)
    assert await cache.multi_get(["a", "b", "c", "d"]) == [1, None, 3, 4]
    assert len(cache) == 3


async def test_a_compare_and_set_with_a_stale_token_is_refused(cache: LruMemoryCache) -> None:
    await cache.set("k", "v1")
    assert await cache.set("k", "v2", _cas_token="stale") is False
    assert await cache.get("k") == "v1"
    assert await cache.set("k", "v2", _cas_token="v1") is True
    assert await cache.get("k") == "v2"


async def test_raw_commands_are_refused_by_name(cache: LruMemoryCache) -> None:
    with pytest.raises(NotImplementedError, match="'keys'"):
        await cache.raw("keys", "*")
