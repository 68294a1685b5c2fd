"""``kalshi-core run``: a paper session end to end on the local exchange over real HTTP."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kalshi_core.app import App
from kalshi_core.cli import make_cli
from kalshi_core.engine.session import Session, SessionOptions
from kalshi_core.errors import ConfigError
from kalshi_core.venues.guard import LIVE_FLAG

# The shipped curve follows the price (`kalshi-core fit` found no edge), so the default places
# no order. Tests of the trading mechanics (fills, books, faults) use the former default curve,
# which moves prices and so trades: it is a fixture for the plumbing, not a claim of edge.
TRADING_CURVE = Path(__file__).parent.parent / "trading_curve.json"


@pytest.fixture
def trading(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KALSHI_FORECASTERS__CALIBRATED__CURVE_PATH", str(TRADING_CURVE))
    return isolated


async def test_paper_session_trades_and_our_books_match_the_exchange(trading: Path) -> None:
    session = Session(App.create(), SessionOptions(cycles=150))
    report = await session.run()
    assert report.cycles == 150
    assert report.orders_placed > 0
    assert report.fills_venue > 0
    assert report.fills_stored == report.fills_venue
    assert report.pnl_check.closed_markets > 0
    assert report.pnl_check.matches, report.lines()
    with sqlite3.connect(trading / "run.sqlite3") as db:
        states = dict(db.execute("select state, count(*) from orders group by state").fetchall())
    assert "pending_unknown" not in states
    assert "pending_submit" not in states


@pytest.mark.shipped_defaults
async def test_the_default_curve_places_no_order_on_noise(isolated: Path) -> None:
    report = await Session(App.create(), SessionOptions(cycles=150)).run()
    assert report.cycles == 150
    assert report.orders_placed == 0


async def test_live_mode_refuses_without_confirmation(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KALSHI_ENV", "production")
    with pytest.raises(ConfigError, match=f"refusing to start.*{LIVE_FLAG}"):
        await Session(App.create(env="production"), SessionOptions(cycles=1)).run()


async def test_confirmed_live_mode_still_refuses_without_credentials(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KALSHI_ENV", "production")
    options = SessionOptions(cycles=1, confirm_live=True)
    with pytest.raises(ConfigError, match=r"kalshi\.api_key_id and kalshi\.private_key_path"):
        await Session(App.create(env="production"), options).run()


@pytest.mark.shipped_defaults
def test_run_command_prints_the_session_report(isolated: Path) -> None:
    result = CliRunner().invoke(make_cli(App.create()), ["run", "--cycles", "3"])
    assert result.exit_code == 0, result.output
    assert "stopped: 3 cycles done" in result.output
    assert "vs the exchange's" in result.output
    assert "WARNING" not in result.output  # the shipped curve follows the price


def test_run_warns_when_the_active_curve_failed_its_own_test(trading: Path) -> None:
    result = CliRunner().invoke(make_cli(App.create()), ["run", "--cycles", "3"])
    assert result.exit_code == 0, result.output
    assert "WARNING: the calibrated forecaster's curve" in result.output
    assert "failed its own test (fit verdict: never evaluated)" in result.output


def test_sigint_finishes_the_cycle_and_reports(isolated: Path) -> None:
    script = Path(sys.executable).parent / "kalshi-core"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        [str(script), "run"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("cycle 1 "):
                break
        process.send_signal(signal.SIGINT)
        rest = process.stdout.read()
        code = process.wait(timeout=60)
    assert code == 0, rest
    assert "stopped: interrupted" in rest
    with sqlite3.connect(isolated / "run.sqlite3") as db:
        unknown = db.execute(
            "select count(*) from orders where state in ('pending_unknown', 'pending_submit')"
        ).fetchone()[0]
    assert unknown == 0


async def test_a_second_session_on_the_same_database_loses_no_fill(trading: Path) -> None:
    first = await Session(App.create(), SessionOptions(cycles=120)).run()
    second = await Session(App.create(), SessionOptions(cycles=120)).run()
    assert first.fills_venue > 0
    assert second.fills_stored == second.fills_venue
    assert second.pnl_check.matches, second.lines()
    with sqlite3.connect(trading / "run.sqlite3") as db:
        stored = db.execute("select count(*) from fills").fetchone()[0]
    assert stored == first.fills_venue + second.fills_venue


async def test_paper_session_under_injected_faults_loses_and_duplicates_nothing(
    trading: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KALSHI_EXCHANGE__FAULTS__RATE_429", "0.05")
    monkeypatch.setenv("KALSHI_EXCHANGE__FAULTS__RATE_5XX", "0.05")
    monkeypatch.setenv("KALSHI_EXCHANGE__FAULTS__RATE_DROP", "0.05")
    report = await Session(App.create(), SessionOptions(cycles=120)).run()
    assert report.orders_placed > 0
    assert report.fills_stored == report.fills_venue
    assert report.pnl_check.matches, report.lines()
    with sqlite3.connect(trading / "run.sqlite3") as db:
        ids = [row[0] for row in db.execute("select client_order_id from orders")]
        pending = db.execute("select count(*) from orders where state like 'pending%'").fetchone()[
            0
        ]
    assert len(ids) == len(set(ids))
    assert pending == 0
