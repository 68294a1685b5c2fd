"""One API rate budget for every worker: a token bucket kept in Redis.

The refill arithmetic is :class:`kalshi_core.client.ratelimit.TokenBucket`'s, run atomically
in a Lua script on Redis's own clock (``TIME``), so workers on different hosts need no clock
agreement. While Redis is unreachable each worker falls back to its local bucket.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from kalshi_core.cache.stats import CacheStats
from kalshi_core.client.ratelimit import TokenBucket

log = logging.getLogger(__name__)

# KEYS[1] bucket; ARGV rate, capacity, cost. Returns the seconds to wait, as text (Lua
# numbers would be truncated to integers on the way back).
TAKE_SCRIPT = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1]) or capacity
local updated = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - updated) * rate) - cost
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 60)
if tokens >= 0 then return '0' end
return tostring(-tokens / rate)
"""


class SharedTokenBucket(TokenBucket):
    """``local``'s rate and capacity, shared through Redis key ``key``."""

    def __init__(
        self,
        client: Any,
        key: str,
        local: TokenBucket,
        stats: CacheStats,
        *,
        outage_errors: tuple[type[BaseException], ...],
        retry_seconds: float = 5.0,
    ) -> None:
        super().__init__(local.rate, local.capacity)
        self.client = client
        self.key = key
        self.local = local
        self.stats = stats
        self.outage_errors = outage_errors
        self.retry_seconds = retry_seconds
        self._retry_at: float | None = None

    async def _take(self, cost: float) -> float:
        reply = await self.client.eval(TAKE_SCRIPT, 1, self.key, self.rate, self.capacity, cost)
        return float(reply)

    async def acquire(self, cost: float = 1) -> float:
        if cost < 0:
            raise ValueError(f"token cost must not be negative, got {cost}")
        if self._retry_at is not None and time.monotonic() < self._retry_at:
            return await self.local.acquire(cost)
        try:
            delay = await self._take(cost)
        except self.outage_errors as exc:
            self._went_down(exc)
            return await self.local.acquire(cost)
        if self._retry_at is not None:
            self._retry_at = None
            log.warning("rate bucket %s is back on Redis", self.key)
        if delay > 0:
            self.waited_seconds += delay
            await asyncio.sleep(delay)
        return delay

    def _went_down(self, exc: BaseException) -> None:
        self.stats.backend_errors += 1
        if self._retry_at is None:
            log.warning(
                "rate bucket %s: Redis unreachable (%s); using this worker's own budget",
                self.key,
                type(exc).__name__,
            )
        self._retry_at = time.monotonic() + self.retry_seconds
