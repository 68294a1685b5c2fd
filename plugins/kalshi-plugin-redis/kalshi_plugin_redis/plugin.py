"""Registers the ``redis`` cache backend with kalshi-core.

Set ``cache.backend = "redis"`` and ``cache.url = "redis://host:6379/0"``. Values are JSON
text (kalshi-core's codec, never pickle) under ``cache.namespace``; refresh locks are
``SET NX`` entries with a lease; the API rate budget lives in one token bucket per
namespace. When Redis is unreachable kalshi-core serves from memory and comes back to Redis
by itself (docs/cache.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

import redis.asyncio
import redis.exceptions
from aiocache import RedisCache
from aiocache.serializers import StringSerializer

from kalshi_core.cache.stats import CacheStats
from kalshi_core.client.ratelimit import TokenBucket
from kalshi_core.errors import ConfigError
from kalshi_core.hookspecs import hookimpl
from kalshi_plugin_redis.ratelimit import SharedTokenBucket

SCHEMES = ("redis", "rediss")
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.BusyLoadingError,
    OSError,
    asyncio.TimeoutError,
)


class SharedRedisCache(RedisCache):  # type: ignore[misc]  # aiocache ships no type hints
    """aiocache's Redis cache, marked shared, closed the way redis-py 5+ wants."""

    shared = True
    outage_errors = OUTAGE_ERRORS

    async def _close(self, *args: Any, _conn: Any = None, **kwargs: Any) -> None:
        # aiocache 0.12.3 calls Redis.close(), deprecated since redis-py 5.0.1 (a
        # DeprecationWarning on every shutdown); aclose() is the same call without it.
        await self.client.aclose()

    async def _set(
        self, key: str, value: Any, ttl: Any = None, _cas_token: Any = None, _conn: Any = None
    ) -> Any:
        # aiocache sends SETEX for whole-second TTLs, deprecated in redis-py (a warning);
        # SET with PX is the same command Redis recommends.
        if _cas_token is not None or ttl is None:
            return await super()._set(key, value, ttl=ttl, _cas_token=_cas_token, _conn=_conn)
        return await self.client.set(key, value, px=max(1, int(float(ttl) * 1000)))

    def token_bucket(self, name: str, local: TokenBucket, stats: CacheStats) -> SharedTokenBucket:
        """A bucket of ``local``'s rate and capacity kept in Redis for every worker."""
        key = self.build_key(f"ratelimit:{name}")
        return SharedTokenBucket(self.client, key, local, stats, outage_errors=OUTAGE_ERRORS)


def safe_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def _db(path: str, url: str) -> int:
    text = path.strip("/") or "0"
    if not text.isdigit():
        raise ConfigError(
            f"cache.url {safe_url(url)!r}: the database must be a number, got {text!r}"
        )
    return int(text)


def redis_options(url: str) -> dict[str, Any]:
    """aiocache ``RedisCache`` arguments from ``redis[s]://[:password@]host[:port][/db]``."""
    if not url:
        raise ConfigError('cache.backend is "redis" but cache.url is empty (redis://host:6379/0)')
    try:
        parts = urlsplit(url)
        port = parts.port or 6379
    except ValueError as exc:
        raise ConfigError(f"cache.url {safe_url(url)!r} is not a valid URL: {exc}") from None
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ConfigError(f"cache.url {safe_url(url)!r} is not a redis:// or rediss:// URL")
    return {
        "endpoint": parts.hostname,
        "port": port,
        "db": _db(parts.path, url),
        "password": unquote(parts.password) if parts.password else None,
        "ssl": parts.scheme == "rediss",
    }


def redis_cache(section: Mapping[str, Any]) -> SharedRedisCache:
    """Factory handed to ``register_cache_backends``: the ``[cache]`` section's Redis."""
    timeout = float(section.get("timeout_seconds", 5))
    return SharedRedisCache(
        serializer=StringSerializer(),
        namespace=str(section.get("namespace", "kalshi_core")),
        timeout=timeout,
        create_connection_timeout=timeout,
        connection_pool_kwargs={"socket_timeout": timeout},
        **redis_options(str(section.get("url", ""))),
    )


@hookimpl
def register_cache_backends(register: Any) -> None:
    register("redis", redis_cache)
