"""Issue 17 items 8 and 11 in storage: a newer database, a lost revision row, a private file.

Each message is one line that says what is wrong and the command (or setting) that fixes it,
and the command it names really works.
"""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.ext.asyncio import AsyncEngine

from kalshi_core import __version__
from kalshi_core.app import App
from kalshi_core.builtin.sqlite_storage import SCHEME, sqlite_backend
from kalshi_core.cli import make_cli
from kalshi_core.errors import StorageError
from kalshi_core.storage import migrate
from kalshi_core.storage.database import Database


async def _set_revision(engine: AsyncEngine, sql: str) -> None:
    async with engine.begin() as connection:
        await connection.exec_driver_sql(sql)


async def test_a_database_from_a_newer_kalshi_core_says_so_and_what_to_do(
    engine: AsyncEngine,
) -> None:
    await migrate.upgrade(engine)
    await _set_revision(engine, "UPDATE alembic_version SET version_num = '0999future'")
    for attempt in (migrate.check_schema(engine), migrate.upgrade(engine)):
        with pytest.raises(StorageError) as caught:
            await attempt
        message = str(caught.value)
        assert "revision 0999future" in message
        assert f"kalshi-core {__version__} does not know" in message
        assert "written by a newer kalshi-core" in message
        assert "install the kalshi-core that wrote it" in message
        assert "db upgrade" not in message  # it cannot help: it was the old advice
        assert "\n" not in message


async def test_an_empty_version_table_with_tables_is_one_line_with_the_fix(
    engine: AsyncEngine,
) -> None:
    await migrate.upgrade(engine)
    await _set_revision(engine, "DELETE FROM alembic_version")
    for attempt in (migrate.check_schema(engine), migrate.upgrade(engine)):
        with pytest.raises(StorageError) as caught:
            await attempt
        message = str(caught.value)
        assert "no schema revision in alembic_version" in message
        assert "`kalshi-core db stamp head`" in message
        assert "\n" not in message
    await migrate.stamp(engine)  # the fix it names works
    await migrate.check_schema(engine)


def test_the_cli_prints_the_lost_revision_message_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("KALSHI_ENV", "KALSHI_SETTINGS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KALSHI_LOAD_PLUGINS", "builtin")
    monkeypatch.setenv("KALSHI_DATABASE__URL", f"{SCHEME}:///{tmp_path / 'lost.sqlite3'}")
    cli = make_cli(App.create())
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    with sqlite3.connect(tmp_path / "lost.sqlite3") as connection:
        connection.execute("DELETE FROM alembic_version")
    result = runner.invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Error: the database has kalshi-core tables")
    assert runner.invoke(cli, ["db", "stamp", "head"]).exit_code == 0
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0


async def test_the_sqlite_file_is_created_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "new" / "kalshi.sqlite3"
    database = await Database.open(f"{SCHEME}:///{path}", {SCHEME: sqlite_backend}, {}, check=False)
    await migrate.upgrade(database.engine)
    await database.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for extra in path.parent.glob("kalshi.sqlite3-*"):  # WAL and shared-memory files, if left
        assert stat.S_IMODE(extra.stat().st_mode) & 0o077 == 0


async def test_an_existing_sqlite_file_keeps_the_mode_its_owner_chose(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    path.touch(mode=0o640)
    path.chmod(0o640)
    database = await Database.open(f"{SCHEME}:///{path}", {SCHEME: sqlite_backend}, {}, check=False)
    await migrate.upgrade(database.engine)
    await database.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
