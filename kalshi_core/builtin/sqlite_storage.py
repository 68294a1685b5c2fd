"""Built-in storage backend: SQLite through aiosqlite, and the ``database`` settings section.

One file (by default ``kalshi-core.sqlite3`` in the user data directory) in WAL mode, so
readers never block the writer, with foreign keys enforced, a busy timeout instead of instant
"database is locked" errors, and ``synchronous=NORMAL`` (durable at checkpoints, safe against
corruption in WAL mode, much faster than FULL).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from kalshi_core.errors import ConfigError
from kalshi_core.hookspecs import hookimpl
from kalshi_core.storage.settings import (
    DATABASE_DEFAULTS,
    DATABASE_RULES,
    SECTION,
    safe_url,
    validate_section,
)

SCHEME = "sqlite+aiosqlite"


def _pragmas(busy_timeout_ms: int) -> tuple[str, ...]:
    # busy_timeout first: switching a new file to WAL takes a lock another process may hold.
    return (
        f"PRAGMA busy_timeout={busy_timeout_ms}",
        "PRAGMA journal_mode=WAL",
        "PRAGMA foreign_keys=ON",
        "PRAGMA synchronous=NORMAL",
    )


def create_private_file(path: Path) -> None:
    """Create the database file readable by its owner only (0600) before SQLite opens it;
    SQLite gives its -wal and -shm files the database file's mode. An existing file is left
    as its owner set it."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return


class SQLiteBackend:
    """Creates the aiosqlite engine; every new connection gets the pragmas above."""

    name = "sqlite"

    def create_engine(self, url: str, section: Mapping[str, Any]) -> AsyncEngine:
        values = validate_section(section)
        parsed = make_url(url)
        if parsed.drivername != SCHEME:
            raise ConfigError(f"database.url {safe_url(parsed)!r} is not a {SCHEME} URL")
        in_memory = parsed.database in (None, "", ":memory:")
        if not in_memory:
            create_private_file(Path(str(parsed.database)).expanduser())
        engine = create_async_engine(parsed, echo=values["echo"])
        pragmas = _pragmas(int(values["pool_timeout"] * 1000))

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            for pragma in pragmas:
                cursor.execute(pragma)
            cursor.close()

        return engine


def sqlite_backend(section: Mapping[str, Any]) -> SQLiteBackend:
    """Factory handed to ``register_storage_backends``."""
    return SQLiteBackend()


@hookimpl
def register_storage_backends(register: Any) -> None:
    register(SCHEME, sqlite_backend)


@hookimpl
def register_settings(register: Any) -> None:
    register(SECTION, dict(DATABASE_DEFAULTS), list(DATABASE_RULES))
