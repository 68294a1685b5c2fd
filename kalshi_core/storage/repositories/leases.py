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

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kalshi_core.errors import StorageError
from kalshi_core.storage.repositories._base import Repository, insert_ignore
from kalshi_core.storage.schema import MarketLeaseRow
from kalshi_core.storage.types import EPOCH

Clock = Callable[[], datetime]


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

    async def claim(self, tickers: Iterable[str], worker_id: str) -> frozenset[str]:
        """Claim (or renew) ``tickers`` for ``worker_id``; returns the ones it now owns.

        A market is granted when it is free, expired, or already owned by this worker; the
        lease then runs for ``ttl`` from now. Call again before it expires to keep it.
        """
        wanted = sorted(set(tickers))  # one lock order for everyone: no deadlocks
        if not wanted:
            return frozenset()
        await self._ensure_rows(wanted)
        now = self._clock()
        claimable = self._claimable(wanted, worker_id, now)
        candidates = (
            select(MarketLeaseRow.ticker).where(claimable).with_for_update(skip_locked=True)
        )
        statement = (
            update(MarketLeaseRow)
            .where(MarketLeaseRow.ticker.in_(candidates.scalar_subquery()), claimable)
            .values(worker_id=worker_id, expires_time=now + self._ttl)
            .returning(MarketLeaseRow.ticker)
        )
        async with self._sessions.begin() as session:
            owned = (await session.scalars(statement)).all()
        return frozenset(owned)

    @staticmethod
    def _claimable(tickers: list[str], worker_id: str, now: datetime) -> ColumnElement[bool]:
        return MarketLeaseRow.ticker.in_(tickers) & or_(
            MarketLeaseRow.worker_id.is_(None),
            MarketLeaseRow.worker_id == worker_id,
            MarketLeaseRow.expires_time <= now,
        )

    async def _ensure_rows(self, tickers: list[str]) -> None:
        new = [t for t in tickers if t not in self._ensured]
        if not new:
            return
        rows = [{"ticker": t, "worker_id": None, "expires_time": EPOCH} for t in new]
        async with self._sessions.begin() as session:
            await session.execute(insert_ignore(session, MarketLeaseRow, rows, ["ticker"]))
        self._ensured.update(new)

    async def release(self, worker_id: str, tickers: Iterable[str] | None = None) -> None:
        """Give up ``tickers`` (all of this worker's markets when ``None``)."""
        statement = (
            update(MarketLeaseRow)
            .where(MarketLeaseRow.worker_id == worker_id)
            .values(worker_id=None, expires_time=EPOCH)
        )
        if tickers is not None:
            statement = statement.where(MarketLeaseRow.ticker.in_(sorted(set(tickers))))
        async with self._sessions.begin() as session:
            await session.execute(statement)

    async def owned(self, worker_id: str) -> frozenset[str]:
        """Markets ``worker_id`` holds an unexpired lease on."""
        query = select(MarketLeaseRow.ticker).where(
            MarketLeaseRow.worker_id == worker_id, MarketLeaseRow.expires_time > self._clock()
        )
        async with self._sessions() as session:
            return frozenset((await session.scalars(query)).all())
