"""Shared storage fixtures: every repository test runs on SQLite and on PostgreSQL.

PostgreSQL tests need ``KALSHI_TEST_POSTGRES_URL`` (``.ci/services.sh start`` provides a
throwaway server). Without it they are skipped, except on CI (``CI=true``) where a missing
server is a failure, so a misconfigured pipeline cannot pass by skipping.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from kalshi_core.builtin.sqlite_storage import SQLiteBackend
from kalshi_core.models import (
    Action,
    Decision,
    Forecast,
    Market,
    MarketStatus,
    OrderIntent,
    Side,
    TimeInForce,
    Verdict,
)
from kalshi_core.storage import migrate
from kalshi_core.storage.database import Database

POSTGRES_ENV = "KALSHI_TEST_POSTGRES_URL"
SKIP_REASON = (
    "KALSHI_TEST_POSTGRES_URL not set: PostgreSQL tests need a server (.ci/services.sh start)"
)


def postgres_url() -> str:
    """The test server's URL; skips the test (fails it on CI) when there is none."""
    url = os.environ.get(POSTGRES_ENV, "")
    if url:
        return url
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{POSTGRES_ENV} is not set but CI=true: start .ci/services.sh first")
    pytest.skip(SKIP_REASON)


@attrs.frozen
class Target:
    """One database under test: its kind and how to make more engines on it."""

    kind: str
    make_engine: Callable[[], AsyncEngine]
    reset: Callable[[], Awaitable[None]]


def _sqlite_target(path: Path) -> Target:
    url = f"sqlite+aiosqlite:///{path}"

    async def reset() -> None:
        await asyncio.to_thread(path.unlink, missing_ok=True)

    return Target("sqlite", lambda: SQLiteBackend().create_engine(url, {}), reset)


def _postgres_target(url: str) -> Target:
    def make_engine() -> AsyncEngine:
        return create_async_engine(url, pool_size=5, max_overflow=10)

    async def reset() -> None:
        engine = make_engine()
        try:
            async with engine.begin() as connection:
                await connection.execute(text("DROP SCHEMA public CASCADE"))
                await connection.execute(text("CREATE SCHEMA public"))
        finally:
            await engine.dispose()

    return Target("postgres", make_engine, reset)


@pytest.fixture(params=["sqlite", "postgres"])
async def target(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    """An empty database (no tables at all) of each kind."""
    if request.param == "sqlite":
        chosen = _sqlite_target(tmp_path / "kalshi-test.sqlite3")
    else:
        pytest.importorskip("asyncpg")
        chosen = _postgres_target(postgres_url())
    await chosen.reset()
    return chosen


@pytest.fixture
async def engine(target: Target) -> AsyncIterator[AsyncEngine]:
    """An engine on the empty database."""
    made = target.make_engine()
    yield made
    await made.dispose()


@pytest.fixture
async def database(target: Target) -> AsyncIterator[Database]:
    """A migrated database with every repository, on SQLite and on PostgreSQL."""
    made = target.make_engine()
    await migrate.upgrade(made)
    db = Database(made)
    yield db
    await db.close()


NOW = datetime(2026, 11, 25, 14, 30, 15, 123456, tzinfo=UTC)


class Samples:
    """Builders of realistic domain objects (money in fixed-point units, aware UTC times)."""

    now = NOW

    @staticmethod
    def market(ticker: str = "KXHIGHNY-26NOV25-T50", **changes: object) -> Market:
        base = Market(
            ticker=ticker,
            event_ticker=ticker.rsplit("-", 1)[0],
            status=MarketStatus.ACTIVE,
            open_time=NOW - timedelta(days=1),
            close_time=NOW + timedelta(hours=6),
            title="Highest temperature in NYC today?",
            yes_bid=4213,
            yes_bid_size=150_00,
            yes_ask=4300,
            no_bid=5700,
            no_ask=5787,
            last_price=4250,
            volume=12_345_67,
            open_interest=2_000_00,
            floor_strike=50.0,
        )
        return attrs.evolve(base, **changes)

    @staticmethod
    def intent(ticker: str = "KXHIGHNY-26NOV25-T50", **changes: object) -> OrderIntent:
        base = OrderIntent(
            ticker=ticker,
            side=Side.NO,
            action=Action.BUY,
            price=5787,
            count=10_00,
            strategy="edge",
            time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL,
            post_only=False,
            reduce_only=True,
            reason="forecast 35% vs price 42.13%",
            expected_value=123,
        )
        return attrs.evolve(base, **changes)

    @staticmethod
    def forecast(ticker: str = "KXHIGHNY-26NOV25-T50", **changes: object) -> Forecast:
        base = Forecast(
            ticker=ticker,
            probability=3500,
            model="gpt-test-mini",
            created_time=NOW,
            confidence=7000,
            stderr=420,
            reasoning="cold front arriving",
            prompt_hash="sha256:abcdef",
            input_tokens=1234,
            output_tokens=256,
            cost=37,
        )
        return attrs.evolve(base, **changes)

    def decision(
        self, decision_id: str = "d-1", ticker: str = "KXHIGHNY-26NOV25-T50", **changes: object
    ) -> Decision:
        base = Decision(
            decision_id=decision_id,
            ticker=ticker,
            created_time=NOW,
            verdicts=(
                Verdict.accept("liquidity"),
                Verdict.reject("spread", "spread 87 above limit 50"),
            ),
            forecast=self.forecast(ticker),
            intents=(self.intent(ticker), self.intent(ticker, side=Side.YES, price=4213)),
        )
        return attrs.evolve(base, **changes)


@pytest.fixture
def samples() -> Samples:
    return Samples()
