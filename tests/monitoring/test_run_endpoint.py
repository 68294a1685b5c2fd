"""`kalshi-core run` (a paper session on the local exchange over HTTP) serves /metrics."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from kalshi_core.app import App
from kalshi_core.engine.session import Session, SessionOptions, Tally
from kalshi_core.venues.base import VenueRun
from tests.monitoring.test_engine_monitoring import value


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def port(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> int:
    for name in list(os.environ):
        if name.startswith("KALSHI_"):
            monkeypatch.delenv(name)
    chosen = _free_port()
    monkeypatch.setenv("KALSHI_LOAD_PLUGINS", "builtin")
    monkeypatch.setenv("KALSHI_DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path / 'run.sqlite3'}")
    monkeypatch.setenv("KALSHI_MONITORING__PORT", str(chosen))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return chosen


async def _scrape(url: str) -> str:
    async with httpx.AsyncClient() as http:
        return (await http.get(url)).text


async def test_metrics_are_served_during_a_paper_run_and_move_with_it(port: int) -> None:
    cycles: asyncio.Queue[int] = asyncio.Queue()

    def on_cycle(tally: Tally, venue: VenueRun) -> None:
        cycles.put_nowait(tally.cycles)

    session = Session(App.create(), SessionOptions(cycles=200), on_cycle=on_cycle)
    running = asyncio.create_task(session.run())
    url = f"http://127.0.0.1:{port}/metrics"
    while await cycles.get() < 1:
        pass
    first = await _scrape(url)
    while await cycles.get() < 6:
        pass
    second = await _scrape(url)
    ready = await _scrape(f"http://127.0.0.1:{port}/readyz")
    session.stop.set()
    report = await running
    assert 1 <= value(first, "kalshi_cycles_total") < value(second, "kalshi_cycles_total")
    assert value(second, "kalshi_cycles_total") <= report.cycles
    calls = value(second, "kalshi_api_calls_total", {"endpoint": "GET /markets", "status": "200"})
    assert calls > value(
        first, "kalshi_api_calls_total", {"endpoint": "GET /markets", "status": "200"}
    )
    assert (
        value(second, "kalshi_api_request_duration_seconds_count", {"endpoint": "GET /markets"}) > 0
    )
    assert value(second, "kalshi_balance_dollars") > 0
    assert '"ready"' in ready


def test_run_logs_json_lines(port: int) -> None:
    """``logging.format = "json"`` reaches the CLI: every line on stderr is one JSON object
    (cycle ids and audit events in JSON are covered in test_logs_and_metrics.py)."""
    script = Path(sys.executable).parent / "kalshi-core"
    env = {**os.environ, "KALSHI_LOGGING__FORMAT": "json"}
    result = subprocess.run(
        [str(script), "run", "--cycles", "3"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in result.stderr.splitlines()]  # every line is JSON
    assert lines
    assert all({"time", "level", "logger", "message", "cycle_id"} <= set(line) for line in lines)
    assert any(f"127.0.0.1:{port}/metrics" in line["message"] for line in lines)
