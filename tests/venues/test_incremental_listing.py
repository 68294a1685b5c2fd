"""Incremental listing over HTTP to the local exchange: between full listings the gateway asks
only for markets updated since the last one (``min_updated_ts``) and merges them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import attrs
import httpx
import pytest

from kalshi_core.client import KalshiClient, RateLimiter, Signer
from kalshi_core.clock import ManualClock
from kalshi_core.exchange import Venue
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.models import BookSide, Market, MarketStatus
from kalshi_core.money import CENT, DOLLAR
from kalshi_core.venues.client_gateway import ClientGateway
from tests.exchange_stream.conftest import MM, START, TAKER, TICKERS, make_market, order


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[Venue, ManualClock, KalshiClient]]:
    clock = ManualClock(START)
    venue = Venue(clock)
    for ticker in TICKERS:
        venue.list_market(make_market(ticker))
    venue.deposit(MM, 100_000 * DOLLAR)
    venue.deposit(TAKER, 100_000 * DOLLAR)
    async with LocalExchange.running(venue=venue, key_dir=tmp_path) as exchange:
        assert exchange.private_key_path is not None
        signer = Signer.from_file(exchange.api_key_id, exchange.private_key_path)
        limiter = RateLimiter.for_rates(10_000, 10_000)
        timeout = httpx.Timeout(5.0)
        async with KalshiClient(
            exchange.base_url, signer=signer, timeout=timeout, rate_limiter=limiter
        ) as client:
            yield venue, clock, client


def by_ticker(markets: list[Market]) -> dict[str, Market]:
    return {m.ticker: m for m in markets}


async def test_between_full_listings_only_updated_markets_are_merged(
    served: tuple[Venue, ManualClock, KalshiClient],
) -> None:
    venue, clock, client = served
    gateway = ClientGateway(client, full_listing_every=3, clock=clock)
    assert set(by_ticker(await gateway.open_markets())) == set(TICKERS)

    clock.advance(timedelta(seconds=10))
    venue.place_order(order(BookSide.BID, 40 * CENT, 2, TICKERS[0]))
    venue.place_order(order(BookSide.ASK, 40 * CENT, 1, TICKERS[0], account=TAKER))  # a trade
    venue.set_status(TICKERS[1], MarketStatus.CLOSED)
    fresh = "KXTEST-26MAR01-T80"
    venue.list_market(attrs.evolve(make_market(fresh), created_time=clock.now()))
    venue.place_order(order(BookSide.BID, 20 * CENT, 1, TICKERS[2]))  # a quote: no update
    second = by_ticker(await gateway.open_markets())  # incremental
    assert set(second) == {TICKERS[0], TICKERS[2], fresh}  # the closed one left, the new came
    assert second[TICKERS[0]].last_price == 40 * CENT
    assert second[TICKERS[2]].yes_bid == 0  # not asked for: its old copy is held

    clock.advance(timedelta(seconds=10))
    venue.place_order(order(BookSide.BID, 30 * CENT, 1, TICKERS[2]))  # a quote: no update
    third = by_ticker(await gateway.open_markets())  # incremental: the old copy is held
    assert third[TICKERS[2]].yes_bid == 0
    fourth = by_ticker(await gateway.open_markets())  # the full listing, every third
    assert fourth[TICKERS[2]].yes_bid == 30 * CENT
    assert set(fourth) == {TICKERS[0], TICKERS[2], fresh}


async def test_every_listing_is_full_by_default_and_a_bad_period_is_refused(
    served: tuple[Venue, ManualClock, KalshiClient],
) -> None:
    venue, _clock, client = served
    gateway = ClientGateway(client)
    await gateway.open_markets()
    venue.place_order(order(BookSide.BID, 30 * CENT, 1, TICKERS[2]))
    assert by_ticker(await gateway.open_markets())[TICKERS[2]].yes_bid == 30 * CENT
    with pytest.raises(ValueError, match="full_listing_every must be at least 1, got 0"):
        ClientGateway(client, full_listing_every=0)
