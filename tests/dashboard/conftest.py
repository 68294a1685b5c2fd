"""Fixtures of the dashboard's tests: a database a real paper session filled, a real backtest's
output folder, and the dashboard served over real HTTP on a free loopback port."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from kalshi_core.app import App
from kalshi_core.cli import make_cli
from kalshi_core.dashboard.app import Dashboard
from kalshi_core.dashboard.live import EngineLink
from kalshi_core.dashboard.serve import serve_dashboard
from kalshi_core.dashboard.settings import DashboardOptions
from kalshi_core.engine.session import Session, SessionOptions
from kalshi_core.storage.database import Database
from tests.conftest import TRADING_MECHANICS
from tests.multiworker.conftest import postgres_database_url, trader_key  # noqa: F401 (fixtures)

TOKEN = "correct-horse-battery-staple-42"
#: The bundled history trades (with the suite's trading curve) from early afternoon on.
TRADING_FROM = datetime(2026, 1, 2, 13, 0, tzinfo=UTC)


def sandbox(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """A run's environment: its own database and data folder, the suite's trading curve."""
    for name in list(os.environ):
        if name.startswith("KALSHI_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("KALSHI_LOAD_PLUGINS", "builtin")
    monkeypatch.setenv("KALSHI_DATABASE__URL", f"sqlite+aiosqlite:///{folder / 'run.sqlite3'}")
    monkeypatch.setenv("XDG_DATA_HOME", str(folder / "data"))
    monkeypatch.setenv("KALSHI_RUN__CYCLE_SECONDS", "600")
    monkeypatch.setenv("KALSHI_MONITORING__PORT", "0")
    for name, value in TRADING_MECHANICS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(folder)


@pytest.fixture(scope="module")
def traded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database after a 30-cycle paper session that placed orders and got fills."""
    folder = tmp_path_factory.mktemp("traded")
    with pytest.MonkeyPatch.context() as monkeypatch:
        sandbox(monkeypatch, folder)
        report = asyncio.run(
            Session(App.create(), SessionOptions(cycles=30, start=TRADING_FROM)).run()
        )
    assert report.orders_placed > 0, "the fixture run placed no order"
    assert report.fills_venue > 0, "the fixture run got no fill"
    return folder / "run.sqlite3"


@pytest.fixture(scope="module")
def reports_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two backtest output folders (one real backtest, and a copy under another name)."""
    folder = tmp_path_factory.mktemp("backtests")
    with pytest.MonkeyPatch.context() as monkeypatch:
        sandbox(monkeypatch, folder)
        args = ["backtest", "--data-set", "kxinxu", "--from", "2026-01-05T17:00"]
        args += ["--to", "2026-01-05T18:30", "--output", str(folder / "first")]
        result = CliRunner().invoke(make_cli(App.create()), args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    shutil.copytree(folder / "first", folder / "second")
    return folder


def options(reports: Path, token: str = TOKEN, rows: int = 50) -> DashboardOptions:
    return DashboardOptions(
        host="127.0.0.1",
        port=0,
        token=token,
        reports_dir=reports,
        refresh_seconds=0.05,
        rows=rows,
        min_edge={
            "min_edge_cents": 3,
            "stderrs": 0,
            "missing_stderr": "assume",
            "assumed_stderr_cents": 0,
        },
        model_budget=5 * 10_000,
    )


async def open_database(path: Path) -> Database:
    app = App.create()
    backends = {e.name: e.factory for e in app.registry("storage_backends")}
    return await Database.open(f"sqlite+aiosqlite:///{path}", backends, {})


async def served(
    database: Database, opts: DashboardOptions, link: EngineLink | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    board = Dashboard(database=database, options=opts, link=link)
    async with (
        serve_dashboard(board, required=True) as url,
        httpx.AsyncClient(base_url=str(url), timeout=30) as http,
    ):
        yield http


@pytest.fixture
async def database(traded: Path, tmp_path: Path) -> AsyncIterator[Database]:
    """A copy of the traded database (a test's writes never reach the next test)."""
    copy = tmp_path / "dashboard.sqlite3"
    shutil.copy(traded, copy)
    opened = await open_database(copy)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def http(database: Database, reports_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The dashboard over the traded database, without an engine, with a token set."""
    async for client in served(database, options(reports_dir)):
        yield client
