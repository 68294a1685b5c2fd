"""Alembic migrations build the models' schema on both backends and report stale schemas."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from kalshi_core.builtin.sqlite_storage import sqlite_backend
from kalshi_core.errors import StorageError
from kalshi_core.storage import migrate
from kalshi_core.storage.database import Database
from kalshi_core.storage.schema import TABLE_NAMES, Base


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection)
    return list(compare_metadata(context, Base.metadata))


async def tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return await connection.run_sync(_tables)


async def test_upgrade_builds_exactly_the_models_schema_on_an_empty_database(
    engine: AsyncEngine,
) -> None:
    assert await tables(engine) == set()
    assert await migrate.current(engine) is None
    await migrate.upgrade(engine)
    assert await migrate.current(engine) == migrate.head_revision()
    assert await tables(engine) == {*TABLE_NAMES, "alembic_version"}
    async with engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def test_downgrade_to_base_then_upgrade_round_trips(engine: AsyncEngine) -> None:
    await migrate.upgrade(engine)
    await migrate.downgrade(engine, "base")
    assert await tables(engine) <= {"alembic_version"}
    assert await migrate.current(engine) is None
    await migrate.upgrade(engine, "head")
    assert await tables(engine) == {*TABLE_NAMES, "alembic_version"}
    await migrate.check_schema(engine)


async def test_out_of_date_schema_names_both_revisions_and_the_fix(engine: AsyncEngine) -> None:
    head = migrate.head_revision()
    with pytest.raises(StorageError) as empty:
        await migrate.check_schema(engine)
    assert str(empty.value) == (
        "database schema is at revision none (empty database), this version needs "
        f"{head}: run `kalshi-core db upgrade`"
    )
    await migrate.upgrade(engine)
    await migrate.check_schema(engine)


async def test_history_lists_the_head_revision_first() -> None:
    lines = migrate.history()
    assert lines[0].startswith(f"{migrate.head_revision()} (")
    assert lines[-1].split(" ")[1] == "(base):"


async def test_database_open_refuses_a_stale_sqlite_file(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'stale.sqlite3'}"
    backends = {"sqlite+aiosqlite": sqlite_backend}
    with pytest.raises(StorageError, match="run `kalshi-core db upgrade`"):
        await Database.open(url, backends, {})
    unchecked = await Database.open(url, backends, {}, check=False)
    await migrate.upgrade(unchecked.engine)
    await unchecked.close()
    checked = await Database.open(url, backends, {})
    assert await checked.orders.count() == 0
    await checked.close()


async def test_unknown_revision_is_a_storage_error(engine: AsyncEngine) -> None:
    with pytest.raises(StorageError, match="cannot upgrade the database to 'nope'"):
        await migrate.upgrade(engine, "nope")


async def test_0003_adds_forecast_stderr_keeping_old_forecasts_as_unknown(
    engine: AsyncEngine,
) -> None:
    await migrate.upgrade(engine, "0002")
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO forecasts (ticker, model, probability, reasoning, input_tokens,"
                " output_tokens, cost, created_time) VALUES ('KXA-1', 'm', 4200, '', 0, 0, 0,"
                " '2026-12-01 00:00:00+00:00')"
            )
        )
    await migrate.upgrade(engine, "0003")
    async with engine.connect() as connection:
        rows = (await connection.execute(text("SELECT probability, stderr FROM forecasts"))).all()
    assert [tuple(r) for r in rows] == [(4200, None)]
    await migrate.downgrade(engine, "0002")
    async with engine.connect() as connection:
        columns = await connection.run_sync(
            lambda c: {col["name"] for col in inspect(c).get_columns("forecasts")}
        )
    assert "stderr" not in columns
    assert "probability" in columns
