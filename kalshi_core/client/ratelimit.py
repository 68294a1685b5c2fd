"""Token-bucket rate limiting with Kalshi's separate read and write budgets.

Each bucket refills at ``rate`` tokens per second up to ``capacity``. :meth:`TokenBucket.acquire`
reserves tokens at once (the balance may go negative) and then sleeps for the time the debt
takes to refill, so concurrent callers queue in arrival order without a lock. The clock and
the sleep function are injected: tests drive the arithmetic with a fake monotonic clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import attrs

from kalshi_core.errors import ConfigError

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@attrs.frozen
class Tier:
    """Requests per second allowed for reads and for writes."""

    name: str
    read_rps: float
    write_rps: float


TIERS: dict[str, Tier] = {
    tier.name: tier
    for tier in (
        Tier("basic", 20, 10),
        Tier("advanced", 30, 30),
        Tier("premier", 100, 100),
        Tier("prime", 400, 400),
    )
}


class TokenBucket:
    """``rate`` tokens per second, holding at most ``capacity`` (default: one second's worth)."""

    def __init__(
        self,
        rate: float,
        capacity: float | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ConfigError(f"token bucket rate must be positive, got {rate}")
        self.rate = float(rate)
        self.capacity = float(capacity if capacity is not None else rate)
        if self.capacity <= 0:
            raise ConfigError(f"token bucket capacity must be positive, got {capacity}")
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.capacity
        self._updated = clock()
        self.waited_seconds = 0.0

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
        self._updated = now

    @property
    def tokens(self) -> float:
        """Tokens available now (negative while callers are waiting on reserved debt)."""
        self._refill()
        return self._tokens

    def reserve(self, cost: float = 1) -> float:
        """Take ``cost`` tokens now; return how many seconds the caller must wait first."""
        if cost < 0:
            raise ValueError(f"token cost must not be negative, got {cost}")
        self._refill()
        self._tokens -= cost
        return max(0.0, -self._tokens / self.rate)

    async def acquire(self, cost: float = 1) -> float:
        """Wait until ``cost`` tokens are ours; return the seconds waited."""
        delay = self.reserve(cost)
        if delay > 0:
            self.waited_seconds += delay
            await self._sleep(delay)
        return delay


class RateLimiter:
    """A read bucket and a write bucket."""

    def __init__(self, read: TokenBucket, write: TokenBucket) -> None:
        self.read = read
        self.write = write

    @classmethod
    def for_rates(
        cls,
        read_rps: float,
        write_rps: float,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> RateLimiter:
        return cls(
            TokenBucket(read_rps, clock=clock, sleep=sleep),
            TokenBucket(write_rps, clock=clock, sleep=sleep),
        )

    @classmethod
    def for_tier(
        cls, tier: str, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> RateLimiter:
        try:
            preset = TIERS[tier.lower()]
        except KeyError:
            known = ", ".join(TIERS)
            raise ConfigError(f"unknown Kalshi rate-limit tier {tier!r}; known: {known}") from None
        return cls.for_rates(preset.read_rps, preset.write_rps, clock=clock, sleep=sleep)

    @classmethod
    def unthrottled(cls) -> RateLimiter:
        """For a venue with no limits of its own (the local exchange): never waits."""
        return cls.for_rates(1e12, 1e12)

    async def acquire_read(self, cost: float = 1) -> float:
        return await self.read.acquire(cost)

    async def acquire_write(self, cost: float = 1) -> float:
        return await self.write.acquire(cost)
