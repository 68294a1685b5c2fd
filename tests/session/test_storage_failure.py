"""A database that fails mid-run (here: full, as a full disk makes it) stops the run cleanly
with a report and a non-zero exit, never a traceback; the exchange keeps the truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import event, text

from kalshi_core.app import App
from kalshi_core.cli import make_cli
from kalshi_core.engine import session as session_module
from kalshi_core.storage.database import Database

SPARE_PAGES = 40  # room for a few cycles, then SQLITE_FULL: "database or disk is full"


def cap_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    real = session_module.open_database

    async def capped(app: App) -> Database:
        database = await real(app)
        async with database.engine.connect() as connection:
            pages = (await connection.execute(text("PRAGMA page_count"))).scalar_one()
        await database.engine.dispose()  # every connection from now on gets the cap

        def limit(dbapi_connection: Any, record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA max_page_count = {pages + SPARE_PAGES}")
            cursor.close()

        event.listen(database.engine.sync_engine, "connect", limit)
        return database

    monkeypatch.setattr(session_module, "open_database", capped)


def test_a_full_database_stops_the_run_with_a_report(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cap_the_database(monkeypatch)
    monkeypatch.setenv("KALSHI_RUN__VENUE", "simulated")
    result = CliRunner().invoke(make_cli(App.create()), ["run", "--cycles", "2000"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "stopped: the database failed: " in result.output
    assert "full" in result.output
    assert "Traceback" not in result.output
    assert "fills:" in result.output  # the report still comes from the venue
    assert "cycles: " in result.output
