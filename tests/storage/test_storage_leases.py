"""MarketLeases: a market is owned by at most one worker, across engines and processes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from kalshi_core.errors import StorageError
from kalshi_core.storage.database import Database
from kalshi_core.storage.repositories.leases import MarketLeases

START = datetime(2026, 11, 25, 12, tzinfo=UTC)


class ManualClock:
    """A clock the test moves by hand (no sleeping)."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


async def test_a_claimed_market_is_not_granted_to_another_worker(database: Database) -> None:
    first = await database.leases.claim(["A", "B"], "w1")
    second = await database.leases.claim(["B", "C"], "w2")
    assert first == {"A", "B"}
    assert second == {"C"}
    assert await database.leases.owned("w1") == {"A", "B"}
    assert await database.leases.owned("w2") == {"C"}


async def test_claiming_again_renews_and_release_frees(database: Database) -> None:
    await database.leases.claim(["A", "B"], "w1")
    assert await database.leases.claim(["A", "B"], "w1") == {"A", "B"}
    await database.leases.release("w1", ["A"])
    assert await database.leases.claim(["A", "B"], "w2") == {"A"}
    await database.leases.release("w1")
    assert await database.leases.owned("w1") == frozenset()
    assert await database.leases.claim(["B"], "w2") == {"B"}


async def test_an_expired_lease_can_be_taken_over(database: Database) -> None:
    clock = ManualClock()
    leases = MarketLeases(database.sessions, clock, ttl=timedelta(seconds=30))
    assert await leases.claim(["A"], "w1") == {"A"}
    clock.now += timedelta(seconds=29)
    assert await leases.claim(["A"], "w2") == frozenset()
    clock.now += timedelta(seconds=1)
    assert await leases.owned("w1") == frozenset()
    assert await leases.claim(["A"], "w2") == {"A"}
    assert await leases.claim(["A"], "w1") == frozenset()


async def test_empty_claim_and_bad_ttl(database: Database) -> None:
    assert await database.leases.claim([], "w1") == frozenset()
    with pytest.raises(StorageError, match="ttl must be positive"):
        MarketLeases(database.sessions, ttl=timedelta(0))


async def test_workers_on_separate_engines_never_own_the_same_market(target, database) -> None:
    """Several workers, each with its own engine, race to claim overlapping markets."""
    tickers = [f"M-{i:03d}" for i in range(60)]
    workers = [Database(target.make_engine()) for _ in range(4)]

    async def run(index: int, db: Database) -> list[frozenset[str]]:
        rounds = []
        for step in range(5):
            wanted = tickers[(index * 7 + step * 11) % 60 :] + tickers[: (index * 13) % 60]
            rounds.append(await db.leases.claim(wanted, f"w{index}"))
        return rounds

    try:
        results = await asyncio.gather(*(run(i, db) for i, db in enumerate(workers)))
        owned = [await db.leases.owned(f"w{i}") for i, db in enumerate(workers)]
    finally:
        for db in workers:
            await db.close()
    # Nothing expires or is released here, so every market a worker was ever granted must be
    # one no other worker was ever granted.
    ever_granted = [frozenset().union(*rounds) for rounds in results]
    granted = [t for held in ever_granted for t in held]
    assert len(granted) == len(set(granted))
    assert ever_granted == owned
    assert set(granted) == set(tickers)


async def test_a_claim_of_twenty_thousand_markets_binds_a_bounded_number_of_parameters(
    database: Database,
) -> None:
    """A claim larger than one chunk is granted whole, stays exclusive across chunks, and no
    statement binds more than SQLite's limit (one statement would bind 40,000 here)."""
    tickers = [f"M{i:05d}" for i in range(20_000)]
    assert await database.leases.claim(tickers[:700], "w2") == set(tickers[:700])
    granted = await database.leases.claim(tickers, "w1")
    assert granted == set(tickers[700:])
    assert await database.leases.owned("w1") == set(tickers[700:])


async def test_a_claim_rolled_back_inserts_its_lease_rows_again(database: Database) -> None:
    """Lease rows inserted in a transaction that rolled back are not taken as existing."""

    class Boom(Exception):
        pass

    async def claim_then_fail() -> None:
        async with database.unit():
            await database.leases.claim(["A", "B"], "w1")
            raise Boom

    with pytest.raises(Boom):
        await claim_then_fail()
    assert await database.leases.owned("w1") == frozenset()
    assert await database.leases.claim(["A", "B"], "w2") == {"A", "B"}


async def test_holders_are_the_other_workers_with_an_unexpired_lease(database: Database) -> None:
    clock = ManualClock()
    leases = MarketLeases(database.sessions, clock, ttl=timedelta(seconds=30))
    await leases.claim(["A", "B"], "w1")
    await leases.claim(["C"], "w2")
    await leases.claim(["D"], "me")
    clock.now += timedelta(seconds=10)
    await leases.claim(["E"], "w3")
    assert await leases.holders(["A", "B", "C", "D", "E", "F"], "me") == {"w1": 2, "w2": 1, "w3": 1}
    assert await leases.holders(["B", "F"], "me") == {"w1": 1}
    clock.now += timedelta(seconds=20)  # the first three leases expired: w3's holds
    assert await leases.holders(["A", "B", "C", "D", "E"], "me") == {"w3": 1}
    assert await leases.holders([], "me") == {}
