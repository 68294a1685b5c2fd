"""The ``database`` settings section: defaults, rules and the helpers that read it.

The section is shared by every storage backend (SQLite built in, PostgreSQL as a plugin), so
the pool and timeout keys are defined here once and each backend validates them again when it
builds its engine. Code reading the section accepts a Dynaconf box or any plain ``Mapping``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from kalshi_core.errors import ConfigError
from kalshi_core.settings_rules import Rule

SECTION = "database"
APP_NAME = "kalshi-core"
DEFAULT_FILENAME = "kalshi-core.sqlite3"

DATABASE_DEFAULTS: dict[str, Any] = {
    "url": "",
    "echo": False,
    "pool_size": 5,
    "max_overflow": 10,
    "pool_timeout": 30.0,
    "statement_cache_size": 100,
}

DATABASE_RULES: list[Rule] = [
    Rule(
        key="database.url",
        types=(str,),
        secret=True,
        description="SQLAlchemy URL (sqlite+aiosqlite:///path, postgresql+asyncpg://...); "
        "empty means kalshi-core.sqlite3 in the user data directory",
    ),
    Rule(key="database.echo", types=(bool,), description="log every SQL statement"),
    Rule(
        key="database.pool_size",
        types=(int,),
        minimum=1,
        maximum=100,
        description="connections kept open in the pool",
    ),
    Rule(
        key="database.max_overflow",
        types=(int,),
        minimum=0,
        maximum=100,
        description="extra connections allowed above pool_size under load",
    ),
    Rule(
        key="database.pool_timeout",
        types=(int, float),
        minimum=0,
        exclusive_minimum=True,
        maximum=600,
        description="seconds to wait for a pooled connection (SQLite: for a locked database)",
    ),
    Rule(
        key="database.statement_cache_size",
        types=(int,),
        minimum=0,
        maximum=10000,
        description="prepared statements cached per connection (0 disables; needed behind "
        "pgbouncer in transaction mode)",
    ),
]


def section_get(section: Mapping[str, Any] | Any, key: str) -> Any:
    """Read ``key`` from a Dynaconf box or a plain mapping, falling back to the default."""
    getter = getattr(section, "get", None)
    value = getter(key) if callable(getter) else None
    if value is None:
        value = getattr(section, key, None)
    return DATABASE_DEFAULTS.get(key) if value is None else value


def validate_section(section: Mapping[str, Any] | Any) -> dict[str, Any]:
    """Check every key of the section against its rule; return the values with defaults filled.

    Raises :class:`ConfigError` naming the key, the value (never the URL's password) and
    what is allowed.
    """
    values: dict[str, Any] = {}
    for rule in DATABASE_RULES:
        name = rule.key.removeprefix(f"{SECTION}.")
        value = section_get(section, name)
        problem = rule.problem(value)
        if problem is not None:
            shown = "<hidden>" if rule.secret else repr(value)
            raise ConfigError(f"{rule.key} = {shown} {problem}: expected {rule.allowed()}")
        values[name] = value
    return values


def default_database_path() -> Path:
    """``<user data dir>/kalshi-core/kalshi-core.sqlite3`` (the directory is not created)."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / DEFAULT_FILENAME


def resolve_url(raw: str) -> URL:
    """Parse ``database.url``; the empty string means the default SQLite file.

    A bare ``sqlite://`` scheme is given the built-in async driver. The returned URL may carry
    a password: show it only through ``render_as_string(hide_password=True)``.
    """
    if not raw:
        return URL.create("sqlite+aiosqlite", database=str(default_database_path()))
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(
            "database.url is not a valid SQLAlchemy URL (expected e.g. "
            "sqlite+aiosqlite:///path/to/file.sqlite3 or postgresql+asyncpg://user@host/db)"
        ) from None
    if url.drivername == "sqlite":
        url = url.set(drivername="sqlite+aiosqlite")
    return url


def safe_url(url: URL | str) -> str:
    """The URL as text with any password masked, for messages and logs."""
    if isinstance(url, str):
        try:
            url = make_url(url)
        except ArgumentError:
            return "<unparseable database URL>"
    return url.render_as_string(hide_password=True)
