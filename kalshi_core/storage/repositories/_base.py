"""What every repository shares: its session factory, the JSON converter and upserts.

``INSERT ... ON CONFLICT`` is how writes stay idempotent without racing (two instances may
record the same order or fill at once); SQLite and PostgreSQL spell it the same way, through
their own dialect constructs.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, TypeVar

from cattrs.preconf.json import make_converter
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.dml import Insert

from kalshi_core.errors import StorageError
from kalshi_core.storage.schema import Base

converter = make_converter()

T = TypeVar("T")


def dump_json(value: Any) -> str:
    """Serialise a domain object (attrs, enums, aware datetimes) to compact JSON text."""
    return json.dumps(converter.unstructure(value), separators=(",", ":"), sort_keys=True)


def load_json(text: str, kind: type[T]) -> T:
    """Rebuild a domain object from :func:`dump_json` output."""
    return converter.structure(json.loads(text), kind)


class RunScope:
    """The run every row written through one :class:`Database` belongs to ("" outside a run).

    The session sets it once, when the run begins; repositories stamp it on what they write
    and scope by it what must never mix between runs (settlements, daily P&L)."""

    def __init__(self, run_id: str = "") -> None:
        self.run_id = run_id


Sessions = async_sessionmaker[AsyncSession]

#: The unit of work open in this task, if any, and the session factory it belongs to.
_UNIT: ContextVar[tuple[Sessions, AsyncSession] | None] = ContextVar("storage_unit", default=None)


@contextlib.asynccontextmanager
async def unit_of_work(sessions: Sessions) -> AsyncIterator[None]:
    """One transaction for every repository call on ``sessions`` inside the block (this task
    and the tasks it starts): committed at the end, rolled back on an error. A cycle stores
    its rows in a few of these instead of one transaction per call. A unit already open on
    the same factory is joined. Never hold one across a venue call: on SQLite it holds the
    write lock, and another worker waits for it."""
    current = _UNIT.get()
    if current is not None and current[0] is sessions:
        yield
        return
    async with sessions.begin() as session:
        token = _UNIT.set((sessions, session))
        try:
            yield
        finally:
            _UNIT.reset(token)


@contextlib.asynccontextmanager
async def _joined(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """A repository call inside a unit: its rows are flushed and forgotten afterwards, so a
    later call in the unit never reads a stale object from the session's identity map."""
    yield session
    await session.flush()
    session.expunge_all()


class Repository:
    """Base of all repositories: each public method runs in its own short transaction, or
    in the unit of work open around it (:func:`unit_of_work`)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], scope: RunScope | None = None
    ) -> None:
        self._sessions = sessions
        self._scope = scope or RunScope()

    @property
    def run_id(self) -> str:
        return self._scope.run_id

    def unit(self) -> contextlib.AbstractAsyncContextManager[None]:
        """A unit of work on this repository's database (:func:`unit_of_work`)."""
        return unit_of_work(self._sessions)

    def _shared(self) -> AsyncSession | None:
        current = _UNIT.get()
        return current[1] if current is not None and current[0] is self._sessions else None

    def _writing(self) -> contextlib.AbstractAsyncContextManager[AsyncSession]:
        """A transaction for one write: the open unit's, else a new one committed at the end."""
        shared = self._shared()
        return _joined(shared) if shared is not None else self._sessions.begin()

    def _reading(self) -> contextlib.AbstractAsyncContextManager[AsyncSession]:
        """A session for one read: the open unit's (it sees the unit's writes), else a new one."""
        shared = self._shared()
        return _joined(shared) if shared is not None else self._sessions()


def _dialect_insert(session: AsyncSession, model: type[Base]) -> Any:
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(model)
    if name == "sqlite":
        return sqlite.insert(model)
    raise StorageError(f"storage backend dialect {name!r} has no ON CONFLICT support here")


def insert_ignore(
    session: AsyncSession, model: type[Base], rows: Sequence[Mapping[str, Any]], keys: Sequence[str]
) -> Insert:
    """``INSERT ... ON CONFLICT (keys) DO NOTHING`` for ``rows``."""
    statement = _dialect_insert(session, model).values(list(rows))
    return statement.on_conflict_do_nothing(index_elements=list(keys))  # type: ignore[no-any-return]


def insert_ignore_each(session: AsyncSession, model: type[Base], keys: Sequence[str]) -> Insert:
    """``INSERT ... ON CONFLICT (keys) DO NOTHING`` of one row, for a connection to execute
    with many rows at once: compiled once and cached, where :func:`insert_ignore`'s
    multi-row ``VALUES`` is compiled afresh, per bound value, for every batch."""
    statement = _dialect_insert(session, model)
    return statement.on_conflict_do_nothing(index_elements=list(keys))  # type: ignore[no-any-return]


def upsert(
    session: AsyncSession, model: type[Base], row: Mapping[str, Any], keys: Sequence[str]
) -> Insert:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE`` setting every non-key column of ``row``."""
    return upsert_many(session, model, [row], keys)


def upsert_many(
    session: AsyncSession, model: type[Base], rows: Sequence[Mapping[str, Any]], keys: Sequence[str]
) -> Insert:
    """One multi-row :func:`upsert`; every row has the same columns (the first row's)."""
    statement = _dialect_insert(session, model).values([dict(row) for row in rows])
    changes = {name: statement.excluded[name] for name in rows[0] if name not in keys}
    return statement.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=list(keys), set_=changes
    )
