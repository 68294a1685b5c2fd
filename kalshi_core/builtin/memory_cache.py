"""Built-in cache backend ``memory``: a bounded LRU in this process (docs/cache.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kalshi_core.cache.memory import LruMemoryCache
from kalshi_core.hookspecs import hookimpl


def make_memory_cache(section: Mapping[str, Any]) -> LruMemoryCache:
    """At most ``cache.max_entries`` values; each kind's TTL comes from its own setting."""
    return LruMemoryCache(
        int(section.get("max_entries", 100_000)),
        namespace=str(section.get("namespace", "kalshi_core")),
    )


@hookimpl
def register_cache_backends(register: Any) -> None:
    register("memory", make_memory_cache)
