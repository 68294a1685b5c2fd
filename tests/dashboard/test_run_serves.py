"""``kalshi-core run`` serves the dashboard with its engine attached when
``dashboard.enabled``: the page follows the session, and the stop control ends it."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from pathlib import Path

import httpx
import pytest

from kalshi_core.app import App
from kalshi_core.dashboard.controls import TOKEN_HEADER
from kalshi_core.dashboard.serve import serve_for_run
from kalshi_core.engine.session import Session, SessionOptions, Tally
from kalshi_core.venues.base import VenueRun
from tests.dashboard.conftest import TOKEN, TRADING_FROM, sandbox


async def events_until_closed(http: httpx.AsyncClient, opened: asyncio.Event) -> int:
    """Read the live stream until the server closes it; how many updates came."""
    updates = 0
    async with http.stream("GET", "/events") as stream:
        try:
            async for line in stream.aiter_lines():
                updates += line == "event: update"
                opened.set()
        except httpx.RemoteProtocolError:  # closed mid-chunk by the shutdown: closed all the same
            pass
    return updates


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def enabled(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    sandbox(monkeypatch, tmp_path)
    port = free_port()
    monkeypatch.setenv("KALSHI_DASHBOARD__ENABLED", "true")
    monkeypatch.setenv("KALSHI_DASHBOARD__PORT", str(port))
    monkeypatch.setenv("KALSHI_DASHBOARD__TOKEN", TOKEN)
    monkeypatch.setenv("KALSHI_DASHBOARD__REFRESH_SECONDS", "0.1")
    return f"http://127.0.0.1:{port}"


async def test_run_serves_the_dashboard_and_its_stop_ends_the_session(
    enabled: str, tmp_path: Path
) -> None:
    cycles: asyncio.Queue[int] = asyncio.Queue()

    def on_cycle(tally: Tally, venue: VenueRun) -> None:
        cycles.put_nowait(tally.cycles)

    options = SessionOptions(cycles=2000, start=TRADING_FROM)
    session = Session(App.create(), options, on_cycle=on_cycle, companion=serve_for_run)
    running = asyncio.create_task(session.run())
    while await cycles.get() < 3:
        pass
    async with httpx.AsyncClient(base_url=enabled, timeout=30) as http:
        opened = asyncio.Event()
        watching = asyncio.create_task(events_until_closed(http, opened))
        await opened.wait()
        page = await http.get("/")
        assert page.status_code == 200
        assert "Stop level" in page.text
        assert 'data-level="running"' in page.text
        refused = await http.post("/api/controls/stop", json={"confirm": "stop"})
        assert refused.status_code == 401
        pressed = await http.post(
            "/api/controls/stop", json={"confirm": "stop"}, headers={TOKEN_HEADER: TOKEN}
        )
        assert pressed.status_code == 200, pressed.text
        report = await asyncio.wait_for(running, timeout=300)
        # an open event stream ends with the server: it never holds the session's end
        assert await asyncio.wait_for(watching, timeout=60) > 0
    assert "graded stops" in report.stopped_because
    assert report.cycles < 2000
    with sqlite3.connect(tmp_path / "run.sqlite3") as db:
        kinds = [k for (k,) in db.execute("select kind from audit_events order by id")]
    assert "dashboard_control" in kinds
    assert "stop_changed" in kinds
    with pytest.raises(httpx.ConnectError):  # the dashboard ends with the session
        async with httpx.AsyncClient(base_url=enabled) as http:
            await http.get("/")


async def test_run_without_the_setting_serves_nothing(
    enabled: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KALSHI_DASHBOARD__ENABLED", "false")
    cycles: asyncio.Queue[int] = asyncio.Queue()

    def on_cycle(tally: Tally, venue: VenueRun) -> None:
        cycles.put_nowait(tally.cycles)

    options = SessionOptions(cycles=2000, start=TRADING_FROM)
    session = Session(App.create(), options, on_cycle=on_cycle, companion=serve_for_run)
    running = asyncio.create_task(session.run())
    await cycles.get()
    try:
        async with httpx.AsyncClient(base_url=enabled) as http:
            with pytest.raises(httpx.ConnectError):
                await http.get("/")
    finally:
        session.stop.set()
        report = await running
    assert report.stopped_because.startswith("interrupted")
