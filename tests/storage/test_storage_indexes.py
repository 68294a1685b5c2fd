"""Every hot query is answered through its index (query plans, on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import ClauseElement, Executable, Select, text
from sqlalchemy.ext.compiler import compiles

from kalshi_core.storage.database import Database
from kalshi_core.storage.repositories.decisions import decisions_query
from kalshi_core.storage.repositories.ledger import ai_spend_since_query, open_positions_query
from kalshi_core.storage.repositories.orders import live_orders_query

NOW = datetime(2026, 11, 25, tzinfo=UTC)


class Explain(Executable, ClauseElement):
    """EXPLAIN of a statement, compiled by the same dialect (so binds are processed)."""

    inherit_cache = False

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement


@compiles(Explain, "sqlite")
def _explain_sqlite(element: Explain, compiler: Any, **kw: Any) -> str:
    return "EXPLAIN QUERY PLAN " + compiler.process(element.statement, **kw)


@compiles(Explain, "postgresql")
def _explain_postgresql(element: Explain, compiler: Any, **kw: Any) -> str:
    return "EXPLAIN " + compiler.process(element.statement, **kw)


async def plan(database: Database, statement: Select[Any]) -> str:
    async with database.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # The test tables are tiny; without this PostgreSQL rightly prefers a seq scan.
            await connection.execute(text("SET enable_seqscan = off"))
        rows = (await connection.execute(Explain(statement))).all()
    return "\n".join(str(row[-1]) for row in rows)


HOT_QUERIES = {
    "open positions": (open_positions_query(), "ix_positions_open"),
    "resting orders by market": (live_orders_query("A-1-X"), "ix_orders_ticker_state"),
    "decisions by market and time": (
        decisions_query("A-1-X", NOW - timedelta(1), NOW, limit=100),
        "ix_decisions_ticker_created",
    ),
    "AI spend today": (ai_spend_since_query(NOW), "ix_ai_spend_created_cost"),
}


@pytest.mark.parametrize("name", list(HOT_QUERIES))
async def test_hot_query_uses_its_index(database: Database, name: str) -> None:
    statement, index = HOT_QUERIES[name]
    explained = await plan(database, statement)
    assert index in explained, f"{name} does not use {index}:\n{explained}"
    assert "SCAN " + statement.get_final_froms()[0].name + "\n" not in explained + "\n"
