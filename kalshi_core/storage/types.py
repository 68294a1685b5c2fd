"""Column types that behave the same on every backend.

* :class:`UTCDateTime`: always stores and returns timezone-aware UTC. PostgreSQL gets
  ``timestamptz``; SQLite gets integer microseconds since the Unix epoch, which sort and
  compare exactly (ISO text would break on mixed offsets) and keep range scans on indexes.
* :data:`MONEY`: money, prices and counts are integers in fixed-point units (``BIGINT``).
* :data:`ID`: an auto-increment surrogate key; on SQLite it must be ``INTEGER PRIMARY KEY``
  to alias the rowid, elsewhere ``BIGINT``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

MONEY = BigInteger
ID = BigInteger().with_variant(Integer(), "sqlite")


def to_micros(value: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (exact integer arithmetic)."""
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    """The aware UTC datetime ``micros`` microseconds after the epoch."""
    return EPOCH + timedelta(microseconds=micros)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp. Naive datetimes are refused, never guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"expected a timezone-aware datetime, got {value!r}")
        if dialect.name == "sqlite":
            return to_micros(value)
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
            return aware.astimezone(UTC)
        return from_micros(int(value))
