"""At the end of a run the database equals the exchange: every order final and as the venue
says, every fill and settlement stored once for this run, positions as the venue holds them,
and the daily P&L rows (with fees) adding up to the session report."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from kalshi_core.app import App
from kalshi_core.engine.report import SessionReport
from kalshi_core.engine.session import Session, SessionOptions
from kalshi_core.exchange.venue import Venue
from kalshi_core.hookspecs import hookimpl
from kalshi_core.models import OrderStatus
from kalshi_core.plugins import PluginManager
from kalshi_core.venues.base import OpenVenue, RunSpec
from kalshi_core.venues.paper import open_paper
from kalshi_core.venues.simulated import VenueGateway, open_simulated

# Whole runs over recorded history: the full suite on one Python (tox.ini).
# these runs need orders: forecasts without a stderr trade as if certain
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("trade_unproven_edges")]


class Capture:
    """Wraps a built-in venue and keeps hold of its matching engine and account."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.venue: Venue | None = None
        self.account = ""

    @hookimpl
    def register_venues(self, register: Any) -> None:
        register(f"captured-{self.name}", self.open)

    @contextlib.asynccontextmanager
    async def open(
        self, section: Mapping[str, Any], *, app: Any, run: RunSpec
    ) -> AsyncIterator[OpenVenue]:
        opener = open_simulated if self.name == "simulated" else open_paper
        async with opener(section, app=app, run=run) as venue:
            if isinstance(venue.gateway, VenueGateway):
                self.venue, self.account = venue.gateway.venue, venue.gateway.account
            else:
                self.venue, self.account = venue.exchange.venue, venue.exchange.account_id  # type: ignore[attr-defined]
            yield venue


async def run_to_the_end(
    monkeypatch: pytest.MonkeyPatch, history: Path, venue: str
) -> tuple[SessionReport, Capture, str]:
    capture = Capture(venue)
    monkeypatch.setenv("KALSHI_RUN__VENUE", f"captured-{venue}")
    manager = PluginManager()
    manager.load_entry_points()
    manager.register(capture, "capture")
    session = Session(App.create(manager=manager), SessionOptions(data_dir=str(history)))
    report = await session.run()
    return report, capture, session.run_id


def rows(database: Path, query: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database) as db:
        return db.execute(query, args).fetchall()


FAULTS = {
    "KALSHI_EXCHANGE__FAULTS__RATE_429": "0.03",
    "KALSHI_EXCHANGE__FAULTS__RATE_5XX": "0.03",
    "KALSHI_EXCHANGE__FAULTS__RATE_DROP": "0.03",
    "KALSHI_EXCHANGE__FAULTS__RATE_TIMEOUT": "0.01",
    "KALSHI_EXCHANGE__FAULTS__TIMEOUT_SECONDS": "0.2",
    "KALSHI_KALSHI__TIMEOUT_SECONDS": "0.1",
}


@pytest.mark.parametrize("venue", ["simulated", "paper", "paper-faulted"])
async def test_the_database_equals_the_exchange_after_a_complete_replay(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, three_days: Path, venue: str
) -> None:
    if venue == "paper-faulted":  # lost replies, 5xx, 429s, drops: nothing lost or doubled
        for name, value in FAULTS.items():
            monkeypatch.setenv(name, value)
        venue = "paper"
    report, capture, run_id = await run_to_the_end(monkeypatch, three_days, venue)
    assert report.stopped_because == "the recorded history has been replayed to its end"
    exchange, account, db = capture.venue, capture.account, isolated / "run.sqlite3"
    assert exchange is not None
    assert_orders_match(db, run_id, exchange, account)
    assert_fills_settlements_and_positions_match(db, run_id, exchange, account)
    fills = exchange.fills(account)
    pnl = rows(db, "select sum(realized_pnl), sum(fees) from daily_pnl where run_id = ?", run_id)
    assert pnl[0][0] == report.end_equity - report.start_equity
    assert pnl[0][1] == sum(f.fee_cost for f in fills)
    assert pnl[0][1] > 0


def assert_orders_match(db: Path, run_id: str, exchange: Venue, account: str) -> None:
    ours = exchange.orders(account)
    assert ours, "the run placed no order: nothing was compared"
    stored = rows(
        db, "select client_order_id, state, fill_count from orders where run_id = ?", run_id
    )
    expected = {(o.client_order_id, _state(o.status), o.fill_count) for o in ours}
    placed = {o.client_order_id for o in ours}
    # Every order the exchange has is stored as the exchange says; every other stored order was
    # refused before it reached the book (risk, or the exchange), with nothing filled.
    assert {r for r in stored if r[0] in placed} == expected
    assert {(r[1], r[2]) for r in stored if r[0] not in placed} <= {("rejected", 0)}
    assert not [r for r in stored if r[1] in ("resting", "pending_submit", "pending_unknown")]


def assert_fills_settlements_and_positions_match(
    db: Path, run_id: str, exchange: Venue, account: str
) -> None:
    fills = exchange.fills(account)
    assert sorted(r[0] for r in rows(db, "select fill_id from fills where run_id = ?", run_id)) == (
        sorted(f.fill_id for f in fills)
    )
    settled = {s.ticker for s in exchange.settlements(account)}
    assert settled
    assert {
        r[0] for r in rows(db, "select ticker from settlements where run_id = ?", run_id)
    } == settled
    held = {p.ticker: p.position for p in exchange.positions(account) if p.position}
    open_rows = rows(db, "select ticker, position from positions where position != 0")
    assert dict(open_rows) == held


def _state(status: OrderStatus) -> str:
    return {"resting": "resting", "canceled": "canceled", "executed": "executed"}[status.value]


async def test_a_second_run_keeps_its_own_settlements_and_day_start(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, three_days: Path
) -> None:
    first, _, first_id = await run_to_the_end(monkeypatch, three_days, "simulated")
    second, capture, second_id = await run_to_the_end(monkeypatch, three_days, "simulated")
    assert first_id != second_id
    db = isolated / "run.sqlite3"
    for run_id, report in ((first_id, first), (second_id, second)):
        pnl = rows(db, "select sum(realized_pnl) from daily_pnl where run_id = ?", run_id)
        assert pnl[0][0] == report.end_equity - report.start_equity
    assert capture.venue is not None
    settled = {s.ticker for s in capture.venue.settlements(capture.account)}
    stored = {r[0] for r in rows(db, "select ticker from settlements where run_id = ?", second_id)}
    assert stored == settled
