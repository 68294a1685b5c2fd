"""Fixtures for the multi-worker tests: a trader API key and migrated databases.

PostgreSQL follows the storage tests' rule (``tests/storage/conftest.py``): it needs
``KALSHI_TEST_POSTGRES_URL``; without it the test is skipped, except on CI (``CI=true``) where
it fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kalshi_core.storage import migrate
from tests.multiworker.support import ApiKey, generate_key, open_database, reset_postgres
from tests.storage.conftest import postgres_url


async def migrated(url: str) -> str:
    database = open_database(url)
    try:
        await migrate.upgrade(database.engine)
    finally:
        await database.close()
    return url


async def empty_postgres() -> str:
    pytest.importorskip("asyncpg")
    url = postgres_url()
    await reset_postgres(url)
    return url


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a freshly migrated database, SQLite file or PostgreSQL."""
    if request.param == "sqlite":
        return await migrated(f"sqlite+aiosqlite:///{tmp_path / 'multiworker.sqlite3'}")
    return await migrated(await empty_postgres())


@pytest.fixture
async def postgres_database_url() -> str:
    """A freshly migrated PostgreSQL database (skipped without a server, failed on CI)."""
    return await migrated(await empty_postgres())


@pytest.fixture
def trader_key(tmp_path: Path) -> ApiKey:
    return generate_key(tmp_path)
