"""Backend selection, settings validation, SQLite pragmas and the UTC time column."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pluggy
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from kalshi_core import hookspecs
from kalshi_core.builtin import sqlite_storage
from kalshi_core.builtin.sqlite_storage import SQLiteBackend, sqlite_backend
from kalshi_core.errors import ConfigError, StorageError
from kalshi_core.storage.database import Database, open_engine
from kalshi_core.storage.settings import (
    DATABASE_DEFAULTS,
    default_database_path,
    resolve_url,
    safe_url,
    validate_section,
)
from kalshi_core.storage.types import from_micros, to_micros

SQLITE_ONLY = {"sqlite+aiosqlite": sqlite_backend}


def test_sqlite_plugin_registers_its_backend_and_the_database_section() -> None:
    manager = pluggy.PluginManager("kalshi_core")
    manager.add_hookspecs(hookspecs)
    manager.register(sqlite_storage)
    backends: dict[str, object] = {}
    sections: dict[str, tuple[dict[str, object], list[object]]] = {}
    manager.hook.register_storage_backends(register=backends.setdefault)
    manager.hook.register_settings(register=lambda s, d, r: sections.setdefault(s, (d, r)))
    assert backends == {"sqlite+aiosqlite": sqlite_backend}
    defaults, rules = sections["database"]
    assert defaults == DATABASE_DEFAULTS
    assert {r.key for r in rules} == {f"database.{k}" for k in DATABASE_DEFAULTS}


async def test_unknown_scheme_lists_installed_backends_and_names_the_plugin() -> None:
    url = "postgresql+asyncpg://trader:s3cret-pw@127.0.0.1:1/kalshi"
    with pytest.raises(ConfigError) as raised:
        await Database.open(url, SQLITE_ONLY, {})
    message = str(raised.value)
    assert "no storage backend for scheme 'postgresql+asyncpg'" in message
    assert "installed: sqlite+aiosqlite" in message
    assert "pip install ./plugins/kalshi-plugin-postgres` (from a kalshi-core checkout)" in message
    assert "s3cret-pw" not in message
    assert "trader:***@127.0.0.1" in message


async def test_unknown_scheme_without_a_known_plugin() -> None:
    with pytest.raises(ConfigError, match=r"scheme 'mysql\+aiomysql' \(installed: none\)$"):
        open_engine("mysql+aiomysql://u@h/db", {}, {})


class PlainPostgresBackend:
    """The least a backend can be: a bare asyncpg engine (the plugin is tested on its own)."""

    name = "plain-postgres"

    def create_engine(self, url: str, section: Mapping[str, Any]) -> AsyncEngine:
        return create_async_engine(url)


async def test_unreachable_database_error_hides_the_password() -> None:
    pytest.importorskip("asyncpg")
    backends = {"postgresql+asyncpg": lambda section: PlainPostgresBackend()}
    url = "postgresql+asyncpg://trader:s3cret-pw@127.0.0.1:1/kalshi"
    with pytest.raises(StorageError) as raised:
        await Database.open(url, backends, {})
    message = str(raised.value)
    assert message.startswith(
        "cannot connect to database postgresql+asyncpg://trader:***@127.0.0.1:1/kalshi: "
    )
    assert "s3cret-pw" not in message


def test_malformed_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not a valid SQLAlchemy URL"):
        resolve_url("::not a url::")


def test_empty_url_means_the_default_file_in_the_user_data_directory() -> None:
    url = resolve_url("")
    assert url.drivername == "sqlite+aiosqlite"
    assert url.database == str(default_database_path())
    assert default_database_path().name == "kalshi-core.sqlite3"
    assert "kalshi-core" in default_database_path().parent.parts[-1]
    assert resolve_url("sqlite:///x.db").drivername == "sqlite+aiosqlite"


def test_safe_url_masks_passwords() -> None:
    assert safe_url("postgresql+asyncpg://u:pw@h/db") == "postgresql+asyncpg://u:***@h/db"
    assert safe_url("::bad::") == "<unparseable database URL>"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("pool_size", 0, "database.pool_size = 0 is out of range"),
        ("pool_size", 101, "is out of range"),
        ("pool_size", True, "has the wrong type bool"),
        ("max_overflow", -1, "is out of range"),
        ("pool_timeout", 0, "above 0"),
        ("pool_timeout", 601.0, "at most 600"),
        ("statement_cache_size", 10001, "is out of range"),
        ("statement_cache_size", "100", "has the wrong type str"),
        ("echo", "yes", "has the wrong type str"),
        ("url", 5, "database.url = <hidden> has the wrong type int"),
    ],
)
def test_settings_are_validated(key: str, value: object, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected.replace("+", r"\+")):
        validate_section({key: value})


def test_valid_section_fills_defaults() -> None:
    values = validate_section({"pool_size": 7, "pool_timeout": 2})
    assert values == {**DATABASE_DEFAULTS, "pool_size": 7, "pool_timeout": 2}


class BoxLike:
    """Dynaconf boxes expose keys as attributes and through ``get``."""

    def __init__(self, **values: object) -> None:
        self.__dict__.update(values)

    def get(self, key: str, default: object = None) -> object:
        return self.__dict__.get(key, default)


def test_a_dynaconf_like_section_is_read_too() -> None:
    assert validate_section(BoxLike(pool_size=9))["pool_size"] == 9


async def test_sqlite_connections_get_wal_and_pragmas(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'dir' / 'db.sqlite3'}"
    engine = SQLiteBackend().create_engine(url, {"pool_timeout": 2.5})
    try:
        async with engine.connect() as connection:
            values = [
                (await connection.execute(text(f"PRAGMA {name}"))).scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            ]
    finally:
        await engine.dispose()
    assert values == ["wal", 1, 2500, 1]  # synchronous 1 == NORMAL


def test_sqlite_backend_refuses_other_urls() -> None:
    with pytest.raises(ConfigError, match="is not a sqlite\\+aiosqlite URL"):
        SQLiteBackend().create_engine("postgresql+asyncpg://u:pw@h/db", {})


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 1),
        max_value=datetime(2200, 1, 1),
        timezones=st.timezones(),
    )
)
def test_microsecond_encoding_is_exact_for_any_aware_time(value: datetime) -> None:
    decoded = from_micros(to_micros(value))
    # compare in UTC: Python never equates a DST-gap local time with any other zone's time
    assert decoded == value.astimezone(UTC)
    assert decoded.tzinfo is UTC


@given(st.datetimes(timezones=st.just(UTC)), st.datetimes(timezones=st.just(UTC)))
def test_microsecond_encoding_preserves_order(a: datetime, b: datetime) -> None:
    assert (to_micros(a) < to_micros(b)) == (a < b)
