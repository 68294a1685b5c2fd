"""``db export`` writes tables as JSON Lines and CSV; the ``db`` commands work end to end."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from kalshi_core.builtin.sqlite_storage import sqlite_backend
from kalshi_core.errors import ConfigError
from kalshi_core.storage import migrate
from kalshi_core.storage.cli import add_db_commands
from kalshi_core.storage.database import Database
from kalshi_core.storage.export import export_table

NOW = datetime(2026, 11, 25, 14, 30, 15, 123456, tzinfo=UTC)


async def _two_orders(database: Database, samples) -> None:
    await database.orders.record_intent("coid-1", samples.intent(), NOW)
    await database.orders.record_intent("coid-2", samples.intent(price=4213), NOW)


async def test_export_jsonl_keeps_integers_and_utc_times(database: Database, samples) -> None:
    await _two_orders(database, samples)
    out = io.StringIO()
    assert await export_table(database.engine, "orders", "jsonl", out) == 2
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["client_order_id"] for r in rows] == ["coid-1", "coid-2"]
    assert rows[1]["price"] == 4213
    assert rows[0]["created_time"] == "2026-11-25T14:30:15.123456+00:00"
    assert rows[0]["state"] == "pending_submit"


async def test_export_csv_has_a_header_and_one_line_per_row(database: Database, samples) -> None:
    await _two_orders(database, samples)
    out = io.StringIO()
    assert await export_table(database.engine, "orders", "csv", out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["price"] for r in rows] == ["5787", "4213"]
    assert rows[0]["created_time"] == "2026-11-25T14:30:15.123456+00:00"


async def test_export_rejects_unknown_tables_and_formats(database: Database) -> None:
    with pytest.raises(ConfigError, match="unknown table 'nope'; tables: ai_spend"):
        await export_table(database.engine, "nope", "jsonl", io.StringIO())
    with pytest.raises(ConfigError, match="unknown export format 'xml'"):
        await export_table(database.engine, "orders", "xml", io.StringIO())  # type: ignore[arg-type]


def _cli(url: str) -> click.Group:
    @click.group()
    def cli() -> None:
        """test root"""

    add_db_commands(
        cli,
        lambda: {"database": {"url": url}},
        lambda: {"sqlite+aiosqlite": sqlite_backend},
    )
    return cli


def test_db_commands_upgrade_current_history_export_downgrade(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    cli = _cli(url)
    runner = CliRunner()
    head = migrate.head_revision()

    before = runner.invoke(cli, ["db", "current"])
    assert before.exit_code == 0, before.output
    assert f"current: none  (this version needs {head})" in before.output

    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    assert f"current: {head} " in runner.invoke(cli, ["db", "current"]).output
    history = runner.invoke(cli, ["db", "history"]).output
    assert history.startswith(f"{head} (")
    assert "0001 (base): initial schema" in history

    output = tmp_path / "orders.csv"
    exported = runner.invoke(
        cli, ["db", "export", "--format", "csv", "--table", "orders", "--output", str(output)]
    )
    assert exported.exit_code == 0, exported.output
    assert output.read_text().startswith("id,run_id,client_order_id,order_id,")

    assert runner.invoke(cli, ["db", "downgrade", "base"]).exit_code == 0
    assert "current: none" in runner.invoke(cli, ["db", "current"]).output


def test_db_commands_report_errors_without_a_traceback(tmp_path: Path) -> None:
    cli = _cli("postgresql://trader:hunter2@127.0.0.1:1/x")
    result = CliRunner().invoke(cli, ["db", "current"])
    assert result.exit_code == 1
    assert "no storage backend for scheme 'postgresql'" in result.output
    assert "kalshi-plugin-postgres" in result.output
    assert "hunter2" not in result.output


def test_export_into_a_missing_folder_names_the_folder(tmp_path: Path) -> None:
    cli = _cli(f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}")
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    output = tmp_path / "missing" / "x.jsonl"
    result = runner.invoke(cli, ["db", "export", "--table", "decisions", "--output", str(output)])
    assert result.exit_code == 2
    assert f"cannot write {output}: the folder {output.parent} does not exist" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not output.parent.exists()


def test_upgrade_to_an_older_revision_is_refused_pointing_to_downgrade(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    cli = _cli(url)
    runner = CliRunner()
    head = migrate.head_revision()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(cli, ["db", "upgrade", "0001"])
    assert result.exit_code == 1
    assert f"cannot upgrade the database to '0001': it is at {head}, which is newer" in (
        result.output
    )
    assert "kalshi-core db downgrade 0001" in result.output
    assert "database upgraded" not in result.output
    assert f"current: {head} " in runner.invoke(cli, ["db", "current"]).output


def test_upgrade_from_an_older_revision_to_a_named_one_still_works(tmp_path: Path) -> None:
    cli = _cli(f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}")
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade", "0001"]).exit_code == 0
    assert runner.invoke(cli, ["db", "upgrade", "0002"]).exit_code == 0
    assert "current: 0002 " in runner.invoke(cli, ["db", "current"]).output
    again = runner.invoke(cli, ["db", "upgrade", "0002"])  # already there: nothing to do
    assert again.exit_code == 0, again.output
