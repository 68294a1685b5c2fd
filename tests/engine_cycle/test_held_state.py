"""What the engine holds in memory of the database between cycles (its stored open orders,
today's AI spend): read at start, kept up to date with its own writes, read again after an
error and, for orders, every ``settlements_every`` rounds (another worker's writes)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from kalshi_core.builtin.sqlite_storage import SCHEME, sqlite_backend
from kalshi_core.clock import ManualClock
from kalshi_core.engine.reconcile import NOT_FOUND
from kalshi_core.errors import ExchangeError, StorageError
from kalshi_core.exchange.venue import Venue
from kalshi_core.models import Action, OrderIntent, Side
from kalshi_core.money import CONTRACT
from kalshi_core.storage.database import Database
from kalshi_core.storage.records import AiSpend, OrderState

from .conftest import TICKERS, TRADER, make_engine


async def _other_worker(tmp_path: Path) -> Database:
    """A second Database object on the same file: another worker's writes."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'engine.sqlite3'}"
    return await Database.open(url, {SCHEME: sqlite_backend}, {}, check=False)


async def _record_unknown(db: Database, client_order_id: str, clock: ManualClock) -> None:
    intent = OrderIntent(
        ticker=TICKERS[0], side=Side.YES, action=Action.BUY, price=4500, count=CONTRACT,
        strategy="other",
    )  # fmt: skip
    await db.orders.record_intent(client_order_id, intent, clock.now(), "d-other")
    await db.orders.mark_unknown(client_order_id, clock.now(), "timeout")


async def _state(database: Database, client_order_id: str) -> OrderState:
    stored = await database.orders.get(client_order_id)
    assert stored is not None
    return stored.state


async def test_another_workers_unknown_order_is_settled_within_the_safety_net(
    venue: Venue, database: Database, clock: ManualClock, tmp_path: Path
) -> None:
    engine = make_engine(venue, database, clock, probability=3000)
    await engine.run_cycle()  # the engine now holds its (empty) stored open orders
    other = await _other_worker(tmp_path)
    try:
        await _record_unknown(other, "kc-other", clock)
    finally:
        await other.close()
    rounds = engine.reconciler.settlements_every
    for _ in range(rounds - 1):
        clock.advance(timedelta(minutes=1))
        await engine.run_cycle()
    assert await _state(database, "kc-other") is OrderState.PENDING_UNKNOWN  # held, not read
    clock.advance(timedelta(minutes=1))
    await engine.run_cycle()
    stored = await database.orders.get("kc-other")
    assert stored is not None
    assert (stored.state, stored.error) == (OrderState.REJECTED, NOT_FOUND)


async def test_after_a_failed_cycle_the_engine_reads_the_database_again(
    venue: Venue,
    database: Database,
    clock: ManualClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = make_engine(venue, database, clock, probability=3000)
    await engine.run_cycle()
    midnight = clock.now().replace(hour=0, minute=0)
    other = await _other_worker(tmp_path)
    try:
        await _record_unknown(other, "kc-other", clock)
        spend = AiSpend(created_time=clock.now(), model="m", cost=777, ticker=TICKERS[0])
        await other.ai_spend.record(spend)
    finally:
        await other.close()
    assert await engine._spent_today() == 0  # held: the other worker's spend is not read

    async def venue_down() -> None:
        raise ExchangeError("venue down")

    monkeypatch.setattr(engine.gateway, "balance", venue_down)
    clock.advance(timedelta(minutes=1))
    with pytest.raises(ExchangeError, match="venue down"):
        await engine.run_cycle()
    monkeypatch.undo()
    clock.advance(timedelta(minutes=1))
    await engine.run_cycle()
    assert await _state(database, "kc-other") is OrderState.REJECTED
    assert await engine._spent_today() == 777 == await database.ai_spend.total_since(midnight)


async def test_own_order_writes_are_seen_by_the_next_round(
    venue: Venue, database: Database, clock: ManualClock
) -> None:
    """An order the engine itself records between rounds is in the next round's view."""
    engine = make_engine(venue, database, clock, probability=3000)
    await engine.run_cycle()
    await _record_unknown(database, "kc-mine", clock)  # through the engine's own Database
    clock.advance(timedelta(minutes=1))
    await engine.run_cycle()
    assert await _state(database, "kc-mine") is OrderState.REJECTED


async def test_rows_of_a_cycle_whose_store_failed_are_stored_by_the_next(
    venue: Venue,
    database: Database,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The end-of-cycle transaction rolls back as a whole; the engine then forgets what it
    believed stored, so the next cycle writes the positions again."""
    await make_engine(venue, database, clock).run_cycle()  # buys: positions on the venue
    assert venue.positions(TRADER)
    watcher = make_engine(venue, database, clock, probability=3000)  # trades no more

    async def disk_full(*args: object) -> None:
        raise StorageError("disk full")

    monkeypatch.setattr(database.decisions, "record_many", disk_full)
    clock.advance(timedelta(minutes=1))
    with pytest.raises(StorageError, match="disk full"):
        await watcher.run_cycle()
    assert await database.positions.open() == []  # rolled back with the rest of the cycle
    monkeypatch.undo()
    clock.advance(timedelta(minutes=1))
    await watcher.run_cycle()
    stored = {p.ticker: p.position for p in await database.positions.open()}
    assert stored == {p.ticker: p.position for p in venue.positions(TRADER) if p.position}
