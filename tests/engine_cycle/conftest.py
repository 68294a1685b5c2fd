"""An engine on the real in-process venue and a real SQLite database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kalshi_core.builtin.sqlite_storage import SCHEME, sqlite_backend
from kalshi_core.clock import ManualClock
from kalshi_core.engine.cycle import Engine
from kalshi_core.engine.pipeline import Pipeline
from kalshi_core.engine.portfolio import AllocationLimits
from kalshi_core.engine.risk import RiskLimits, RiskManager
from kalshi_core.exchange.venue import Venue, VenueOrder
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
from kalshi_core.money import CONTRACT, DOLLAR
from kalshi_core.protocols import PipelineContext
from kalshi_core.storage import migrate
from kalshi_core.storage.database import Database
from kalshi_core.venues.simulated import VenueGateway

START = datetime(2026, 1, 2, 15, 0, tzinfo=UTC)
TRADER = "trader"
MAKER = "maker"
TICKERS = ("KXTEST-26JAN02-A", "KXTEST-26JAN02-B", "KXOTHER-26JAN02-C")


class FixedForecaster:
    """Believes every market resolves YES with the same probability."""

    name = "fixed"

    def __init__(self, probability: int) -> None:
        self.probability = probability

    async def forecast(self, market: Market, context: PipelineContext) -> Forecast | None:
        return Forecast(
            ticker=market.ticker,
            probability=self.probability,
            model="fixed",
            created_time=context.now,
        )


class BuyBelowForecast:
    """Buys ``contracts`` YES at the ask when the forecast is above it (IOC or GTC)."""

    name = "buy_below"

    def __init__(self, contracts: int = 2, tif: TimeInForce = TimeInForce.IMMEDIATE_OR_CANCEL):
        self.count = contracts * CONTRACT
        self.tif = tif

    def propose(
        self, market: Market, forecast: Forecast | None, context: PipelineContext
    ) -> Sequence[OrderIntent]:
        if forecast is None or forecast.probability <= market.yes_ask:
            return []
        return [
            OrderIntent(
                ticker=market.ticker,
                side=Side.YES,
                action=Action.BUY,
                price=market.yes_ask,
                count=self.count,
                strategy=self.name,
                time_in_force=self.tif,
                expected_value=(forecast.probability - market.yes_ask) * self.count // CONTRACT,
            )
        ]


def list_markets(venue: Venue) -> None:
    for ticker in TICKERS:
        venue.list_market(
            Market(
                ticker=ticker,
                event_ticker=ticker.rsplit("-", 1)[0],
                status=MarketStatus.ACTIVE,
                open_time=START - timedelta(hours=1),
                close_time=START + timedelta(hours=6),
            )
        )


def quote(venue: Venue, ticker: str, bid: int, ask: int, size: int = 50) -> None:
    for side, price in ((BookSide.BID, bid), (BookSide.ASK, ask)):
        venue.place_order(
            VenueOrder(account=MAKER, ticker=ticker, side=side, price=price, count=size * CONTRACT)
        )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def venue(clock: ManualClock) -> Venue:
    made = Venue(clock)
    list_markets(made)
    made.deposit(MAKER, 1_000_000 * DOLLAR)
    made.deposit(TRADER, 1_000 * DOLLAR)
    for ticker in TICKERS:
        quote(made, ticker, 40 * 100, 45 * 100)
    return made


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'engine.sqlite3'}"
    db = await Database.open(url, {SCHEME: sqlite_backend}, {}, check=False)
    await migrate.upgrade(db.engine)
    yield db
    await db.close()


RISK = {
    "max_position_pct": 0.5,
    "max_daily_loss_pct": 0.5,
    "max_gross_exposure_pct": 0.9,
    "max_order_contracts": 100,
    "max_orders_per_minute": 600,
}


def make_engine(
    venue: Venue,
    database: Database,
    clock: ManualClock,
    probability: int = 6000,
    *,
    gateway: VenueGateway | None = None,
    strategies: Sequence[Any] = (),
    shared_venue: bool = True,
) -> Engine:
    gateway = gateway or VenueGateway(venue, TRADER)
    return Engine(
        gateway=gateway,
        database=database,
        clock=clock,
        pipeline=Pipeline(
            forecasters=[FixedForecaster(probability)],
            strategies=list(strategies) or [BuyBelowForecast()],
            book_loader=gateway.orderbook,
        ),
        risk=RiskManager(RiskLimits.from_section(RISK)),
        allocation=AllocationLimits(max_per_event=5),
        run_id="test-run",
        shared_venue=shared_venue,
    )
