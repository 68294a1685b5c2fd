"""The built-in ``memory`` backend: a bounded, least-recently-used aiocache cache.

aiocache's own ``SimpleMemoryCache`` grows without bound and expires entries with event-loop
timers. This one holds at most ``max_entries`` (the least recently used entry goes first) and
checks expiry against an injected monotonic clock when an entry is read, so tests move time
by hand and a long run keeps no timer per key. Values are kept as the objects given (the
cached domain types are frozen attrs classes), so a memory hit costs no decoding.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from aiocache.base import BaseCache
from aiocache.serializers import NullSerializer

from kalshi_core.errors import ConfigError

Monotonic = Callable[[], float]
_ABSENT = object()


class LruMemoryCache(BaseCache):  # type: ignore[misc]  # aiocache ships no type hints
    """At most ``max_entries`` values, each until its TTL runs out on ``clock``."""

    NAME = "memory"
    #: A memory cache never goes away; see :class:`kalshi_core.cache.store.Tier`.
    outage_errors: tuple[type[BaseException], ...] = ()

    def __init__(
        self, max_entries: int = 10_000, *, clock: Monotonic = time.monotonic, **kwargs: Any
    ) -> None:
        if max_entries < 1:
            raise ConfigError(f"cache.max_entries must be at least 1, got {max_entries}")
        kwargs.setdefault("serializer", NullSerializer())
        super().__init__(**kwargs)
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[Any, float | None]] = OrderedDict()

    def use_clock(self, clock: Monotonic) -> None:
        """Measure TTLs on ``clock`` from now on (the engine's trading clock)."""
        self._clock = clock

    def _build_key(self, key: str, namespace: str | None = None) -> str:
        prefix = self.namespace if namespace is None else namespace
        return f"{prefix}:{key}" if prefix else key  # as aiocache's Redis cache builds keys

    def __len__(self) -> int:
        return len(self._entries)

    def _live(self, key: str) -> Any:
        entry = self._entries.get(key)
        if entry is None:
            return _ABSENT
        value, expires = entry
        if expires is not None and self._clock() >= expires:
            del self._entries[key]
            return _ABSENT
        self._entries.move_to_end(key)
        return value

    def _store(self, key: str, value: Any, ttl: float | None) -> None:
        expires = self._clock() + ttl if ttl else None
        self._entries[key] = (value, expires)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def _get(self, key: str, encoding: str = "utf-8", _conn: Any = None) -> Any:
        value = self._live(key)
        return None if value is _ABSENT else value

    async def _gets(self, key: str, encoding: str = "utf-8", _conn: Any = None) -> Any:
        return await self._get(key)

    async def _multi_get(
        self, keys: Iterable[str], encoding: str = "utf-8", _conn: Any = None
    ) -> Any:
        return [await self._get(key) for key in keys]

    async def _set(
        self,
        key: str,
        value: Any,
        ttl: float | None = None,
        _cas_token: Any = None,
        _conn: Any = None,
    ) -> bool:
        if _cas_token is not None and _cas_token != await self._get(key):
            return False
        self._store(key, value, ttl)
        return True

    async def _multi_set(
        self, pairs: Iterable[tuple[str, Any]], ttl: float | None = None, _conn: Any = None
    ) -> bool:
        for key, value in pairs:
            self._store(key, value, ttl)
        return True

    async def _add(self, key: str, value: Any, ttl: float | None = None, _conn: Any = None) -> bool:
        if self._live(key) is not _ABSENT:
            raise ValueError(f"Key {key} already exists, use .set to update the value")
        self._store(key, value, ttl)
        return True

    async def _exists(self, key: str, _conn: Any = None) -> bool:
        return self._live(key) is not _ABSENT

    async def _increment(self, key: str, delta: int, _conn: Any = None) -> int:
        current = self._live(key)
        try:
            value = delta if current is _ABSENT else int(current) + delta
        except (TypeError, ValueError):
            raise TypeError("Value is not an integer") from None
        expires = None if current is _ABSENT else self._entries[key][1]
        self._entries[key] = (value, expires)
        return value

    async def _expire(self, key: str, ttl: float, _conn: Any = None) -> bool:
        value = self._live(key)
        if value is _ABSENT:
            return False
        self._store(key, value, ttl or None)
        return True

    async def _delete(self, key: str, _conn: Any = None) -> int:
        return 1 if self._entries.pop(key, None) is not None else 0

    async def _clear(self, namespace: str | None = None, _conn: Any = None) -> bool:
        if namespace:
            for key in [k for k in self._entries if k.startswith(namespace)]:
                del self._entries[key]
        else:
            self._entries.clear()
        return True

    async def _raw(
        self, command: str, *args: Any, encoding: str = "utf-8", _conn: Any = None, **kwargs: Any
    ) -> Any:
        raise NotImplementedError(f"the memory cache has no raw command {command!r}")

    async def _redlock_release(self, key: str, value: Any) -> int:
        """Delete ``key`` only while it still holds ``value`` (a lock's owner token)."""
        if self._live(key) == value:
            del self._entries[key]
            return 1
        return 0

    async def _close(self, *args: Any, _conn: Any = None, **kwargs: Any) -> None:
        self._entries.clear()
