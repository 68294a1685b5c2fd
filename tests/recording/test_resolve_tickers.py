"""Which markets `kalshi-core record` records: named markets, every open or upcoming market of
a series, and of every series in a category, read over real HTTP from the local exchange."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kalshi_core.client import KalshiClient, Signer
from kalshi_core.clock import ManualClock
from kalshi_core.exchange import Venue
from kalshi_core.exchange.http.context import Catalog
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.models import Market, MarketStatus, Series
from kalshi_core.recording.recorder import resolve_tickers

START = datetime(2026, 1, 2, 15, tzinfo=UTC)
MARKETS = {
    "KXRAIN-26-A": MarketStatus.ACTIVE,
    "KXRAIN-26-B": MarketStatus.CLOSED,  # closed: nothing left to record
    "KXRAIN-26-C": MarketStatus.INITIALIZED,  # upcoming: recorded from its opening
    "KXFED-26-A": MarketStatus.ACTIVE,
    "KXODD-26-A": MarketStatus.ACTIVE,  # a series only its market names: no category
}
SERIES = {
    "KXRAIN": Series(ticker="KXRAIN", title="Rain", category="Climate and Weather"),
    "KXFED": Series(ticker="KXFED", title="Fed", category="Economics"),
}


def _market(ticker: str, status: MarketStatus) -> Market:
    return Market(
        ticker=ticker,
        event_ticker=ticker.rsplit("-", 1)[0],
        status=status,
        open_time=START - timedelta(days=1),
        close_time=START + timedelta(days=30),
    )


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[KalshiClient]:
    venue = Venue(ManualClock(START))
    for ticker, status in MARKETS.items():
        venue.list_market(_market(ticker, status))
    catalog = Catalog(series=dict(SERIES))
    async with LocalExchange.running(venue=venue, key_dir=tmp_path, catalog=catalog) as exchange:
        signer = Signer.from_file(exchange.api_key_id, str(exchange.private_key_path))
        async with KalshiClient(exchange.base_url, signer=signer) as client:
            yield client


async def test_a_category_is_every_open_or_upcoming_market_of_its_series(
    client: KalshiClient,
) -> None:
    found = await resolve_tickers(client, categories=["climate and WEATHER"])
    assert found == ["KXRAIN-26-A", "KXRAIN-26-C"]


async def test_markets_series_and_categories_add_up_without_repeats(client: KalshiClient) -> None:
    found = await resolve_tickers(
        client,
        markets=["KXFED-26-A", "KXRAIN-26-A"],
        series=["KXFED"],
        categories=["Economics", "Climate and Weather"],
    )
    assert found == ["KXFED-26-A", "KXRAIN-26-A", "KXRAIN-26-C"]


async def test_an_unknown_category_or_series_adds_nothing(client: KalshiClient) -> None:
    assert await resolve_tickers(client, categories=["Sports"]) == []
    assert await resolve_tickers(client, series=["KXNONE"]) == []
