"""``kalshi-core run`` with ``run.market_data = "stream"``: the market maker trades on the
local exchange's WebSocket feed end to end (paper), its orders and fills in our database equal
the exchange's, and the run stores exactly what the same run on polling stores."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kalshi_core.app import App
from kalshi_core.cli import make_cli
from kalshi_core.client.stream_feed import StreamingSource
from kalshi_core.engine.cycle import Engine
from kalshi_core.engine.report import SessionReport
from kalshi_core.engine.session import Session, SessionOptions
from kalshi_core.errors import ConfigError
from kalshi_core.storage.database import Database
from kalshi_core.venues.base import VenueRun

FROM = datetime(2026, 1, 2, 13, 0, tzinfo=UTC)  # the first recorded hours with trades
CYCLES = 40


@pytest.fixture
def market_maker(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KALSHI_STRATEGIES__ENABLED", '["market_maker"]')
    monkeypatch.setenv("KALSHI_STRATEGIES__MARKET_MAKER__FAIR_VALUE", "mid")
    monkeypatch.setenv("KALSHI_PIPELINE__VALIDATORS", '["market_status"]')
    monkeypatch.setenv("KALSHI_MONITORING__ENABLED", "false")
    return isolated


class WatchedSession(Session):
    """A session that keeps the exchange's own orders and fills and the engine's market data
    as the run ends (the exchange lives in this process only while the run does)."""

    seen: dict[str, Any]

    async def _finish(self, engine: Engine) -> None:
        await super()._finish(engine)
        self.seen = {"market_data": engine.market_data}

    async def _report(
        self, venue: VenueRun, database: Database, start: int, reason: str
    ) -> SessionReport:
        exchange: Any = getattr(venue, "exchange", None)
        account = exchange.account_id
        self.seen["orders"] = {
            o.order_id: (o.client_order_id, o.ticker, o.status.value, o.fill_count)
            for o in exchange.venue.orders(account)
        }
        self.seen["fills"] = {
            (f.fill_id, f.order_id, f.count, f.yes_price, f.fee_cost)
            for f in exchange.venue.fills(account)
        }
        return await super()._report(venue, database, start, reason)


def stored(db_file: Path) -> dict[str, Any]:
    with sqlite3.connect(db_file) as db:
        orders = {
            row[0]: row[1:]
            for row in db.execute(
                "select order_id, client_order_id, ticker, state, fill_count from orders"
            )
        }
        fills = set(db.execute("select fill_id, order_id, count, yes_price, fee_cost from fills"))
    return {"orders": orders, "fills": fills}


async def run(market_data: str, monkeypatch: pytest.MonkeyPatch) -> WatchedSession:
    monkeypatch.setenv("KALSHI_RUN__MARKET_DATA", market_data)
    # one run id for both modes: the venue's ids and our client order ids derive from it
    options = SessionOptions(cycles=CYCLES, start=FROM, run_id="mm-on-the-stream")
    session = WatchedSession(App.create(), options)
    report = await session.run()
    assert report.cycles == CYCLES
    assert report.fills_stored == report.fills_venue
    assert report.pnl_check.matches, report.lines()
    return session


async def test_the_market_maker_trades_on_the_stream_and_our_books_match(
    market_maker: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = await run("stream", monkeypatch)
    market_data = session.seen["market_data"]
    assert market_data.mode == "stream"
    feed = market_data.feed
    assert isinstance(feed, StreamingSource)
    assert feed.stats.applied > CYCLES  # snapshots and deltas did arrive
    assert (feed.stats.overflows, feed.stats.disconnects) == (0, 0)
    assert market_data.unconfirmed_fills == 0  # every streamed fill was in REST's record
    assert market_data.unconfirmed_orders == 0  # and every streamed order state agreed
    ours = stored(market_maker / "run.sqlite3")
    assert len(ours["orders"]) > 5
    assert ours["fills"], "the market maker was never filled: nothing was checked"
    assert ours["orders"] == {
        oid: (coid, ticker, status, filled)
        for oid, (coid, ticker, status, filled) in session.seen["orders"].items()
    }
    assert ours["fills"] == session.seen["fills"]


async def test_a_streamed_run_stores_what_a_polled_run_stores(
    isolated: Path, market_maker: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await run("stream", monkeypatch)
    streamed = stored(market_maker / "run.sqlite3")
    monkeypatch.setenv("KALSHI_DATABASE__URL", f"sqlite+aiosqlite:///{isolated / 'poll.sqlite3'}")
    await run("poll", monkeypatch)
    polled = stored(isolated / "poll.sqlite3")
    assert streamed["fills"] == polled["fills"]
    assert streamed["orders"] == polled["orders"]


def test_streaming_needs_a_venue_with_a_feed(
    market_maker: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KALSHI_RUN__MARKET_DATA", "stream")
    monkeypatch.setenv("KALSHI_RUN__VENUE", "simulated")
    result = CliRunner().invoke(make_cli(App.create()), ["run", "--cycles", "1"])
    assert result.exit_code != 0
    assert "run.market_data = 'stream' needs a venue over HTTP" in result.output


def test_a_bad_market_data_setting_is_refused(
    market_maker: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KALSHI_RUN__MARKET_DATA", "websocket")
    with pytest.raises(ConfigError, match=r"run\.market_data"):
        App.create().check()


def test_kalshi_core_run_on_the_stream(market_maker: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KALSHI_RUN__MARKET_DATA", "stream")
    args = ["run", "--cycles", "8", "--from", "2026-01-02T13:00", "--run-id", "cli-stream"]
    result = CliRunner().invoke(make_cli(App.create()), args)
    assert result.exit_code == 0, result.output
    assert "stopped: 8 cycles done" in result.output
    assert "vs the exchange's" in result.output
    assert "DOES NOT MATCH" not in result.output
    with sqlite3.connect(market_maker / "run.sqlite3") as db:
        (orders,) = db.execute("select count(*) from orders where run_id = 'cli-stream'").fetchone()
    assert orders > 0
