"""Alembic, configured in code: upgrade, downgrade, current, history and the start-up check.

The migration scripts ship inside the package (``kalshi_core/storage/migrations``), so no
``alembic.ini`` is needed at run time. Every function takes the async engine the application
already has; Alembic runs on its connection through ``run_sync``.

Upgrade, stamp and downgrade run in one transaction that first takes the database's migration
lock (SQLite: the write lock, by ``BEGIN IMMEDIATE``; PostgreSQL: a transaction-level advisory
lock), so processes starting together on a new database migrate one after the other: the
later ones read the revision the first one committed and have nothing left to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from kalshi_core import __version__
from kalshi_core.errors import StorageError
from kalshi_core.storage.schema import TABLE_NAMES
from kalshi_core.storage.settings import safe_url

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

#: How long a process waits for another one's migration (or long write) to finish before it
#: gives up: long enough for a slow migration of a big database, unlike the busy timeout.
MIGRATION_LOCK_SECONDS = 600.0

#: The PostgreSQL advisory lock key every kalshi-core migration takes (any fixed 64-bit number
#: other programs on the server are unlikely to use; this one spells "kalshimg").
ADVISORY_LOCK_KEY = 0x6B616C7368696D67


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


def known_revisions() -> set[str]:
    """Every revision this version of kalshi-core ships a script for."""
    return {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }


def newer_database(found: str) -> StorageError:
    return StorageError(
        f"the database is at schema revision {found}, which kalshi-core {__version__} does not "
        f"know (its newest is {head_revision()}): it was written by a newer kalshi-core; "
        "install the kalshi-core that wrote it (or a newer one) or point database.url at another "
        "database"
    )


def unrecorded_schema(tables: list[str]) -> StorageError:
    return StorageError(
        f"the database has kalshi-core tables ({', '.join(tables[:3])}"
        f"{', ...' if len(tables) > 3 else ''}) but no schema revision in alembic_version: "
        "if this kalshi-core version created them run `kalshi-core db stamp head`, "
        "otherwise point database.url at a new database and run `kalshi-core db upgrade`"
    )


def _our_tables(connection: Connection) -> list[str]:
    present = set(inspect(connection).get_table_names())
    return [name for name in TABLE_NAMES if name in present]


def _preflight(connection: Connection) -> str | None:
    """The current revision, after refusing states Alembic would meet with a traceback."""
    found = _current(connection)
    if found is not None and found not in known_revisions():
        raise newer_database(found)
    if found is None and (tables := _our_tables(connection)):
        raise unrecorded_schema(tables)
    return found


def _older_than(found: str | None, revision: str) -> bool:
    """Whether ``revision`` lies below ``found`` (an upgrade to it would do nothing)."""
    if found is None:
        return False
    scripts = ScriptDirectory.from_config(alembic_config())
    try:
        target = scripts.get_revision(revision)
    except CommandError:
        return False  # not a revision: Alembic's own refusal names it
    if target is None or target.revision == found:
        return False
    below = (script.revision for script in scripts.iterate_revisions(found, "base"))
    return target.revision in below


def _refuse_backwards(found: str | None, revision: str) -> None:
    if _older_than(found, revision):
        raise StorageError(
            f"cannot upgrade the database to {revision!r}: it is at {found}, which is newer; "
            f"to go back run `kalshi-core db downgrade {revision}` (downgrading drops what the "
            "newer revisions added)"
        )


def _run(connection: Connection, action: str, revision: str) -> None:
    config = alembic_config(connection)
    if action != "stamp":
        found = _preflight(connection)
        if action == "upgrade":
            _refuse_backwards(found, revision)
    try:
        if action == "upgrade":
            command.upgrade(config, revision)
        elif action == "stamp":
            command.stamp(config, revision)
        else:
            command.downgrade(config, revision)
    except CommandError as error:
        raise StorageError(f"cannot {action} the database to {revision!r}: {error}") from None


async def _lock_sqlite(connection: AsyncConnection, wait_seconds: float) -> None:
    # The driver leaves DDL outside any transaction and only begins one lazily, so begin it
    # ourselves: IMMEDIATE takes the write lock now, waiting up to the busy timeout for it.
    found = await connection.exec_driver_sql("PRAGMA busy_timeout")
    usual = int(found.scalar_one())
    await connection.exec_driver_sql(f"PRAGMA busy_timeout={int(wait_seconds * 1000)}")
    try:
        await connection.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        await connection.exec_driver_sql(f"PRAGMA busy_timeout={usual}")


async def _lock_postgres(connection: AsyncConnection, wait_seconds: float) -> None:
    # Released by the commit or rollback; lock_timeout bounds the wait, then is put back.
    await connection.exec_driver_sql(f"SET LOCAL lock_timeout = {int(wait_seconds * 1000)}")
    await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    await connection.exec_driver_sql("SET LOCAL lock_timeout TO DEFAULT")


async def take_migration_lock(connection: AsyncConnection, wait_seconds: float) -> None:
    """Begin ``connection``'s transaction holding the migration lock, or raise
    :class:`StorageError` when another process keeps it past ``wait_seconds``."""
    lock = {"sqlite": _lock_sqlite, "postgresql": _lock_postgres}.get(connection.dialect.name)
    if lock is None:
        return
    try:
        await lock(connection, wait_seconds)
    except DBAPIError as error:
        raise _lock_error(connection, wait_seconds, error) from None


#: How the drivers word a lock wait that ran out (SQLite's SQLITE_BUSY, PostgreSQL's 55P03).
LOCK_WAIT_EXPIRED = ("database is locked", "lock timeout")


def _lock_error(
    connection: AsyncConnection, wait_seconds: float, error: DBAPIError
) -> StorageError:
    detail = str(error.orig or error).splitlines()[0]
    url = safe_url(connection.engine.url)
    if not any(words in detail for words in LOCK_WAIT_EXPIRED):
        return StorageError(f"cannot migrate database {url}: {detail}")
    return StorageError(
        f"cannot migrate database {url}: another process held its lock for more than "
        f"{wait_seconds:g}s (a migration or a long write still running?): {detail}; "
        "try again when it has finished"
    )


async def _migrate(engine: AsyncEngine, action: str, revision: str, wait_seconds: float) -> None:
    async with engine.connect() as connection:
        await take_migration_lock(connection, wait_seconds)
        try:
            await connection.run_sync(_run, action, revision)
        except BaseException:
            await connection.rollback()
            raise
        await connection.commit()


async def upgrade(
    engine: AsyncEngine, revision: str = "head", *, wait_seconds: float = MIGRATION_LOCK_SECONDS
) -> None:
    """Migrate the database up to ``revision`` (the newest by default), holding the migration
    lock: a process that waited for it finds the database already there and does nothing."""
    await _migrate(engine, "upgrade", revision, wait_seconds)


async def stamp(
    engine: AsyncEngine, revision: str = "head", *, wait_seconds: float = MIGRATION_LOCK_SECONDS
) -> None:
    """Record ``revision`` as the database's schema revision without running migrations
    (for tables this version created whose alembic_version row was lost)."""
    await _migrate(engine, "stamp", revision, wait_seconds)


async def downgrade(
    engine: AsyncEngine, revision: str, *, wait_seconds: float = MIGRATION_LOCK_SECONDS
) -> None:
    """Migrate the database down to ``revision`` (``base`` removes every table)."""
    await _migrate(engine, "downgrade", revision, wait_seconds)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current(engine: AsyncEngine) -> str | None:
    """The revision the database is at; ``None`` for a database never migrated."""
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


async def check_schema(engine: AsyncEngine) -> None:
    """Raise :class:`StorageError` unless the database is at the revision this code needs."""
    needed = head_revision()
    async with engine.connect() as connection:
        found = await connection.run_sync(_preflight)
    if found != needed:
        shown: Any = found or "none (empty database)"
        raise StorageError(
            f"database schema is at revision {shown}, this version needs {needed}: "
            "run `kalshi-core db upgrade`"
        )
