"""``db export``: stream one table to JSON Lines or CSV.

Values keep their stored meaning: money and counts stay integers in fixed-point units, times
are ISO 8601 UTC strings. Rows are streamed, so exporting a large table uses little memory.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Literal, TextIO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from kalshi_core.errors import ConfigError
from kalshi_core.storage.schema import TABLE_NAMES, Base

ExportFormat = Literal["jsonl", "csv"]
FORMATS: tuple[ExportFormat, ...] = ("jsonl", "csv")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _write_jsonl(out: TextIO, row: Mapping[str, Any]) -> None:
    out.write(json.dumps({k: _plain(v) for k, v in row.items()}, separators=(",", ":")))
    out.write("\n")


async def export_table(engine: AsyncEngine, table_name: str, fmt: ExportFormat, out: TextIO) -> int:
    """Write every row of ``table_name`` to ``out`` in ``fmt``; returns the number of rows."""
    if table_name not in TABLE_NAMES:
        raise ConfigError(f"unknown table {table_name!r}; tables: {', '.join(TABLE_NAMES)}")
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}; formats: {', '.join(FORMATS)}")
    table = Base.metadata.tables[table_name]
    columns = [c.name for c in table.columns]
    writer = csv.writer(out, lineterminator="\n") if fmt == "csv" else None
    if writer is not None:
        writer.writerow(columns)
    count = 0
    query = select(table).order_by(*table.primary_key.columns)
    async with engine.connect() as connection:
        result = await connection.stream(query)
        async for row in result.mappings():
            if writer is None:
                _write_jsonl(out, dict(row))
            else:
                writer.writerow([_plain(row[c]) for c in columns])
            count += 1
    return count
