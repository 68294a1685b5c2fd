"""Processes starting together on a new database migrate it once, one after the other: the
migration lock (SQLite's write lock, a PostgreSQL advisory lock) serialises them and the later
ones find the schema at head. A lock held too long gives a one-line StorageError."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, inspect, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from kalshi_core.builtin.sqlite_storage import SQLiteBackend
from kalshi_core.errors import StorageError
from kalshi_core.storage import migrate
from kalshi_core.storage.schema import TABLE_NAMES
from tests.multiworker.support import reset_postgres
from tests.storage.conftest import postgres_url
from tests.storage.migrate_worker import GO, READY

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4
#: Only a guard against a hung worker (start-up imports are slow on a busy 2-core machine).
LINE_TIMEOUT = 300.0


def worker_env(url: str, home: Path) -> dict[str, str]:
    """The environment of a `kalshi-core run` sandbox pointed at ``url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KALSHI_")}
    return {
        **env,
        "KALSHI_LOAD_PLUGINS": "builtin,postgres",
        "KALSHI_DATABASE__URL": url,
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }


async def line_of(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    raw = await asyncio.wait_for(process.stdout.readline(), LINE_TIMEOUT)
    return raw.decode().strip()


async def start_together(url: str, home: Path) -> list[tuple[int, str, str]]:
    """Start WORKERS worker processes, release them at once when all are ready, and return
    each one's (exit status, JSON line, stderr)."""
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.storage.migrate_worker",
            cwd=home,
            env={**worker_env(url, home), "PYTHONPATH": str(ROOT)},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(WORKERS)
    ]
    try:
        assert [await line_of(p) for p in processes] == [READY] * WORKERS
        for process in processes:
            assert process.stdin is not None
            process.stdin.write(f"{GO}\n".encode())
        results = await asyncio.gather(*(p.communicate() for p in processes))
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
    return [
        (p.returncode or 0, out.decode().strip(), err.decode()[-2000:])
        for p, (out, err) in zip(processes, results, strict=True)
    ]


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def versions_and_tables(engine: AsyncEngine) -> tuple[list[str], set[str]]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
        names = await connection.run_sync(table_names)
    return [row[0] for row in rows], names


async def assert_migrated_once(url: str, engine: AsyncEngine, home: Path) -> None:
    outcomes = await start_together(url, home)
    head = migrate.head_revision()
    for status, line, stderr in outcomes:
        assert (status, line) == (0, json.dumps({"revision": head})), stderr
    versions, tables = await versions_and_tables(engine)
    assert versions == [head]
    assert tables == {*TABLE_NAMES, "alembic_version"}


async def test_processes_starting_together_on_a_new_sqlite_file_migrate_it_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "new.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    assert not path.exists()
    engine = SQLiteBackend().create_engine(url, {})
    try:
        await assert_migrated_once(url, engine, tmp_path)
    finally:
        await engine.dispose()


async def test_processes_starting_together_on_an_empty_postgres_migrate_it_once(
    tmp_path: Path,
) -> None:
    # The workers open the database as `kalshi-core run` does: through the installed
    # postgres storage backend (tox -e plugin-postgres runs this test with it).
    pytest.importorskip("kalshi_plugin_postgres", reason="kalshi-plugin-postgres not installed")
    url = postgres_url()
    await reset_postgres(url)
    engine = create_async_engine(url)
    try:
        await assert_migrated_once(url, engine, tmp_path)
    finally:
        await engine.dispose()


@pytest.fixture
def sqlite_writer(tmp_path: Path) -> Iterator[tuple[str, sqlite3.Connection]]:
    """A new SQLite file whose write lock another connection holds (an open write
    transaction), as a migrating or long-writing process would."""
    path = tmp_path / "held.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("BEGIN IMMEDIATE")
    yield f"sqlite+aiosqlite:///{path}", holder
    holder.close()


async def test_a_sqlite_lock_held_past_the_wait_is_a_one_line_storage_error(
    sqlite_writer: tuple[str, sqlite3.Connection],
) -> None:
    url, holder = sqlite_writer
    engine = SQLiteBackend().create_engine(url, {})
    try:
        with pytest.raises(StorageError) as refused:
            await migrate.upgrade(engine, wait_seconds=0.05)
        holder.rollback()
        assert await migrate.current(engine) is None  # nothing half-done was left behind
        await migrate.upgrade(engine)  # and the lock, once free, is taken
        assert await migrate.current(engine) == migrate.head_revision()
    finally:
        await engine.dispose()
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"cannot migrate database {url}: ")
    assert "another process held its lock for more than 0.05s" in message
    assert "database is locked" in message


async def test_the_migration_wait_leaves_the_usual_busy_timeout_in_place(tmp_path: Path) -> None:
    engine = SQLiteBackend().create_engine(f"sqlite+aiosqlite:///{tmp_path / 'b.sqlite3'}", {})
    try:
        await migrate.upgrade(engine, wait_seconds=123)
        async with engine.connect() as connection:
            found = await connection.exec_driver_sql("PRAGMA busy_timeout")
            assert found.scalar_one() == 30_000  # database.pool_timeout's default, in ms
    finally:
        await engine.dispose()


async def test_a_failed_sqlite_migration_leaves_no_table_behind(tmp_path: Path) -> None:
    path = tmp_path / "half.sqlite3"
    with sqlite3.connect(path) as other:  # takes an index name 0001 creates after some tables
        other.execute("CREATE TABLE other (x INTEGER)")
        other.execute("CREATE INDEX ix_fills_order_id ON other (x)")
    engine = SQLiteBackend().create_engine(f"sqlite+aiosqlite:///{path}", {})
    try:
        with pytest.raises(OperationalError, match="ix_fills_order_id already exists"):
            await migrate.upgrade(engine)
        async with engine.connect() as connection:
            tables = await connection.run_sync(table_names)
        assert tables == {"other"}
    finally:
        await engine.dispose()


async def test_a_postgres_lock_held_past_the_wait_is_a_one_line_storage_error() -> None:
    # The workers open the database as `kalshi-core run` does: through the installed
    # postgres storage backend (tox -e plugin-postgres runs this test with it).
    pytest.importorskip("kalshi_plugin_postgres", reason="kalshi-plugin-postgres not installed")
    url = postgres_url()
    await reset_postgres(url)
    holder, engine = create_async_engine(url), create_async_engine(url)
    try:
        async with holder.begin() as held:  # the lock lasts as long as this transaction
            lock = text("SELECT pg_advisory_xact_lock(:key)")
            await held.execute(lock, {"key": migrate.ADVISORY_LOCK_KEY})
            with pytest.raises(StorageError) as refused:
                await migrate.upgrade(engine, wait_seconds=0.05)
        assert await migrate.current(engine) is None
        await migrate.upgrade(engine)  # the holder's transaction ended, so the lock is free
        assert await migrate.current(engine) == migrate.head_revision()
    finally:
        await holder.dispose()
        await engine.dispose()
    message = str(refused.value)
    assert "\n" not in message
    assert "another process held its lock for more than 0.05s" in message
    assert "lock timeout" in message
    password = make_url(url).password
    assert password is None or str(password) not in message
