"""Degrade, don't die: Redis stops mid-run, the cache serves from memory (logged once,
counted), and comes back to Redis by itself when Redis returns."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kalshi_core.cache import kinds
from kalshi_core.models import Market
from tests.cache.conftest import FakeMonotonic, redis_backend, shared_cache
from tests.cache.redis_server import own_redis
from tests.cache.test_store import Loader, market

pytestmark = pytest.mark.redis

UNREACHABLE = "cache backend redis is unreachable"


async def test_redis_outage_falls_back_to_memory_and_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="kalshi_core.cache")
    clock = FakeMonotonic()
    async with own_redis(tmp_path) as server:
        primary = redis_backend(server.url, "kc-outage", timeout_seconds=1)
        cache = shared_cache(primary, clock=clock, retry_seconds=5.0)
        load = Loader([market("A-1")])
        try:
            assert await cache.fetch(kinds.MARKETS, "open", load) == [market("A-1")]
            assert load.calls == 1

            await server.stop()
            for _ in range(3):  # the first read fails over; the next ones are memory hits
                assert await cache.fetch(kinds.MARKETS, "open", load) == [market("A-1")]
            assert load.calls == 2
            assert cache.backends.degraded
            assert (cache.stats.fallbacks, cache.stats.recoveries) == (1, 0)
            assert cache.stats.backend_errors >= 1
            assert caplog.text.count(UNREACHABLE) == 1

            clock.now += 5.0  # retry time: Redis is still down, tried once more, not logged
            await cache.fetch(kinds.MARKETS, "open", load)
            assert caplog.text.count(UNREACHABLE) == 1
            assert cache.stats.fallbacks == 1

            await server.start()
            clock.now += 5.0
            fresh: Loader = Loader([market("A-1", bid=4500)])
            got: list[Market] = await cache.fetch(kinds.MARKETS, "open", fresh)
            assert got[0].yes_bid == 4500  # the restarted Redis is empty: loaded once
            assert not cache.backends.degraded
            assert cache.stats.recoveries == 1
            assert "cache backend redis is back" in caplog.text

            other_worker = shared_cache(redis_backend(server.url, "kc-outage"), clock=clock)
            never = Loader([market("NEVER-1")])
            assert await other_worker.fetch(kinds.MARKETS, "open", never) == got
            assert never.calls == 0
            await other_worker.close()
        finally:
            await cache.close()
