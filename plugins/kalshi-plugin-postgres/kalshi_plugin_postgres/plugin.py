"""Registers the ``postgresql+asyncpg`` storage backend with kalshi-core.

The engine uses a queue pool sized by the ``database`` settings section (``pool_size``,
``max_overflow``, ``pool_timeout``), checks connections before use, and applies
``statement_cache_size`` to both asyncpg's and SQLAlchemy's prepared-statement caches so that
``0`` works behind pgbouncer in transaction mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from kalshi_core.errors import ConfigError
from kalshi_core.hookspecs import hookimpl
from kalshi_core.storage.settings import safe_url, validate_section

SCHEME = "postgresql+asyncpg"


class PostgresBackend:
    """Creates pooled asyncpg engines from validated ``database`` settings."""

    name = "postgresql"

    def create_engine(self, url: str, section: Mapping[str, Any]) -> AsyncEngine:
        values = validate_section(section)
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise ConfigError("database.url is not a valid SQLAlchemy URL") from None
        if parsed.drivername != SCHEME:
            raise ConfigError(f"database.url {safe_url(parsed)!r} is not a {SCHEME} URL")
        cache_size = int(values["statement_cache_size"])
        parsed = parsed.update_query_dict({"prepared_statement_cache_size": str(cache_size)})
        return create_async_engine(
            parsed,
            echo=bool(values["echo"]),
            pool_size=int(values["pool_size"]),
            max_overflow=int(values["max_overflow"]),
            pool_timeout=float(values["pool_timeout"]),
            pool_pre_ping=True,
            connect_args={"statement_cache_size": cache_size},
        )


def postgres_backend(section: Mapping[str, Any]) -> PostgresBackend:
    """Factory handed to ``register_storage_backends``."""
    return PostgresBackend()


@hookimpl
def register_storage_backends(register: Any) -> None:
    register(SCHEME, postgres_backend)
