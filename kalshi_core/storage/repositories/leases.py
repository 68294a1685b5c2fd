"""Market ownership between several instances sharing one database.

Each market is owned by at most one worker at a time through a row in ``market_leases``
that expires unless renewed (see docs/adr/0001-market-ownership.md). A claim is one
conditional ``UPDATE``; on PostgreSQL its candidate rows come from
``SELECT ... FOR UPDATE SKIP LOCKED`` so two claimers never wait on each other, and the
``WHERE`` re-checked on the locked row keeps ownership exclusive. SQLite serialises writers,
so the same statement is exclusive there without row locks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kalshi_core.errors import StorageError
from kalshi_core.storage.repositories._base import Repository, insert_ignore_each
from kalshi_core.storage.schema import MarketLeaseRow
from kalshi_core.storage.types import EPOCH

Clock = Callable[[], datetime]

#: Tickers per claim statement: it binds each twice (and the row insert three values each),
#: so a claim of 20,000 markets stays far under SQLite's 32,766 and PostgreSQL's 65,535
#: bound parameters, and no statement grows with the number of markets.
CLAIM_CHUNK = 500


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def wall_clock() -> datetime:
    return datetime.now(UTC)


class MarketLeases(Repository):
    """Claim, renew and release ownership of markets for one worker at a time."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock = wall_clock,
        ttl: timedelta = timedelta(seconds=60),
    ) -> None:
        super().__init__(sessions)
        if ttl <= timedelta(0):
            raise StorageError(f"market lease ttl must be positive, got {ttl}")
        self._clock = clock
        self._ttl = ttl
        self._ensured: set[str] = set()  # lease rows known to exist: insert each once
        self._renewed: dict[str, tuple[frozenset[str], datetime]] = {}  # worker: held, when

    async def claim(self, tickers: Iterable[str], worker_id: str) -> frozenset[str]:
        """Claim (or renew) ``tickers`` for ``worker_id``; returns the ones it now owns.

        A market is granted when it is free, expired, or already owned by this worker; the
        lease then runs for ``ttl`` from now. Call again before it expires to keep it.
        """
        wanted = sorted(set(tickers))  # one lock order for everyone: no deadlocks
        if not wanted:
            return frozenset()
        now = self._clock()
        if self._still_held(wanted, worker_id, now):
            return frozenset(wanted)
        owned: set[str] = set()
        inserted: list[str] = []
        async with self._writing() as session:  # one transaction, a statement per chunk
            for chunk in _chunks(wanted, CLAIM_CHUNK):
                inserted += await self._ensure_rows(session, chunk)
                owned.update((await session.scalars(self._grant(chunk, worker_id, now))).all())
        if self._shared() is None:  # committed: a caller's unit may still roll them back
            self._ensured.update(inserted)
        granted = frozenset(owned)
        self._renewed[worker_id] = (granted, now)
        return granted

    def _grant(self, tickers: list[str], worker_id: str, now: datetime) -> Any:
        """The conditional ``UPDATE`` that leases what of ``tickers`` is claimable."""
        claimable = self._claimable(tickers, worker_id, now)
        candidates = (
            select(MarketLeaseRow.ticker).where(claimable).with_for_update(skip_locked=True)
        )
        return (
            update(MarketLeaseRow)
            .where(MarketLeaseRow.ticker.in_(candidates.scalar_subquery()), claimable)
            .values(worker_id=worker_id, expires_time=now + self._ttl)
            .returning(MarketLeaseRow.ticker)
        )

    def _still_held(self, wanted: list[str], worker_id: str, now: datetime) -> bool:
        """Every market wanted was granted by this object's last claim for ``worker_id`` and
        that lease has half its ``ttl`` or more to run: no other worker can have taken one,
        so the claim is skipped (one write less per cycle). Renewed past half the ttl."""
        held = self._renewed.get(worker_id)
        if held is None or now >= held[1] + self._ttl / 2:
            return False
        return held[0].issuperset(wanted)

    @staticmethod
    def _claimable(tickers: list[str], worker_id: str, now: datetime) -> ColumnElement[bool]:
        return MarketLeaseRow.ticker.in_(tickers) & or_(
            MarketLeaseRow.worker_id.is_(None),
            MarketLeaseRow.worker_id == worker_id,
            MarketLeaseRow.expires_time <= now,
        )

    async def _ensure_rows(self, session: AsyncSession, tickers: list[str]) -> list[str]:
        """Insert the lease rows of ``tickers`` not known to exist; return those tickers."""
        new = [t for t in tickers if t not in self._ensured]
        if new:
            rows = [{"ticker": t, "worker_id": None, "expires_time": EPOCH} for t in new]
            connection = await session.connection()
            await connection.execute(insert_ignore_each(session, MarketLeaseRow, ["ticker"]), rows)
        return new

    async def release(self, worker_id: str, tickers: Iterable[str] | None = None) -> None:
        """Give up ``tickers`` (all of this worker's markets when ``None``)."""
        self._renewed.pop(worker_id, None)
        statement = (
            update(MarketLeaseRow)
            .where(MarketLeaseRow.worker_id == worker_id)
            .values(worker_id=None, expires_time=EPOCH)
        )
        if tickers is not None:
            statement = statement.where(MarketLeaseRow.ticker.in_(sorted(set(tickers))))
        async with self._writing() as session:
            await session.execute(statement)

    async def owned(self, worker_id: str) -> frozenset[str]:
        """Markets ``worker_id`` holds an unexpired lease on."""
        query = select(MarketLeaseRow.ticker).where(
            MarketLeaseRow.worker_id == worker_id, MarketLeaseRow.expires_time > self._clock()
        )
        async with self._reading() as session:
            return frozenset((await session.scalars(query)).all())

    async def holders(self, tickers: Iterable[str], worker_id: str) -> dict[str, int]:
        """The other workers holding an unexpired lease on any of ``tickers``: how many each."""
        wanted = sorted(set(tickers))
        counts: dict[str, int] = {}
        async with self._reading() as session:
            for chunk in _chunks(wanted, CLAIM_CHUNK):
                query = (
                    select(MarketLeaseRow.worker_id, func.count())
                    .where(
                        MarketLeaseRow.ticker.in_(chunk),
                        MarketLeaseRow.worker_id != worker_id,
                        MarketLeaseRow.expires_time > self._clock(),
                    )
                    .group_by(MarketLeaseRow.worker_id)
                )
                for owner, count in (await session.execute(query)).all():
                    if owner is not None:
                        counts[owner] = counts.get(owner, 0) + int(count)
        return counts
