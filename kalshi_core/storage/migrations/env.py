"""Alembic environment: runs migrations on the connection handed over by
:mod:`kalshi_core.storage.migrate`, or (plain ``alembic`` CLI) on an async engine built from
``sqlalchemy.url``.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from kalshi_core.storage.schema import Base

target_metadata = Base.metadata


def run_on(connection: Connection) -> None:
    # render_as_batch lets later revisions ALTER tables on SQLite (copy-and-move).
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_with_own_engine(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_on)
    finally:
        await engine.dispose()


def main() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url, or migrate through `kalshi-core db upgrade`")
    asyncio.run(run_with_own_engine(url))


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported; use `kalshi-core db`")
main()
