"""A run is a pure function of data, settings and seed: the same command twice gives identical
stored orders, fills and P&L, on the in-process venue and on the local exchange over HTTP."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from kalshi_core.app import App
from kalshi_core.engine.session import Session, SessionOptions
from kalshi_core.hookspecs import hookimpl
from kalshi_core.plugins import PluginManager
from kalshi_core.venues.base import OpenVenue, RunSpec
from kalshi_core.venues.simulated import open_simulated
from tests.venues.conftest import copy_set

# Whole runs over recorded history: the full suite on one Python (tox.ini).
# these runs need orders: forecasts without a stderr trade as if certain
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("trade_unproven_edges")]

ORDERS = (
    "select client_order_id, order_id, state, ticker, side, action, price, count, fill_count, "
    "remaining_count, created_time, updated_time from orders order by 1"
)
FILLS = "select fill_id, ticker, count, yes_price, fee_cost, created_time from fills order by 1"
PNL = "select day, realized_pnl, ai_cost from daily_pnl order by 1"


def dump(database: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(database) as db:
        return {query: db.execute(query).fetchall() for query in (ORDERS, FILLS, PNL)}


async def run_into(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, name: str, **options: Any
) -> Path:
    database = isolated / f"{name}.sqlite3"
    monkeypatch.setenv("KALSHI_DATABASE__URL", f"sqlite+aiosqlite:///{database}")
    await Session(App.create(), SessionOptions(**options)).run()
    return database


@pytest.mark.parametrize("venue", ["simulated", "paper"])
async def test_the_same_command_twice_stores_identical_orders_fills_and_pnl(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, venue: str
) -> None:
    monkeypatch.setenv("KALSHI_RUN__VENUE", venue)
    first = dump(await run_into(isolated, monkeypatch, "first", cycles=150))
    second = dump(await run_into(isolated, monkeypatch, "second", cycles=150))
    assert first[ORDERS], "the run placed no order: nothing was compared"
    assert first[FILLS]
    assert first == second


async def test_the_in_process_venue_trades_exactly_like_the_local_exchange_over_http(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the transport differs: the same decisions meet the same matching engine."""
    monkeypatch.setenv("KALSHI_RUN__VENUE", "simulated")
    simulated = dump(await run_into(isolated, monkeypatch, "simulated", cycles=150))
    monkeypatch.setenv("KALSHI_RUN__VENUE", "paper")
    paper = dump(await run_into(isolated, monkeypatch, "paper", cycles=150))
    assert simulated[ORDERS]

    def comparable(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return sorted(row[2:] for row in rows)  # the run (and so the ids) differ by venue

    assert comparable(simulated[ORDERS]) == comparable(paper[ORDERS])
    assert sorted(r[1:] for r in simulated[FILLS]) == sorted(r[1:] for r in paper[FILLS])
    assert simulated[PNL] == paper[PNL]


async def test_a_second_run_on_one_database_gets_its_own_run_id(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KALSHI_RUN__VENUE", "simulated")
    first = Session(App.create(), SessionOptions(cycles=5))
    await first.run()
    second = Session(App.create(), SessionOptions(cycles=5))
    await second.run()
    assert first.run_id.endswith("-1")
    assert second.run_id == first.run_id[:-1] + "2"


async def test_run_on_a_data_folder_it_was_never_given(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, shared_data_dir: Path
) -> None:
    copy_set(shared_data_dir / "kxinxu", isolated / "mine" / "week", prefix="ZZ")
    monkeypatch.setenv("KALSHI_RUN__VENUE", "simulated")
    options = {"cycles": 150, "data_dir": str(isolated / "mine")}
    first = dump(await run_into(isolated, monkeypatch, "a", **options))
    second = dump(await run_into(isolated, monkeypatch, "b", **options))
    assert first[ORDERS]
    assert first == second
    assert all(row[3].startswith("ZZ") for row in first[ORDERS])


class ThirdPartyVenue:
    """A plugin's venue: the simulated one under another name, counting its openings."""

    opened = 0

    @hookimpl
    def register_venues(self, register: Any) -> None:
        register("mine", self.open)

    @contextlib.asynccontextmanager
    async def open(
        self, section: Mapping[str, Any], *, app: Any, run: RunSpec
    ) -> AsyncIterator[OpenVenue]:
        ThirdPartyVenue.opened += 1
        async with open_simulated(section, app=app, run=run) as venue:
            venue.description = "a third party's venue"
            yield venue


async def test_a_plugin_venue_is_chosen_by_run_venue(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KALSHI_RUN__VENUE", "mine")
    manager = PluginManager()
    manager.load_entry_points()
    manager.register(ThirdPartyVenue(), "third-party")
    report = await Session(App.create(manager=manager), SessionOptions(cycles=3)).run()
    assert ThirdPartyVenue.opened == 1
    assert report.cycles == 3
