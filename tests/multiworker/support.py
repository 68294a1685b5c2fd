"""What the multi-worker tests and their worker processes share.

The worker scripts run as ``python -m tests.multiworker.<script>`` from the repository root,
so they import this module exactly as the tests do: the same markets, the same order intent,
the same engine assembly, the same way to open a database by URL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from kalshi_core.builtin.sqlite_storage import SCHEME as SQLITE_SCHEME
from kalshi_core.builtin.sqlite_storage import SQLiteBackend
from kalshi_core.client import KalshiClient, RateLimiter, Signer
from kalshi_core.clock import Clock
from kalshi_core.engine.cycle import Engine
from kalshi_core.engine.execution import PlannedOrder
from kalshi_core.engine.pipeline import Pipeline
from kalshi_core.engine.portfolio import AllocationLimits
from kalshi_core.engine.risk import RiskLimits, RiskManager
from kalshi_core.exchange.venue import Venue, VenueOrder
from kalshi_core.gateway import Gateway
from kalshi_core.models import (
    Action,
    BookSide,
    Forecast,
    Market,
    MarketStatus,
    OrderIntent,
    Side,
    TimeInForce,
)
from kalshi_core.money import CONTRACT
from kalshi_core.protocols import PipelineContext, Strategy
from kalshi_core.storage.database import Database
from kalshi_core.storage.records import OrderState, StoredOrder

ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL_ENV = "MULTIWORKER_DATABASE_URL"
TRADER = "trader"
MAKER = "maker"
BID = 40 * 100
ASK = 45 * 100
SENT = "sent"
RECORDED = "recorded"
READY = "ready"
GO = "go"
RELEASE = "release"
RELEASED = "released"

RISK = {
    "max_position_pct": 1,
    "max_daily_loss_pct": 1,
    "max_gross_exposure_pct": 1,
    "max_order_contracts": 1_000,
    "max_orders_per_minute": 1_000_000,
}


def market_tickers(count: int, prefix: str = "KXMW") -> list[str]:
    """``count`` markets, each in its own event (so no per-event allocation cap applies)."""
    return [f"{prefix}{n:03d}-26JAN02-A" for n in range(count)]


def list_active(venue: Venue, tickers: Sequence[str]) -> None:
    now = venue.clock.now()
    for ticker in tickers:
        venue.list_market(
            Market(
                ticker=ticker,
                event_ticker=ticker.rsplit("-", 1)[0],
                status=MarketStatus.ACTIVE,
                title=f"Market {ticker}",
                open_time=now - timedelta(hours=1),
                close_time=now + timedelta(hours=6),
            )
        )


def quote(venue: Venue, ticker: str, contracts: int) -> None:
    """The maker's two-sided quote, ``BID``/``ASK``, ``contracts`` deep on each side."""
    for side, price in ((BookSide.BID, BID), (BookSide.ASK, ASK)):
        venue.place_order(
            VenueOrder(
                account=MAKER, ticker=ticker, side=side, price=price, count=contracts * CONTRACT
            )
        )


@attrs.frozen
class ApiKey:
    """A trader API key: its id and where its private PEM is (never its content)."""

    key_id: str
    private_key_path: Path
    public_pem: bytes = attrs.field(repr=False)


def generate_key(directory: Path) -> ApiKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    path = directory / "trader-key.pem"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return ApiKey(str(uuid.uuid4()), path, public)


def make_client(base_url: str, key_id: str, key_path: Path) -> KalshiClient:
    """The real HTTP client, signed with the trader's key; no client-side rate limit."""
    return KalshiClient(
        base_url,
        signer=Signer.from_file(key_id, key_path),
        timeout=httpx.Timeout(30.0),
        rate_limiter=RateLimiter.for_rates(100_000, 100_000),
    )


def open_database(url: str) -> Database:
    """A :class:`Database` on ``url`` (SQLite built in, PostgreSQL over asyncpg)."""
    if url.startswith(SQLITE_SCHEME):
        return Database(SQLiteBackend().create_engine(url, {}))
    return Database(create_async_engine(url, pool_size=5, max_overflow=5))


async def reset_postgres(url: str) -> None:
    """Drop every table: each test starts from an empty database."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


def crash_planned(ticker: str, contracts: int) -> PlannedOrder:
    """The order a crashing worker records and (maybe) sends: buy YES at the maker's ask, GTC,
    so it partly fills (fills to reconcile) and rests (a live order to reconcile)."""
    intent = OrderIntent(
        ticker=ticker,
        side=Side.YES,
        action=Action.BUY,
        price=ASK,
        count=contracts * CONTRACT,
        strategy="crash",
        time_in_force=TimeInForce.GOOD_TILL_CANCELED,
        expected_value=1,
    )
    decision = f"d-crash-{ticker}"
    return PlannedOrder(
        intent=intent, decision_id=decision, client_order_id=f"kc-crash-{ticker.lower()}"
    )


class AlwaysTrade:
    """Wants one contract of YES at the ask in every market it is shown (IOC, so nothing rests
    and every cycle trades again)."""

    name = "always_trade"

    def propose(
        self, market: Market, forecast: Forecast | None, context: PipelineContext
    ) -> Sequence[OrderIntent]:
        return [
            OrderIntent(
                ticker=market.ticker,
                side=Side.YES,
                action=Action.BUY,
                price=market.yes_ask,
                count=CONTRACT,
                strategy=self.name,
                time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL,
                expected_value=1,
            )
        ]


def make_engine(
    gateway: Gateway,
    database: Database,
    clock: Clock,
    *,
    worker_id: str,
    strategies: Sequence[Strategy] = (),
    max_markets: int = 0,
) -> Engine:
    return Engine(
        gateway=gateway,
        database=database,
        clock=clock,
        pipeline=Pipeline(strategies=list(strategies)),
        risk=RiskManager(RiskLimits.from_section(RISK)),
        allocation=AllocationLimits(max_per_event=1_000),
        run_id=f"run-{worker_id}",
        worker_id=worker_id,
        max_markets=max_markets,
    )


async def stored_orders(database: Database) -> list[StoredOrder]:
    """Every order the database holds, whatever its state."""
    return [order for state in OrderState for order in await database.orders.in_state(state)]


def utc_now() -> datetime:
    return datetime.now(UTC)
