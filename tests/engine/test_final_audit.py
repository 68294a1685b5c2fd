"""An audit event signalled after the last cycle (a stop pressed between cycles) is stored by
the session's final reconciliation, not lost with the buffer."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kalshi_core import signals
from kalshi_core.clock import ManualClock
from kalshi_core.exchange.venue import Venue
from kalshi_core.storage import migrate
from kalshi_core.venues.simulated import VenueGateway
from tests.multiworker.support import TRADER, list_active, make_engine, market_tickers
from tests.multiworker.support import open_database as open_db


def _kinds(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [kind for (kind,) in db.execute("select kind from audit_events order by id")]


async def test_a_stop_signalled_after_the_last_cycle_is_audited(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite3"
    database = open_db(f"sqlite+aiosqlite:///{path}")
    await migrate.upgrade(database.engine)
    venue = Venue(ManualClock())
    list_active(venue, market_tickers(2))
    engine = make_engine(VenueGateway(venue, TRADER), database, venue.clock, worker_id="w-1")
    try:
        await engine.run_cycle()
        signals.stop_changed.send(object(), level="stop", previous="running", reason="pressed")
        assert "stop_changed" not in _kinds(path)  # buffered: the cycle already flushed
        await engine.final_reconcile()
        assert _kinds(path).count("stop_changed") == 1
    finally:
        engine.audit.close()
        await database.close()
