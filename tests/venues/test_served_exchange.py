"""`kalshi-core run` against `kalshi-core exchange serve`: the engine takes its clock from the
exchange it trades on (GET /local/clock), and steps a stepped one cycle by cycle, so the same
commands twice store the same orders, fills and P&L."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from kalshi_core.app import App
from kalshi_core.client import KalshiClient, Signer
from kalshi_core.engine.session import Session, SessionOptions
from kalshi_core.errors import ExchangeError
from kalshi_core.exchange.local import LocalExchange

# Whole runs over recorded history: the full suite on one Python (tox.ini).
# these runs need orders: forecasts without a stderr trade as if certain
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("trade_unproven_edges")]

SERVE_LINES = {"base URL": "base_url", "API key id": "key_id", "private key (PEM)": "pem"}


def client_for(exchange: LocalExchange) -> KalshiClient:
    assert exchange.private_key_path is not None
    signer = Signer.from_file(exchange.api_key_id, str(exchange.private_key_path))
    return KalshiClient(exchange.base_url, signer=signer)


async def test_a_stepped_exchange_moves_only_when_advanced(isolated: Path) -> None:
    async with (
        LocalExchange.running(
            data_sets=["kxinxu"], stepped=True, key_dir=isolated / "keys"
        ) as exchange,
        client_for(exchange) as client,
    ):
        first = await client.get_local_clock()
        assert first is not None
        assert first.stepped
        again = await client.get_local_clock()
        assert again is not None
        assert again.now == first.now
        stepped = await client.advance_local_clock(600)
        assert stepped.now >= first.now + timedelta(seconds=600)
        assert exchange.replay is not None
        assert exchange.replay.events_applied > 0


async def test_a_running_exchange_refuses_to_be_stepped(isolated: Path) -> None:
    async with (
        LocalExchange.running(data_sets=["kxinxu"], key_dir=isolated / "keys") as exchange,
        client_for(exchange) as client,
    ):
        state = await client.get_local_clock()
        assert state is not None
        assert not state.stepped
        assert state.speed == 60.0
        with pytest.raises(ExchangeError, match="clock_not_stepped"):
            await client.advance_local_clock(60)


@pytest.mark.parametrize(
    "body",
    [
        b'{"seconds": 0}',
        b'{"seconds": -5}',
        b'{"seconds": 1e999}',
        b'{"seconds": NaN}',
        b'{"seconds": "60"}',
        b'{"seconds": true}',
        b'{"seconds": null}',
        b'{"seconds": 1000000000000}',
        b"{}",
        b"[60]",
    ],
)
async def test_a_bad_step_is_refused_and_moves_nothing(isolated: Path, body: bytes) -> None:
    async with LocalExchange.running(
        data_sets=["kxinxu"], stepped=True, key_dir=isolated / "keys"
    ) as exchange:
        before = exchange.clock.now()
        assert exchange.private_key_path is not None
        signer = Signer.from_file(exchange.api_key_id, str(exchange.private_key_path))
        headers = signer.headers("POST", "/trade-api/v2/local/clock/advance")
        async with httpx.AsyncClient() as http:
            response = await http.post(
                f"{exchange.base_url}/local/clock/advance",
                content=body,
                headers={**headers, "content-type": "application/json"},
            )
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "invalid_parameters"
        assert exchange.clock.now() == before


async def test_advancing_needs_a_signed_request(isolated: Path) -> None:
    async with LocalExchange.running(
        data_sets=["kxinxu"], stepped=True, key_dir=isolated / "keys"
    ) as exchange:
        async with KalshiClient(exchange.base_url) as anonymous:
            with pytest.raises(ExchangeError) as refused:
                await anonymous.advance_local_clock(60)
        assert refused.value.status == 401


@contextlib.contextmanager
def served(history: Path, home: Path, *extra: str) -> Iterator[dict[str, str]]:
    """`kalshi-core exchange serve` in its own process; yields what it announced."""
    script = Path(sys.executable).parent / "kalshi-core"
    env = {**os.environ, "XDG_DATA_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    command = [str(script), "exchange", "serve", "--data", str(history), *extra]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as process:
        assert process.stdout is not None
        announced: dict[str, str] = {}
        for line in process.stdout:
            for label, key in SERVE_LINES.items():
                if line.startswith(label):
                    announced[key] = line[len(label) :].strip()
            if line.startswith("Ctrl-C"):
                break
        try:
            yield announced
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)


async def run_against(
    monkeypatch: pytest.MonkeyPatch, server: dict[str, str], database: Path
) -> Session:
    monkeypatch.setenv("KALSHI_KALSHI__BASE_URL", server["base_url"])
    monkeypatch.setenv("KALSHI_KALSHI__API_KEY_ID", server["key_id"])
    monkeypatch.setenv("KALSHI_KALSHI__PRIVATE_KEY_PATH", server["pem"])
    monkeypatch.setenv("KALSHI_DATABASE__URL", f"sqlite+aiosqlite:///{database}")
    session = Session(App.create(), SessionOptions())
    await session.run()
    return session


def stored(database: Path) -> dict[str, list[tuple[Any, ...]]]:
    queries = {
        "orders": "select client_order_id, state, ticker, side, action, price, count, "
        "fill_count, created_time from orders order by 1",
        "fills": "select ticker, count, yes_price, fee_cost, created_time from fills order by 5, 1",
        "pnl": "select day, realized_pnl, fees from daily_pnl order by 1",
    }
    with sqlite3.connect(database) as db:
        return {name: db.execute(query).fetchall() for name, query in queries.items()}


async def test_run_steps_a_served_stepped_exchange_reproducibly(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, three_days: Path
) -> None:
    runs = []
    for name in ("a", "b"):
        with served(three_days, isolated / name, "--clock", "stepped") as server:
            session = await run_against(monkeypatch, server, isolated / f"{name}.sqlite3")
        runs.append(stored(isolated / f"{name}.sqlite3"))
    assert runs[0]["orders"], "the run placed no order: nothing was compared"
    assert runs[0] == runs[1]
    states = {row[1] for row in runs[0]["orders"]}
    assert states <= {"executed", "canceled", "rejected"}, states
    assert session.tally.cycles > 100
