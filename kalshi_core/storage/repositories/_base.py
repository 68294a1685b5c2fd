"""What every repository shares: its session factory, the JSON converter and upserts.

``INSERT ... ON CONFLICT`` is how writes stay idempotent without racing (two instances may
record the same order or fill at once); SQLite and PostgreSQL spell it the same way, through
their own dialect constructs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
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


class Repository:
    """Base of all repositories: each public method runs in its own short transaction."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], scope: RunScope | None = None
    ) -> None:
        self._sessions = sessions
        self._scope = scope or RunScope()

    @property
    def run_id(self) -> str:
        return self._scope.run_id


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


def upsert(
    session: AsyncSession, model: type[Base], row: Mapping[str, Any], keys: Sequence[str]
) -> Insert:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE`` setting every non-key column of ``row``."""
    statement = _dialect_insert(session, model).values(dict(row))
    changes = {name: statement.excluded[name] for name in row if name not in keys}
    return statement.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=list(keys), set_=changes
    )
