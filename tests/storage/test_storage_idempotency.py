"""Orders are recorded once per client_order_id and fills once per fill_id, even under races."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from kalshi_core.models import BookSide, Fill, Side
from kalshi_core.storage.database import Database
from kalshi_core.storage.records import OrderState
from kalshi_core.storage.schema import OrderRow

NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


async def test_recording_the_same_client_order_id_returns_the_existing_order(
    database: Database, samples
) -> None:
    first = await database.orders.record_intent("coid-1", samples.intent(), NOW)
    changed = samples.intent(price=100, count=1)
    again = await database.orders.record_intent("coid-1", changed, NOW + timedelta(seconds=5))
    assert again == first
    assert again.intent.price == 5787
    assert await database.orders.count() == 1


async def test_a_retry_after_unknown_outcome_keeps_the_unknown_state(
    database: Database, samples
) -> None:
    await database.orders.record_intent("coid-1", samples.intent(), NOW)
    await database.orders.mark_unknown("coid-1", NOW, "connection dropped")
    retried = await database.orders.record_intent("coid-1", samples.intent(), NOW)
    assert retried.state is OrderState.PENDING_UNKNOWN
    assert retried.error == "connection dropped"


async def test_the_same_fill_twice_is_a_no_op(database: Database) -> None:
    fill = Fill(
        fill_id="f-1",
        order_id="o-1",
        ticker="A-1-X",
        outcome_side=Side.YES,
        book_side=BookSide.BID,
        count=100,
        yes_price=4200,
        no_price=5800,
        created_time=NOW,
    )
    assert await database.fills.record(fill) is True
    assert await database.fills.record(fill) is False
    assert await database.fills.record(attrs.evolve(fill, count=1)) is False
    assert await database.fills.for_order("o-1") == [fill]


async def test_concurrent_recording_of_the_same_intent_in_one_database(
    database: Database, samples
) -> None:
    results = await asyncio.gather(
        *(database.orders.record_intent("same", samples.intent(), NOW) for _ in range(20))
    )
    assert len({r.client_order_id for r in results}) == 1
    assert all(r == results[0] for r in results)
    assert await database.orders.count() == 1


async def _worker(database: Database, intent, ids: list[str]) -> list[str]:
    recorded = []
    for client_order_id in ids:
        stored = await database.orders.record_intent(client_order_id, intent, NOW)
        recorded.append(stored.client_order_id)
    return recorded


async def test_two_workers_with_separate_engines_never_duplicate(target, database, samples) -> None:
    """Two instances (own engine, own pool) race over overlapping client_order_ids."""
    other = Database(target.make_engine())
    try:
        first_ids = [f"coid-{i}" for i in range(0, 1500)]
        second_ids = [f"coid-{i}" for i in range(750, 2250)]  # 750 shared ids
        intent = samples.intent()
        got_first, got_second = await asyncio.gather(
            _worker(database, intent, first_ids), _worker(other, intent, second_ids)
        )
    finally:
        await other.close()
    assert got_first == first_ids
    assert got_second == second_ids
    async with database.sessions() as session:
        total = await session.scalar(select(func.count()).select_from(OrderRow))
        distinct = await session.scalar(select(func.count(func.distinct(OrderRow.client_order_id))))
    assert total == distinct == 2250


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ids=st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=12))
async def test_any_sequence_of_recordings_keeps_one_row_per_id(database, samples, ids) -> None:
    before = {o.client_order_id for o in await database.orders.in_state(OrderState.PENDING_SUBMIT)}
    for client_order_id in ids:
        await database.orders.record_intent(client_order_id, samples.intent(), NOW)
    assert await database.orders.count() == len(before | set(ids))
