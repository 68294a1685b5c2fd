"""Built-in cache backend ``memory``: aiocache's in-process cache."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiocache import SimpleMemoryCache

from kalshi_core.hookspecs import hookimpl


def make_memory_cache(section: Mapping[str, Any]) -> Any:
    """An in-process cache; entries expire after ``cache.ttl_seconds``."""
    ttl = section.get("ttl_seconds") or None
    return SimpleMemoryCache(ttl=ttl, namespace="kalshi_core")


@hookimpl
def register_cache_backends(register: Any) -> None:
    register("memory", make_memory_cache)
