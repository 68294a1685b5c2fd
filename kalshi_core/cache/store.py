"""The cache the engine uses: cache-aside reads with one refresh per key at a time, over a
primary backend (``memory``, or a shared one such as Redis) and a memory fallback.

* **Cache-aside**: :meth:`SharedCache.fetch` returns the cached value or calls ``load`` once,
  stores the result for the kind's TTL and returns it.
* **Stampede protection**: within a process one coroutine per key loads (an asyncio lock);
  across processes the loader holds a lock entry (``SET NX`` with a lease on Redis). The
  others wait for its value, so N workers cost about one worker's reads. A lease that runs
  out (a crashed loader) lets the next reader load.
* **Degrade, don't die**: when the shared backend fails with one of its ``outage_errors``
  the cache logs once, counts it, and serves from memory; it tries the shared backend again
  every ``retry_seconds`` and logs when it is back.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar

import attrs

from kalshi_core.cache.codec import Codec
from kalshi_core.cache.stats import CacheStats
from kalshi_core.errors import WireFormatError

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")
Monotonic = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
DEFAULT_OUTAGE_ERRORS: tuple[type[BaseException], ...] = (OSError, TimeoutError)
_POLL_FIRST, _POLL_MAX = 0.005, 0.1


class _Missing:
    """Marks "no value in the cache" (``None`` is never cached)."""


MISSING = _Missing()


@attrs.frozen
class Kind(Generic[T]):
    """One kind of cached value: its key prefix (also its stats label) and its codec."""

    name: str
    codec: Codec[T]


@attrs.define
class Tier:
    """One backend (an aiocache cache). A ``shared`` tier holds JSON text that other
    processes read; a memory tier holds the objects themselves."""

    cache: Any
    shared: bool

    @property
    def name(self) -> str:
        return str(getattr(self.cache, "NAME", type(self.cache).__name__))

    @property
    def outage_errors(self) -> tuple[type[BaseException], ...]:
        errors = getattr(self.cache, "outage_errors", DEFAULT_OUTAGE_ERRORS)
        return tuple(errors)

    async def read(self, kind: Kind[T], key: str) -> T | _Missing:
        raw = await self.cache.get(key)
        if raw is None:
            return MISSING
        if not self.shared:
            return raw  # type: ignore[no-any-return]
        try:
            return kind.codec.loads(raw, key)
        except WireFormatError as exc:
            log.warning("dropping unreadable cache entry %s: %s", key, exc)
            await self.cache.delete(key)
            return MISSING

    async def write(self, kind: Kind[T], key: str, value: T, ttl: float) -> None:
        stored = kind.codec.dumps(value) if self.shared else value
        await self.cache.set(key, stored, ttl=float(ttl))

    async def delete(self, key: str) -> None:
        await self.cache.delete(key)

    async def exists(self, key: str) -> bool:
        return bool(await self.cache.exists(key))

    async def try_lock(self, key: str, token: str, lease: float) -> bool:
        try:
            await self.cache.add(key, token, ttl=float(lease))
        except ValueError:  # aiocache's "key already exists"
            return False
        return True

    async def unlock(self, key: str, token: str) -> None:
        await self.cache._redlock_release(self.cache.build_key(key), token)


@attrs.define
class Backends:
    """The primary tier, and the memory tier used while a shared primary is unreachable."""

    primary: Tier
    fallback: Tier | None
    stats: CacheStats
    retry_seconds: float = 5.0
    clock: Monotonic = time.monotonic
    _retry_at: float | None = None

    @property
    def degraded(self) -> bool:
        return self._retry_at is not None

    def _tier(self) -> Tier:
        if self.fallback is None or self._retry_at is None or self.clock() >= self._retry_at:
            return self.primary
        return self.fallback

    async def run(self, op: Callable[[Tier], Awaitable[R]]) -> R:
        tier = self._tier()
        if tier is not self.primary or self.fallback is None:
            return await op(tier)
        try:
            result = await op(self.primary)
        except self.primary.outage_errors as exc:
            self._went_down(exc)
            return await op(self.fallback)
        if self._retry_at is not None:
            self._retry_at = None
            self.stats.recoveries += 1
            log.warning("cache backend %s is back; shared caching resumes", self.primary.name)
        return result

    def _went_down(self, exc: BaseException) -> None:
        self.stats.backend_errors += 1
        if self._retry_at is None:
            self.stats.fallbacks += 1
            log.warning(
                "cache backend %s is unreachable (%s: %s); using memory, retrying every %gs",
                self.primary.name,
                type(exc).__name__,
                exc,
                self.retry_seconds,
            )
        self._retry_at = self.clock() + self.retry_seconds

    async def close(self) -> None:
        for tier in (self.primary, self.fallback):
            if tier is not None:
                await tier.cache.close()


@attrs.define
class SharedCache:
    """Cache-aside reads by kind, with per-kind TTLs (``ttls[kind.name]``, 0 = not cached)."""

    backends: Backends
    ttls: Mapping[str, float]
    lease_seconds: float = 10.0
    sleep: Sleep = asyncio.sleep
    timer: Monotonic = time.perf_counter
    _locks: dict[str, asyncio.Lock] = attrs.field(factory=dict)
    _stale: set[str] = attrs.field(factory=set)

    @property
    def stats(self) -> CacheStats:
        return self.backends.stats

    def ttl(self, kind: Kind[Any]) -> float:
        """The kind's TTL; a kind without one of its own gets ``ttls["*"]`` (or 0)."""
        return float(self.ttls.get(kind.name, self.ttls.get("*", 0)))

    async def get(self, kind: Kind[T], key: str) -> T | None:
        """The cached value, counted as a hit or a miss; ``None`` when absent."""
        started = self.timer()
        await self.apply_invalidations()
        value = await self.backends.run(lambda tier: tier.read(kind, f"{kind.name}:{key}"))
        found = not isinstance(value, _Missing)
        self.stats.record(kind.name, hit=found, seconds=self.timer() - started)
        return None if isinstance(value, _Missing) else value

    async def put(self, kind: Kind[T], key: str, value: T) -> None:
        ttl = self.ttl(kind)
        if ttl > 0:
            await self.backends.run(lambda tier: tier.write(kind, f"{kind.name}:{key}", value, ttl))

    async def fetch(self, kind: Kind[T], key: str, load: Callable[[], Awaitable[T]]) -> T:
        """The cached value, or ``load()``'s (stored for the kind's TTL); one load per key at
        a time across every worker sharing the backend."""
        if self.ttl(kind) <= 0:
            self.stats.loads[kind.name] += 1
            return await load()
        started = self.timer()
        await self.apply_invalidations()
        full = f"{kind.name}:{key}"
        cached = await self.backends.run(lambda tier: tier.read(kind, full))
        if isinstance(cached, _Missing):
            async with self._locks.setdefault(full, asyncio.Lock()):
                value, hit = await self._read_or_refresh(kind, full, load)
        else:
            value, hit = cached, True
        self.stats.record(kind.name, hit=hit, seconds=self.timer() - started)
        return value

    async def _read_or_refresh(
        self, kind: Kind[T], full: str, load: Callable[[], Awaitable[T]]
    ) -> tuple[T, bool]:
        value = await self.backends.run(lambda tier: tier.read(kind, full))
        if not isinstance(value, _Missing):
            return value, True  # refreshed by a coroutine of this process meanwhile
        lock_key, token = f"lock:{full}", uuid.uuid4().hex
        if await self.backends.run(lambda t: t.try_lock(lock_key, token, self.lease_seconds)):
            try:
                value = await self.backends.run(lambda tier: tier.read(kind, full))
                if not isinstance(value, _Missing):
                    return value, True
                return await self._load(kind, full, load), False
            finally:
                await self.backends.run(lambda tier: tier.unlock(lock_key, token))
        value = await self._wait_for_other(kind, full, lock_key)
        if not isinstance(value, _Missing):
            self.stats.waits[kind.name] += 1
            return value, True
        return await self._load(kind, full, load), False

    async def _load(self, kind: Kind[T], full: str, load: Callable[[], Awaitable[T]]) -> T:
        value = await load()
        self.stats.loads[kind.name] += 1
        if value is not None:  # "not there" is asked again, never cached
            ttl = self.ttl(kind)
            await self.backends.run(lambda tier: tier.write(kind, full, value, ttl))
        return value

    async def _wait_for_other(self, kind: Kind[T], full: str, lock_key: str) -> T | _Missing:
        """Another worker holds the refresh lock: poll for its value until the lock goes
        (loaded, failed, or its lease ran out)."""
        delay = _POLL_FIRST
        while True:
            await self.sleep(delay)
            value = await self.backends.run(lambda tier: tier.read(kind, full))
            if not isinstance(value, _Missing):
                return value
            if not await self.backends.run(lambda tier: tier.exists(lock_key)):
                # the holder may have written its value just before letting go of the lock
                return await self.backends.run(lambda tier: tier.read(kind, full))
            delay = min(delay * 2, _POLL_MAX)

    async def invalidate(self, kind: Kind[Any], key: str) -> None:
        self.stats.invalidations[kind.name] += 1
        await self.backends.run(lambda tier: tier.delete(f"{kind.name}:{key}"))

    def invalidate_later(self, keys: Iterable[str]) -> None:
        """Note full keys (``kind:key``) to drop before the next read: signal handlers are
        synchronous, the backend is not."""
        self._stale.update(keys)

    async def apply_invalidations(self) -> None:
        while self._stale:
            full = self._stale.pop()
            self.stats.invalidations[full.split(":", 1)[0]] += 1
            await self.backends.run(lambda tier, full=full: tier.delete(full))  # type: ignore[misc]

    async def close(self) -> None:
        await self.backends.close()
