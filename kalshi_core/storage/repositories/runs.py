"""Runs: a deterministic id per run, numbered per fingerprint so repeats never collide."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from kalshi_core.errors import StorageError
from kalshi_core.storage.repositories._base import Repository
from kalshi_core.storage.schema import RunRow

ATTEMPTS = 20


class Runs(Repository):
    async def begin(self, fingerprint: str, venue: str) -> str:
        """Record a new run of ``fingerprint`` and return its id, ``<fingerprint>-<n>``."""
        for _ in range(ATTEMPTS):
            async with self._sessions() as session:
                count = select(func.count()).where(RunRow.fingerprint == fingerprint)
                number = int((await session.execute(count)).scalar_one()) + 1
                run_id = f"{fingerprint}-{number}"
                session.add(
                    RunRow(run_id=run_id, fingerprint=fingerprint, venue=venue, started_time=None)
                )
                try:
                    await session.commit()
                except IntegrityError:  # another process took that number first
                    continue
                return run_id
        raise StorageError(f"could not number a new run of {fingerprint} in {ATTEMPTS} attempts")

    async def claim(self, run_id: str, venue: str) -> str:
        """Record a run under the id the user chose; an id already used is an error."""
        async with self._sessions() as session:
            session.add(RunRow(run_id=run_id, fingerprint=run_id, venue=venue, started_time=None))
            try:
                await session.commit()
            except IntegrityError:
                raise StorageError(
                    f"run id {run_id!r} is already in this database: choose another --run-id"
                ) from None
        return run_id

    async def started(self, run_id: str, when: datetime) -> None:
        """Stamp the venue's time at the start of the run."""
        async with self._sessions() as session:
            await session.execute(
                update(RunRow).where(RunRow.run_id == run_id).values(started_time=when)
            )
            await session.commit()
