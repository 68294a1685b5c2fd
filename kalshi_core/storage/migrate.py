"""Alembic, configured in code: upgrade, downgrade, current, history and the start-up check.

The migration scripts ship inside the package (``kalshi_core/storage/migrations``), so no
``alembic.ini`` is needed at run time. Every function takes the async engine the application
already has; Alembic runs on its connection through ``run_sync``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from kalshi_core.errors import StorageError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic ``Config`` pointing at the packaged scripts (and a live connection)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The revision this version of kalshi-core needs."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise StorageError(f"no migration scripts found in {MIGRATIONS_DIR}")
    return head


def history() -> list[str]:
    """One line per revision, newest first: ``<rev> (<down_rev>): <message>``."""
    scripts = ScriptDirectory.from_config(alembic_config())
    return [
        f"{script.revision} ({script.down_revision or 'base'}): {script.doc}"
        for script in scripts.walk_revisions()
    ]


def _run(connection: Connection, action: str, revision: str) -> None:
    config = alembic_config(connection)
    try:
        if action == "upgrade":
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)
    except CommandError as error:
        raise StorageError(f"cannot {action} the database to {revision!r}: {error}") from None


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Migrate the database up to ``revision`` (the newest by default)."""
    async with engine.begin() as connection:
        await connection.run_sync(_run, "upgrade", revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Migrate the database down to ``revision`` (``base`` removes every table)."""
    async with engine.begin() as connection:
        await connection.run_sync(_run, "downgrade", revision)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current(engine: AsyncEngine) -> str | None:
    """The revision the database is at; ``None`` for a database never migrated."""
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


async def check_schema(engine: AsyncEngine) -> None:
    """Raise :class:`StorageError` unless the database is at the revision this code needs."""
    needed = head_revision()
    found = await current(engine)
    if found != needed:
        shown: Any = found or "none (empty database)"
        raise StorageError(
            f"database schema is at revision {shown}, this version needs {needed}: "
            "run `kalshi-core db upgrade`"
        )
