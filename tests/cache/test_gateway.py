"""CachingGateway in front of the real in-process venue: a real engine trades through it."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kalshi_core import signals
from kalshi_core.cache.gateway import CachingGateway
from kalshi_core.clock import ManualClock
from kalshi_core.errors import ConfigError
from kalshi_core.exchange.venue import Venue
from kalshi_core.gateway import OrderRequest
from kalshi_core.models import (
    Balance,
    BookSide,
    Fill,
    Market,
    MarketResult,
    OrderBook,
    Position,
    Settlement,
    Side,
)
from kalshi_core.money import DOLLAR
from kalshi_core.storage import migrate
from kalshi_core.storage.database import Database
from kalshi_core.venues.simulated import VenueGateway
from tests.cache.conftest import shared_cache
from tests.multiworker.support import (
    MAKER,
    TRADER,
    AlwaysTrade,
    list_active,
    make_engine,
    market_tickers,
    open_database,
    quote,
)

pytestmark = pytest.mark.redis


class CountingGateway(VenueGateway):
    """The real venue gateway, counting each read the engine sends to the venue."""

    def __init__(self, venue: Venue) -> None:
        super().__init__(venue, TRADER)
        self.reads: Counter[str] = Counter()

    async def open_markets(self) -> list[Market]:
        self.reads["open_markets"] += 1
        return await super().open_markets()

    async def balance(self) -> Balance:
        self.reads["balance"] += 1
        return await super().balance()

    async def positions(self) -> list[Position]:
        self.reads["positions"] += 1
        return await super().positions()

    async def orderbook(self, ticker: str) -> OrderBook:
        self.reads["orderbook"] += 1
        return await super().orderbook(ticker)

    async def fills(self, since: datetime | None = None) -> list[Fill]:
        self.reads["fills"] += 1
        return await super().fills(since)

    async def settlements(self) -> list[Settlement]:
        self.reads["settlements"] += 1
        return await super().settlements()


@pytest.fixture
def venue() -> Venue:
    made = Venue(ManualClock())
    list_active(made, market_tickers(5))
    made.deposit(MAKER, 1_000_000 * DOLLAR)
    made.deposit(TRADER, 10_000 * DOLLAR)
    for ticker in market_tickers(5):
        quote(made, ticker, 50)
    return made


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = open_database(f"sqlite+aiosqlite:///{tmp_path / 'cache.sqlite3'}")
    await migrate.upgrade(db.engine)
    yield db
    await db.close()


async def test_engine_reads_markets_once_and_the_account_every_cycle(
    make_primary: Callable[[], Any], venue: Venue, database: Database
) -> None:
    inner = CountingGateway(venue)
    cache = shared_cache(make_primary())
    gateway = CachingGateway(inner, cache)
    engine = make_engine(
        gateway, database, venue.clock, worker_id="w-1", strategies=[AlwaysTrade()]
    )
    reports = []
    for _ in range(3):
        reports.append(await engine.run_cycle())
        venue.clock.advance(timedelta(seconds=1))  # type: ignore[attr-defined]
    assert [r.placed for r in reports] == [5, 5, 5]
    expected = Counter(open_markets=1, balance=3, positions=3, fills=3, settlements=1)
    assert inner.reads == expected  # settlements: on the first round only
    assert cache.stats.hits["markets"] == 2
    assert cache.stats.invalidations["orderbook"] >= 5  # our fills drop those books


async def test_own_fill_drops_the_cached_book(
    make_primary: Callable[[], Any], venue: Venue
) -> None:
    inner = CountingGateway(venue)
    gateway = CachingGateway(inner, shared_cache(make_primary()))
    ticker = market_tickers(1)[0]
    before = await gateway.orderbook(ticker)
    assert await gateway.orderbook(ticker) == before
    assert inner.reads["orderbook"] == 1
    fill = Fill(
        fill_id="f-1",
        order_id="o-1",
        ticker=ticker,
        outcome_side=Side.YES,
        book_side=BookSide.BID,
        count=100,
        yes_price=4500,
        no_price=5500,
    )
    signals.order_filled.send(fill)
    await gateway.orderbook(ticker)
    assert inner.reads["orderbook"] == 2
    other = market_tickers(2)[1]
    await gateway.orderbook(other)
    signals.order_filled.send(fill)  # another ticker's fill leaves this book cached
    await gateway.orderbook(other)
    assert inner.reads["orderbook"] == 3


async def test_reads_the_gateway_cannot_answer_name_what_is_missing(
    make_primary: Callable[[], Any], venue: Venue
) -> None:
    gateway = CachingGateway(CountingGateway(venue), shared_cache(make_primary()))
    with pytest.raises(ConfigError, match=r"CachingGateway\.get_event needs a reader"):
        await gateway.event("KXMW")


ACCOUNT_TTLS = {
    "ttls": {
        "balance": 60.0,
        "positions": 60.0,
        "resting": 60.0,
        "fills": 60.0,
        "settlements": 60.0,
    }
}


async def test_workers_share_one_account_snapshot_until_one_of_them_trades(
    make_primary: Callable[[], Any], venue: Venue
) -> None:
    """Two workers of one account (one backend): the second reads the first's snapshot; a
    write by either drops it at once, before that worker's next read."""
    primary = make_primary()
    first, second = CountingGateway(venue), CountingGateway(venue)
    one = CachingGateway(first, shared_cache(primary, **ACCOUNT_TTLS))
    two = CachingGateway(second, shared_cache(primary, **ACCOUNT_TTLS))
    assert await one.balance() == await two.balance()
    assert (first.reads["balance"], second.reads["balance"]) == (1, 0)
    ticker = market_tickers(1)[0]
    await one.place_one(buy(ticker))
    after = await two.balance()
    assert second.reads["balance"] == 1, "the write dropped the shared snapshot"
    assert after == await first.balance()
    assert (await two.positions()) == (await one.positions())
    assert first.reads["positions"] + second.reads["positions"] == 1


async def test_the_finishing_run_reads_the_account_from_the_venue(
    make_primary: Callable[[], Any], venue: Venue
) -> None:
    inner = CountingGateway(venue)
    gateway = CachingGateway(inner, shared_cache(make_primary(), **ACCOUNT_TTLS))
    await gateway.balance()
    await gateway.balance()
    assert inner.reads["balance"] == 1
    signals.run_finishing.send(object())
    await gateway.balance()
    await gateway.balance()
    assert inner.reads["balance"] == 3


async def test_without_an_account_ttl_every_account_read_goes_to_the_venue(
    make_primary: Callable[[], Any], venue: Venue
) -> None:
    inner = CountingGateway(venue)
    gateway = CachingGateway(inner, shared_cache(make_primary()))
    for _ in range(3):
        await gateway.balance()
        await gateway.positions()
    assert inner.reads == Counter(balance=3, positions=3)


def buy(ticker: str, suffix: str = "") -> OrderRequest:
    return OrderRequest(
        ticker=ticker,
        book_side=BookSide.BID,
        price=5500,
        count=100,
        client_order_id=f"kc-{ticker}{suffix}",
    )


async def test_workers_share_the_days_fills_each_from_its_own_cursor(
    make_primary: Callable[[], Any], venue: Venue
) -> None:
    """One read of the day's fills serves both workers; each gets those at or after its own
    cursor (by the second, as Kalshi's min_ts); a write drops the shared list at once."""
    primary = make_primary()
    first, second = CountingGateway(venue), CountingGateway(venue)
    one = CachingGateway(first, shared_cache(primary, **ACCOUNT_TTLS))
    two = CachingGateway(second, shared_cache(primary, **ACCOUNT_TTLS))
    ticker, other = market_tickers(2)
    await one.place_one(buy(ticker))  # crosses the maker's quote: one fill
    venue.clock.advance(timedelta(seconds=5))  # type: ignore[attr-defined]
    await two.place_one(buy(other))
    every = await first.fills()
    assert len(every) == 2
    later = max(f.created_time for f in every if f.created_time is not None)
    midnight = later.replace(hour=0, minute=0, second=0, microsecond=0)
    assert {f.fill_id for f in await one.fills(midnight)} == {f.fill_id for f in every}
    assert [f.fill_id for f in await two.fills(later)] == [
        f.fill_id for f in every if f.created_time == later
    ]
    assert (first.reads["fills"], second.reads["fills"]) == (2, 0)  # 1 above: the direct read
    await two.place_one(buy(ticker, "-again"))
    await one.fills(later)
    assert first.reads["fills"] == 3, "the write dropped the shared fills"


async def test_fills_without_a_cursor_are_shared_until_a_write(
    make_primary: Callable[[], Any], venue: Venue
) -> None:
    """An account with no fill yet asks for all of its fills every cycle: one worker's read
    serves the other, and a write drops the shared list at once."""
    primary = make_primary()
    first, second = CountingGateway(venue), CountingGateway(venue)
    one = CachingGateway(first, shared_cache(primary, **ACCOUNT_TTLS))
    two = CachingGateway(second, shared_cache(primary, **ACCOUNT_TTLS))
    assert await one.fills() == await two.fills() == []
    assert (first.reads["fills"], second.reads["fills"]) == (1, 0)
    await two.place_one(buy(market_tickers(1)[0]))  # crosses the maker's quote: one fill
    assert len(await one.fills()) == 1, "a write by a worker that never read it dropped it"
    assert first.reads["fills"] == 2


async def test_workers_share_the_settlements_and_a_write_drops_them(
    make_primary: Callable[[], Any], venue: Venue
) -> None:
    primary = make_primary()
    first, second = CountingGateway(venue), CountingGateway(venue)
    one = CachingGateway(first, shared_cache(primary, **ACCOUNT_TTLS))
    two = CachingGateway(second, shared_cache(primary, **ACCOUNT_TTLS))
    ticker, other = market_tickers(2)
    await one.place_one(buy(ticker))  # crosses the maker's quote: a position to settle
    venue.determine(ticker, MarketResult.YES)
    assert [s.ticker for s in await one.settlements()] == [ticker]
    assert await two.settlements() == await one.settlements()
    assert (first.reads["settlements"], second.reads["settlements"]) == (1, 0)
    await two.place_one(buy(other))
    await one.settlements()
    assert first.reads["settlements"] == 2, "the write dropped the shared settlements"


async def test_fills_without_an_account_ttl_go_to_the_venue(
    make_primary: Callable[[], Any], venue: Venue
) -> None:
    direct = CountingGateway(venue)
    without = CachingGateway(direct, shared_cache(make_primary()))
    since = venue.clock.now()
    for cursor in (None, None, since, since):
        await without.fills(cursor)
    assert direct.reads["fills"] == 4
