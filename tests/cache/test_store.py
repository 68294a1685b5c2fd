"""Cache-aside reads, one refresh per key across workers, TTLs, invalidation, bad entries:
each on the memory backend and on a real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from kalshi_core.cache import kinds
from kalshi_core.cache.codec import model_codec
from kalshi_core.cache.memory import LruMemoryCache
from kalshi_core.cache.store import Kind, SharedCache
from kalshi_core.models import Forecast, Market, MarketStatus
from tests.cache.conftest import FakeMonotonic, shared_cache

pytestmark = pytest.mark.redis


def market(ticker: str = "KXTEST-26JAN02-A", bid: int = 4000) -> Market:
    return Market(
        ticker=ticker,
        event_ticker=ticker.rsplit("-", 1)[0],
        status=MarketStatus.ACTIVE,
        title="A test market",
        yes_bid=bid,
        yes_ask=bid + 300,
        open_time=datetime(2026, 1, 1, 21, tzinfo=UTC),
        close_time=datetime(2026, 1, 2, 21, tzinfo=UTC),
    )


class Loader:
    """Counts its calls; optionally holds each call until ``release`` is set."""

    def __init__(self, value: Any, *, hold: bool = False) -> None:
        self.value = value
        self.calls = 0
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        if not hold:
            self.release.set()

    async def __call__(self) -> Any:
        self.calls += 1
        self.started.set()
        await self.release.wait()
        return self.value


async def test_second_read_is_a_hit_and_returns_equal_markets(
    make_primary: Callable[[], Any],
) -> None:
    cache = shared_cache(make_primary())
    load = Loader([market("A-1"), market("A-2", bid=4213)])
    first = await cache.fetch(kinds.MARKETS, "open", load)
    second = await cache.fetch(kinds.MARKETS, "open", load)
    assert first == second == load.value
    assert load.calls == 1
    assert (cache.stats.hits["markets"], cache.stats.misses["markets"]) == (1, 1)
    assert cache.stats.hit_rate() == 0.5
    assert cache.stats.snapshot()["loads.markets"] == 1.0


async def test_concurrent_reads_in_one_worker_load_once(make_primary: Callable[[], Any]) -> None:
    cache = shared_cache(make_primary())
    load = Loader([market()], hold=True)
    readers = [asyncio.create_task(cache.fetch(kinds.MARKETS, "open", load)) for _ in range(10)]
    await load.started.wait()
    load.release.set()
    results = await asyncio.gather(*readers)
    assert load.calls == 1
    assert all(r == [market()] for r in results)


async def test_two_workers_share_one_refresh(make_primary: Callable[[], Any]) -> None:
    """Worker B finds worker A's refresh lock and reads A's value instead of the venue."""
    b_waiting = asyncio.Event()
    polls = 0

    async def b_sleep(delay: float) -> None:
        nonlocal polls
        polls += 1
        b_waiting.set()
        await asyncio.sleep(0)

    worker_a = shared_cache(make_primary())
    worker_b = shared_cache(make_primary(), sleep=b_sleep)
    load_a, load_b = Loader([market()], hold=True), Loader([market("NEVER-1")])
    task_a = asyncio.create_task(worker_a.fetch(kinds.MARKETS, "open", load_a))
    await load_a.started.wait()
    task_b = asyncio.create_task(worker_b.fetch(kinds.MARKETS, "open", load_b))
    await b_waiting.wait()
    load_a.release.set()
    assert await task_a == await task_b == [market()]
    assert (load_a.calls, load_b.calls) == (1, 0)
    assert worker_b.stats.waits["markets"] == 1
    assert worker_b.stats.hits["markets"] == 1
    assert polls >= 1


async def test_a_failed_refresh_frees_the_lock_for_the_next_reader(
    make_primary: Callable[[], Any],
) -> None:
    cache = shared_cache(make_primary())

    async def broken() -> list[Market]:
        raise ConnectionResetError("venue dropped the connection")

    with pytest.raises(ConnectionResetError, match="venue dropped"):
        await cache.fetch(kinds.MARKETS, "open", broken)
    other = shared_cache(make_primary())
    assert await other.fetch(kinds.MARKETS, "open", Loader([market()])) == [market()]


async def test_ttl_zero_means_never_cached(make_primary: Callable[[], Any]) -> None:
    cache = shared_cache(make_primary(), ttls={"orderbook": 0})
    load = Loader("book")
    await cache.fetch(kinds.ORDERBOOK, "T", load)
    await cache.fetch(kinds.ORDERBOOK, "T", load)
    assert load.calls == 2
    assert cache.stats.lookups("orderbook") == 0
    assert cache.stats.loads["orderbook"] == 2


async def test_invalidated_key_is_loaded_again_by_every_worker(
    make_primary: Callable[[], Any],
) -> None:
    worker_a, worker_b = shared_cache(make_primary()), shared_cache(make_primary())
    await worker_a.fetch(kinds.MARKET, "A-1", Loader(market("A-1")))
    worker_a.invalidate_later(["market:A-1"])
    await worker_a.apply_invalidations()
    fresh = Loader(market("A-1", bid=4500))
    assert (await worker_b.fetch(kinds.MARKET, "A-1", fresh)).yes_bid == 4500
    assert fresh.calls == 1
    assert worker_a.stats.invalidations["market"] == 1


async def test_forecast_round_trips_with_its_time(make_primary: Callable[[], Any]) -> None:
    cache = shared_cache(make_primary())
    made = Forecast(
        ticker="A-1",
        probability=3500,
        model="good",
        created_time=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        confidence=7000,
        reasoning="cold front",
        prompt_hash="abc",
        cost=37,
    )
    await cache.put(kinds.FORECAST, "A-1|40|llm|v1", made)
    other = shared_cache(make_primary())
    assert await other.get(kinds.FORECAST, "A-1|40|llm|v1") == made
    assert await other.get(kinds.FORECAST, "A-1|41|llm|v1") is None
    assert (other.stats.hits["forecast"], other.stats.misses["forecast"]) == (1, 1)


async def test_unreadable_entry_is_dropped_and_reloaded(
    make_primary: Callable[[], Any], backend_kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    if backend_kind == "memory":
        pytest.skip("the memory backend holds objects, never text")
    primary = make_primary()
    await primary.set("markets:open", '[{"ticker": 5}]', ttl=60)
    cache = shared_cache(primary)
    load = Loader([market()])
    assert await cache.fetch(kinds.MARKETS, "open", load) == [market()]
    assert load.calls == 1
    assert "dropping unreadable cache entry markets:open" in caplog.text
    assert await cache.fetch(kinds.MARKETS, "open", load) == [market()]
    assert load.calls == 1


async def test_values_are_json_text_on_redis_never_pickle(
    make_primary: Callable[[], Any], backend_kind: str
) -> None:
    if backend_kind == "memory":
        pytest.skip("only a shared backend stores text")
    primary = make_primary()
    cache: SharedCache = shared_cache(primary)
    await cache.fetch(kinds.MARKETS, "open", Loader([market(bid=4213)]))
    raw = await primary.get("markets:open")
    assert raw.startswith('[{"ticker":"KXTEST-26JAN02-A"')
    assert '"yes_bid_dollars":"0.4213"' in raw


async def test_a_kind_without_a_ttl_of_its_own_uses_the_default(
    make_primary: Callable[[], Any],
) -> None:
    custom = Kind("candles", model_codec(Market))
    cache = shared_cache(make_primary(), ttls={"*": 30.0})
    load = Loader(market())
    await cache.fetch(custom, "A-1", load)
    assert await cache.fetch(custom, "A-1", load) == market()
    assert load.calls == 1
    assert cache.ttl(custom) == 30.0
    assert shared_cache(make_primary()).ttl(custom) == 0.0  # no default: not cached


async def test_a_crashed_refresher_holds_the_others_off_only_for_its_lease() -> None:
    clock = FakeMonotonic()
    primary = LruMemoryCache(100, clock=clock)
    crashed = shared_cache(primary, clock=clock)
    await crashed.backends.primary.try_lock("lock:markets:open", "dead-worker", 10.0)
    polls = 0

    async def sleep(delay: float) -> None:
        nonlocal polls
        polls += 1
        clock.now += 1.0  # each poll waits a second of the lease away

    survivor = shared_cache(primary, clock=clock, sleep=sleep, lease_seconds=10.0)
    load = Loader([market()])
    assert await survivor.fetch(kinds.MARKETS, "open", load) == [market()]
    assert load.calls == 1
    assert polls == 10
