"""The look-ahead guard: plugins never see a market's result, and reading the future stops
the run. Over the real in-process venue; the "leaky" venues are real venues whose gateway
hands out what a buggy venue plugin could."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import attrs
import pytest

from kalshi_core.app import App
from kalshi_core.client.metrics import ClientMetrics
from kalshi_core.clock import ManualClock
from kalshi_core.engine.lookahead import LookaheadGuard, without_outcome
from kalshi_core.engine.session import Session, SessionOptions
from kalshi_core.errors import LookaheadError
from kalshi_core.exchange.venue import Venue, VenueOrder
from kalshi_core.hookspecs import hookimpl
from kalshi_core.models import (
    BookSide,
    Fill,
    Market,
    MarketResult,
    MarketStatus,
    Side,
    Verdict,
)
from kalshi_core.money import CONTRACT, DOLLAR
from kalshi_core.plugins import PluginManager
from kalshi_core.protocols import PipelineContext
from kalshi_core.venues.base import OpenVenue, RunSpec
from kalshi_core.venues.simulated import VenueGateway, open_simulated

T0 = datetime(2026, 3, 1, 10, 30, tzinfo=UTC)
TICKER = "KXTEST-26MAR01-T50"


def market() -> Market:
    return Market(
        ticker=TICKER,
        event_ticker="KXTEST-26MAR01",
        status=MarketStatus.INITIALIZED,
        open_time=T0 - timedelta(minutes=30),
        close_time=T0 + timedelta(minutes=30),
    )


class LeakyGateway(VenueGateway):
    """A venue plugin's gateway that hands out the result and fills stamped a day ahead."""

    leak_fills = False

    async def open_markets(self) -> list[Market]:
        listed = await super().open_markets()
        return [
            attrs.evolve(m, result=MarketResult.YES, settlement_value=DOLLAR, expiration_value="7")
            for m in listed
        ]

    async def fills(self, since: datetime | None = None) -> list[Fill]:
        fills = await super().fills(since)
        if not self.leak_fills:
            return fills
        ahead = self.venue.clock.now() + timedelta(days=1)
        return [*fills, tomorrows_fill(ahead)]

    async def market(self, ticker: str) -> Market:
        return next(m for m in await self.open_markets() if m.ticker == ticker)

    # what monitoring reads through the guard: the client's call counters
    client = SimpleNamespace(metrics=ClientMetrics())


def tomorrows_fill(when: datetime) -> Fill:
    return Fill(
        fill_id="from-tomorrow",
        order_id="o-1",
        ticker=TICKER,
        outcome_side=Side.YES,
        book_side=BookSide.BID,
        count=CONTRACT,
        yes_price=4000,
        no_price=6000,
        created_time=when,
    )


@pytest.fixture
def traded() -> tuple[Venue, ManualClock]:
    """A real venue where account ``us`` bought 2 contracts at $0.40 from ``them``."""
    clock = ManualClock(T0)
    venue = Venue(clock)
    venue.list_market(market())
    venue.open_market(TICKER)
    for account in ("us", "them"):
        venue.deposit(account, 100 * DOLLAR)
    venue.place_order(
        VenueOrder(account="them", ticker=TICKER, side=BookSide.ASK, price=4000, count=2 * CONTRACT)
    )
    venue.place_order(
        VenueOrder(account="us", ticker=TICKER, side=BookSide.BID, price=4000, count=2 * CONTRACT)
    )
    return venue, clock


async def test_reading_fills_since_a_later_time_is_refused(
    traded: tuple[Venue, ManualClock],
) -> None:
    venue, clock = traded
    guard = LookaheadGuard(VenueGateway(venue, "us"), clock)
    assert len(await guard.fills(since=T0)) == 1
    later = T0 + timedelta(minutes=5)
    with pytest.raises(
        LookaheadError,
        match=r"fills\(since=2026-03-01T10:35:00\+00:00\) reads "
        r"data at .* after the venue clock's now 2026-03-01T10:30:00\+00:00",
    ):
        await guard.fills(since=later)
    clock.set(later)  # once the clock is there, the same read is fine
    assert await guard.fills(since=later) == []


async def test_fills_stamped_after_now_are_refused(traded: tuple[Venue, ManualClock]) -> None:
    venue, clock = traded
    leaky = LeakyGateway(venue, "us")
    leaky.leak_fills = True
    with pytest.raises(LookaheadError, match=r"fills\(\) reads data at 2026-03-02T10:30"):
        await LookaheadGuard(leaky, clock).fills()
    # On a live venue's wall clock, timestamps come from another clock: not checked.
    assert len(await LookaheadGuard(leaky, clock, check_records=False).fills()) == 2


async def test_markets_reach_the_engine_without_their_outcome(
    traded: tuple[Venue, ManualClock],
) -> None:
    venue, clock = traded
    leaky = LeakyGateway(venue, "us")
    assert (await leaky.open_markets())[0].result is MarketResult.YES
    (seen,) = await LookaheadGuard(leaky, clock).open_markets()
    assert (seen.result, seen.settlement_value, seen.expiration_value) == (
        MarketResult.NONE,
        None,
        "",
    )
    assert seen.ticker == TICKER


async def test_one_market_read_is_stripped_too_and_the_client_shows_through(
    traded: tuple[Venue, ManualClock],
) -> None:
    venue, clock = traded
    leaky = LeakyGateway(venue, "us")
    guard = LookaheadGuard(leaky, clock)
    assert (await guard.market(TICKER)).result is MarketResult.NONE
    assert guard.client is leaky.client  # monitoring reads its call counters


def test_a_market_without_an_outcome_is_passed_through_uncopied() -> None:
    plain = market()
    assert without_outcome(plain) is plain


# ---- whole runs: a plugin never sees a result; a venue leaking the future stops the run -----

SEEN: list[Market] = []


class Spy:
    """A validator plugin that remembers every market it is shown."""

    name = "spy"

    def validate(self, market: Market, context: PipelineContext) -> Verdict:
        SEEN.append(market)
        return Verdict.reject(self.name, "only looking")


class LeakyVenuePlugin:
    leak_fills = False

    @hookimpl
    def register_venues(self, register: Any) -> None:
        register("leaky", self.open)

    @hookimpl
    def register_validators(self, register: Any) -> None:
        register("spy", lambda section: Spy())

    @contextlib.asynccontextmanager
    async def open(
        self, section: Mapping[str, Any], *, app: Any, run: RunSpec
    ) -> AsyncIterator[OpenVenue]:
        async with open_simulated(section, app=app, run=run) as venue:
            inner = venue.gateway
            assert isinstance(inner, VenueGateway)
            leaky = LeakyGateway(inner.venue, inner.account, inner.catalog)
            leaky.leak_fills = self.leak_fills
            venue.gateway = leaky
            yield venue


def leaky_app(monkeypatch: pytest.MonkeyPatch, plugin: LeakyVenuePlugin) -> App:
    monkeypatch.setenv("KALSHI_RUN__VENUE", "leaky")
    monkeypatch.setenv("KALSHI_PIPELINE__VALIDATORS", '["spy"]')
    manager = PluginManager()
    manager.load_entry_points()
    manager.register(plugin, "leaky-venue")
    return App.create(manager=manager)


@pytest.mark.slow
async def test_a_validator_never_sees_a_result_the_venue_leaks(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    SEEN.clear()
    app = leaky_app(monkeypatch, LeakyVenuePlugin())
    await Session(app, SessionOptions(cycles=3, data_sets=("crypto15m",))).run()
    assert SEEN
    assert all(m.result is MarketResult.NONE and m.settlement_value is None for m in SEEN)


@pytest.mark.slow
async def test_a_venue_handing_out_future_fills_stops_the_run(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugin = LeakyVenuePlugin()
    plugin.leak_fills = True
    session = Session(leaky_app(monkeypatch, plugin), SessionOptions(cycles=3))
    with pytest.raises(LookaheadError, match=r"look-ahead: fills\(\) reads data at"):
        await session.run()
