"""The application's database: engine, session factory and every repository, in one object.

The storage backend is chosen by the URL's drivername among the backends plugins registered
(``register_storage_backends``); SQLite is built in, PostgreSQL comes with
``kalshi-plugin-postgres``. Passwords in URLs never reach a message or a log.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from kalshi_core.errors import ConfigError, StorageError
from kalshi_core.storage.migrate import check_schema
from kalshi_core.storage.repositories import (
    AiSpends,
    AuditEvents,
    DailyPnls,
    Decisions,
    Fills,
    Forecasts,
    MarketLeases,
    MarketSnapshots,
    Orders,
    Positions,
    RunDecisions,
    Runs,
    Settlements,
)
from kalshi_core.storage.repositories._base import RunScope, unit_of_work
from kalshi_core.storage.repositories.leases import Clock, wall_clock
from kalshi_core.storage.settings import resolve_url, safe_url

#: Which distribution serves a URL scheme that is not installed, as a pip argument that works
#: today: the plugins are not on an index yet, so the path inside a kalshi-core checkout.
PLUGIN_FOR_SCHEME = {
    "postgresql": "./plugins/kalshi-plugin-postgres",
    "postgres": "./plugins/kalshi-plugin-postgres",
}


@runtime_checkable
class StorageBackend(Protocol):
    """What a ``register_storage_backends`` factory returns."""

    name: str

    def create_engine(self, url: str, section: Mapping[str, Any]) -> AsyncEngine: ...


BackendFactory = Callable[[Mapping[str, Any]], StorageBackend]


def choose_backend(
    url: URL, backends: Mapping[str, BackendFactory], section: Mapping[str, Any]
) -> StorageBackend:
    """The backend registered for ``url``'s drivername, or a ConfigError saying what to install."""
    factory = backends.get(url.drivername)
    if factory is not None:
        return factory(section)
    installed = ", ".join(sorted(backends)) or "none"
    family = url.get_backend_name()
    hint = ""
    if family in PLUGIN_FOR_SCHEME:
        hint = (
            f"; install it with `pip install {PLUGIN_FOR_SCHEME[family]}` (from a kalshi-core "
            "checkout) and use a postgresql+asyncpg:// URL"
        )
    raise ConfigError(
        f"database.url {safe_url(url)!r}: no storage backend for scheme {url.drivername!r} "
        f"(installed: {installed}){hint}"
    )


class Database:
    """Owns the async engine, the session factory and one repository per aggregate."""

    def __init__(
        self, engine: AsyncEngine, *, clock: Clock = wall_clock, lease_ttl: timedelta | None = None
    ) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.scope = RunScope()
        self.market_snapshots = MarketSnapshots(self.sessions, self.scope)
        self.forecasts = Forecasts(self.sessions, self.scope)
        self.decisions = Decisions(self.sessions, self.scope)
        self.run_decisions = RunDecisions(self.sessions, self.scope)
        self.orders = Orders(self.sessions, self.scope)
        self.fills = Fills(self.sessions, self.scope)
        self.positions = Positions(self.sessions, self.scope)
        self.settlements = Settlements(self.sessions, self.scope)
        self.daily_pnl = DailyPnls(self.sessions, self.scope)
        self.ai_spend = AiSpends(self.sessions, self.scope)
        self.audit = AuditEvents(self.sessions, self.scope)
        self.runs = Runs(self.sessions, self.scope)
        self.leases = MarketLeases(self.sessions, clock, lease_ttl or timedelta(seconds=60))

    @classmethod
    async def open(
        cls,
        url: str,
        backends: Mapping[str, BackendFactory],
        section: Mapping[str, Any],
        *,
        check: bool = True,
        clock: Clock = wall_clock,
        lease_ttl: timedelta | None = None,
    ) -> Database:
        """Connect to ``url`` (``""`` = the default SQLite file) through its backend.

        With ``check`` (the default, what the engine does at start-up) the schema revision is
        verified: an out-of-date database raises :class:`StorageError` telling the user to
        run ``kalshi-core db upgrade``.
        """
        engine = open_engine(url, backends, section)
        try:
            await ping(engine)
            if check:
                await check_schema(engine)
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine, clock=clock, lease_ttl=lease_ttl)

    def unit(self) -> contextlib.AbstractAsyncContextManager[None]:
        """One transaction for every repository call in the block (what a quiet cycle
        stores goes into one of these at its end): see :func:`unit_of_work`."""
        return unit_of_work(self.sessions)

    async def close(self) -> None:
        await self.engine.dispose()


def open_engine(
    url: str, backends: Mapping[str, BackendFactory], section: Mapping[str, Any]
) -> AsyncEngine:
    """The async engine for ``url``, created by the backend its scheme selects."""
    parsed = resolve_url(url)
    backend = choose_backend(parsed, backends, section)
    return backend.create_engine(parsed.render_as_string(hide_password=False), section)


async def ping(engine: AsyncEngine) -> None:
    """Connect once, turning any failure into a StorageError without the password."""
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as error:
        detail = str(getattr(error, "orig", None) or error).splitlines()[0]
        password = engine.url.password
        if password:
            detail = detail.replace(str(password), "***")
        raise StorageError(f"cannot connect to database {safe_url(engine.url)}: {detail}") from None
