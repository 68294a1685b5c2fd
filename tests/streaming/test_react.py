"""Between cycles the engine reacts to streamed book moves where a strategy asks: the market
maker (``reacts_to_updates``) re-quotes the market that moved, and only that one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kalshi_core.app import App
from kalshi_core.engine.cycle import Engine
from kalshi_core.engine.session import (
    Session,
    SessionOptions,
    begin_run,
    build_engine,
    open_database,
)
from kalshi_core.exchange import VenueOrder
from kalshi_core.models import BookSide, Order
from kalshi_core.money import CONTRACT, DOLLAR
from kalshi_core.venues.base import RunSpec
from kalshi_core.venues.streaming import open_market_feed

from .test_run_stream import FROM

MOVER = "mover"


@pytest.fixture
async def streamed_engine(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Engine, Any]]:
    monkeypatch.setenv("KALSHI_STRATEGIES__ENABLED", '["market_maker", "exits"]')
    monkeypatch.setenv("KALSHI_STRATEGIES__MARKET_MAKER__FAIR_VALUE", "mid")
    monkeypatch.setenv("KALSHI_PIPELINE__VALIDATORS", '["market_status"]')
    monkeypatch.setenv("KALSHI_RUN__MARKET_DATA", "stream")
    app = App.create()
    database = await open_database(app)
    run_id = await begin_run(app, SessionOptions(run_id="react"), database)
    spec = RunSpec(run_id=run_id, start=FROM)
    try:
        async with (
            app.build("venues", "paper", app=app, run=spec) as venue,
            open_market_feed(app, venue) as feed,
        ):
            yield build_engine(app, venue, database, run_id, feed), venue
    finally:
        await database.close()


def quotes_by_market(orders: list[Order]) -> dict[str, set[tuple[str, int]]]:
    out: dict[str, set[tuple[str, int]]] = {}
    for o in orders:
        out.setdefault(o.ticker, set()).add((o.client_order_id, o.yes_price))
    return out


async def test_the_market_maker_requotes_the_market_that_moved(
    streamed_engine: tuple[Engine, Any],
) -> None:
    engine, venue = streamed_engine
    for _ in range(3):
        await venue.advance(timedelta(minutes=10))
        await engine.run_cycle()
    before = quotes_by_market(await venue.gateway.resting_orders())
    assert len(before) >= 2, "the market maker quotes in at least two markets"
    moved, still = sorted(before)[:2]
    book = await venue.gateway.orderbook(moved)
    exchange = venue.exchange.venue
    exchange.deposit(MOVER, 1_000 * DOLLAR)
    best_bid = book.best_yes_bid.price if book.best_yes_bid else 0
    exchange.place_order(  # a new best bid from someone else: the mid moves
        VenueOrder(
            account=MOVER, ticker=moved, side=BookSide.BID, price=best_bid + 100, count=CONTRACT
        )
    )
    assert await engine.react(await engine.market_data.refresh(sorted(engine.owned))) is None
    venue.clock.advance(timedelta(seconds=1))  # a reaction happens later than the cycle
    changed = await engine.market_data.refresh(sorted(engine.owned))
    assert changed == set()  # already applied by the refresh above
    report = await engine.react({moved})
    assert report is not None
    assert report.markets == 1
    after = quotes_by_market(await venue.gateway.resting_orders())
    assert after.get(moved) != before[moved]  # re-quoted (or pulled on an adverse move)
    assert after[still] == before[still]  # the market that did not move is left alone
    assert engine.market_data.mode == "stream"


async def test_the_session_reacts_while_it_waits_between_cycles(
    streamed_engine: tuple[Engine, Any],
) -> None:
    """``Session._react_until`` (the wall-time wait of a live venue): a streamed move wakes it,
    and the engine reacts before the next cycle is due."""
    engine, venue = streamed_engine
    for _ in range(3):
        await venue.advance(timedelta(minutes=10))
        await engine.run_cycle()
    before = quotes_by_market(await venue.gateway.resting_orders())
    moved = sorted(before)[0]
    cycles = engine.cycles
    session = Session(App.create(), SessionOptions())
    waiting = asyncio.create_task(session._react_until(engine, time.monotonic() + 30))
    venue.clock.advance(timedelta(seconds=1))
    exchange = venue.exchange
    exchange.venue.deposit(MOVER, 1_000 * DOLLAR)
    book = await venue.gateway.orderbook(moved)
    best_bid = book.best_yes_bid.price if book.best_yes_bid else 0
    order = VenueOrder(
        account=MOVER, ticker=moved, side=BookSide.BID, price=best_bid + 100, count=CONTRACT
    )
    exchange.venue.place_order(order)
    exchange.app.feed.tick()  # what the exchange's own timer does on a live venue
    for _ in range(2000):
        if engine.cycles > cycles:
            break
        await asyncio.sleep(0.005)
    session.stop.set()
    await asyncio.wait_for(waiting, 10)
    assert engine.cycles == cycles + 1  # one reaction, long before the 30 s wait was over
    after = quotes_by_market(await venue.gateway.resting_orders())
    assert after.get(moved) != before[moved]
