"""Cache fixtures: every behaviour test runs on the memory backend and on a real Redis.

Redis tests need ``KALSHI_TEST_REDIS_URL`` (a throwaway server); without it they are skipped
with that reason, except on CI (``CI=true``) where a missing server is a failure, as the
PostgreSQL tests do (``tests/storage/conftest.py``). Each test uses its own key namespace
and removes its keys afterwards, so a shared server stays clean.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from kalshi_core.cache.memory import LruMemoryCache
from kalshi_core.cache.stats import CacheStats
from kalshi_core.cache.store import Backends, SharedCache, Tier

REDIS_ENV = "KALSHI_TEST_REDIS_URL"
SKIP_REASON = "KALSHI_TEST_REDIS_URL not set: Redis tests need a server (.ci/services.sh start)"
TTLS = {
    "markets": 60.0,
    "market": 60.0,
    "orderbook": 60.0,
    "series": 600.0,
    "event": 600.0,
    "status": 60.0,
    "forecast": 600.0,
}


def redis_url() -> str:
    """The test server's URL; skips the test (fails it on CI) when there is none."""
    url = os.environ.get(REDIS_ENV, "")
    if url:
        return url
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{REDIS_ENV} is not set but CI=true: start .ci/services.sh first")
    pytest.skip(SKIP_REASON)


class FakeMonotonic:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def redis_backend(url: str, namespace: str, **section: Any) -> Any:
    """The kalshi-plugin-redis backend (tox env ``plugin-redis`` installs it)."""
    try:
        from kalshi_plugin_redis.plugin import redis_cache  # noqa: PLC0415
    except ImportError:
        # not a gap on CI: the core envs lack the plugin; tox -e plugin-redis runs these
        pytest.skip("kalshi-plugin-redis is not installed: tox -e plugin-redis runs these tests")
    return redis_cache({"url": url, "namespace": namespace, **section})


def shared_cache(
    primary: Any, *, clock: Callable[[], float] | None = None, **options: Any
) -> SharedCache:
    """A SharedCache over ``primary``; a shared primary gets a memory fallback."""
    shared = bool(getattr(primary, "shared", False))
    monotonic = clock or FakeMonotonic()
    fallback = Tier(LruMemoryCache(1000, clock=monotonic), shared=False) if shared else None
    backends = Backends(
        Tier(primary, shared=shared),
        fallback,
        CacheStats(),
        retry_seconds=options.pop("retry_seconds", 5.0),
        clock=monotonic,
    )
    return SharedCache(backends, {**TTLS, **options.pop("ttls", {})}, **options)


@pytest.fixture
def namespace() -> str:
    return f"kc-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=["memory", "redis"])
def backend_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make_primary(backend_kind: str, namespace: str) -> AsyncIterator[Callable[[], Any]]:
    """Makes primary backends of the parametrized kind that see one another's keys (one
    memory cache for every "worker"; one Redis namespace)."""
    made: list[Any] = []
    memory = LruMemoryCache(1000, namespace=namespace)
    url = redis_url() if backend_kind == "redis" else ""

    def make() -> Any:
        backend = redis_backend(url, namespace) if url else memory
        made.append(backend)
        return backend

    yield make
    if url:
        cleaner = redis_backend(url, namespace)
        await cleaner.clear(namespace=namespace)
        await cleaner.close()
        for backend in made:
            await backend.close()


@pytest.fixture
async def own_postgres_url() -> AsyncIterator[str]:
    """A migrated database of this test's own on the test PostgreSQL server, dropped after:
    other suites may be resetting the server's default database at the same time."""
    pytest.importorskip("asyncpg")
    from sqlalchemy import text  # noqa: PLC0415
    from sqlalchemy.engine import make_url  # noqa: PLC0415
    from sqlalchemy.ext.asyncio import create_async_engine  # noqa: PLC0415

    from kalshi_core.storage import migrate  # noqa: PLC0415
    from tests.multiworker.support import open_database  # noqa: PLC0415
    from tests.storage.conftest import postgres_url  # noqa: PLC0415

    server = make_url(postgres_url())
    name = f"kc_cache_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    database = open_database(url)
    try:
        await migrate.upgrade(database.engine)
    finally:
        await database.close()
    yield url
    async with admin.connect() as connection:
        await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    await admin.dispose()
