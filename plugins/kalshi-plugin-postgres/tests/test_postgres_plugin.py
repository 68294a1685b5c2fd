"""The plugin is discovered through its entry point and its engine really connects."""

from __future__ import annotations

import os
from importlib.metadata import entry_points

import pluggy
import pytest
from kalshi_plugin_postgres.plugin import SCHEME, PostgresBackend, postgres_backend
from sqlalchemy import text

from kalshi_core import hookspecs
from kalshi_core.errors import ConfigError
from kalshi_core.storage import migrate
from kalshi_core.storage.database import Database

SKIP_REASON = (
    "KALSHI_TEST_POSTGRES_URL not set: PostgreSQL tests need a server (.ci/services.sh start)"
)


def postgres_url() -> str:
    url = os.environ.get("KALSHI_TEST_POSTGRES_URL", "")
    if url:
        return url
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("KALSHI_TEST_POSTGRES_URL is not set but CI=true: start .ci/services.sh")
    pytest.skip(SKIP_REASON)


def installed_backends() -> dict[str, object]:
    """Backends registered by this distribution's own ``kalshi_core`` entry point."""
    [entry] = [e for e in entry_points(group="kalshi_core") if e.name == "postgres"]
    assert entry.dist is not None
    assert entry.dist.name == "kalshi-plugin-postgres"
    manager = pluggy.PluginManager("kalshi_core")
    manager.add_hookspecs(hookspecs)
    manager.register(entry.load(), name=entry.name)
    backends: dict[str, object] = {}
    manager.hook.register_storage_backends(register=backends.setdefault)
    return backends


def test_entry_point_registers_the_asyncpg_backend() -> None:
    assert installed_backends() == {"postgresql+asyncpg": postgres_backend}
    assert SCHEME == "postgresql+asyncpg"


async def test_pool_settings_reach_the_engine() -> None:
    section = {"pool_size": 3, "max_overflow": 4, "pool_timeout": 2.5, "statement_cache_size": 0}
    engine = PostgresBackend().create_engine("postgresql+asyncpg://u:pw@127.0.0.1/db", section)
    try:
        assert engine.pool.size() == 3  # type: ignore[attr-defined]
        assert engine.pool._max_overflow == 4  # type: ignore[attr-defined]
        assert engine.pool._timeout == 2.5  # type: ignore[attr-defined]
        assert engine.url.query["prepared_statement_cache_size"] == "0"
        assert "pw" not in repr(engine)
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"pool_size": 0}, "database.pool_size = 0 is out of range"),
        ({"max_overflow": 101}, "database.max_overflow = 101 is out of range"),
        ({"pool_timeout": 0}, "database.pool_timeout = 0 is out of range"),
        ({"statement_cache_size": -1}, "database.statement_cache_size = -1 is out of range"),
    ],
)
def test_bad_pool_settings_are_config_errors(section: dict[str, int], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        PostgresBackend().create_engine("postgresql+asyncpg://u@127.0.0.1/db", section)


def test_other_schemes_are_refused_without_showing_the_password() -> None:
    with pytest.raises(ConfigError) as raised:
        PostgresBackend().create_engine("postgresql+psycopg://u:topsecret@h/db", {})
    assert "postgresql+psycopg://u:***@h/db" in str(raised.value)
    assert "topsecret" not in str(raised.value)


async def test_engine_connects_and_migrates() -> None:
    url = postgres_url()
    backends = installed_backends()
    db = await Database.open(url, backends, {"statement_cache_size": 0}, check=False)  # type: ignore[arg-type]
    try:
        async with db.engine.connect() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar() == 1
            assert connection.dialect.name == "postgresql"
        await migrate.upgrade(db.engine)
        await migrate.check_schema(db.engine)
        await migrate.downgrade(db.engine, "base")
    finally:
        await db.close()
