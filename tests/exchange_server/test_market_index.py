"""``GET /markets`` from the ticker index: the same pages as filtering every market, a page
builds only the reports it needs, and markets listed or moved while serving are seen."""

from __future__ import annotations

from typing import Any

import pytest

from kalshi_core.exchange import Venue
from kalshi_core.exchange.http.shapes import json_body, market_json
from kalshi_core.models import Market, MarketStatus

from .conftest import EVENTS, TICKER, RawHttp, cross, make_market
from .test_cursors import walk

QUERIES = [
    "",
    "status=open",
    "status=unopened",
    "status=closed",
    f"event_ticker={EVENTS[1]}",
    "series_ticker=KXOTHER",
    "tickers=KXTEST-26MAR01-T60,KXOTHER-26MAR01-T80,KXNONE-1",
    f"event_ticker={EVENTS[0]}&status=open",
    f"series_ticker=KXTEST&event_ticker={EVENTS[2]}",
]


def _reference(venue: Venue, query: str) -> list[str]:
    """What the listing must hold: every market, filtered by hand, in ticker order."""
    params = dict(part.split("=") for part in query.split("&") if part)
    statuses = {"open": {MarketStatus.ACTIVE}, "unopened": {MarketStatus.INITIALIZED}}
    wanted = statuses.get(params.get("status", ""), {MarketStatus.CLOSED})

    def keep(market: Market) -> bool:
        return (
            ("status" not in params or market.status in wanted)
            and params.get("event_ticker", market.event_ticker) == market.event_ticker
            and params.get("series_ticker", market.series_ticker) == market.series_ticker
            and ("tickers" not in params or market.ticker in params["tickers"].split(","))
        )

    return sorted(m.ticker for m in venue.markets() if keep(m))


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("limit", [1, 3, 100])
async def test_pages_hold_what_filtering_every_market_holds(
    raw: RawHttp, venue: Venue, query: str, limit: int
) -> None:
    seen = await walk(raw, f"/markets?{query}", "markets.ticker", limit, lambda page: None)
    assert seen == _reference(venue, query)


async def test_a_page_builds_only_the_reports_it_lists(
    raw: RawHttp, venue: Venue, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []
    report = venue.market

    def counted(ticker: str) -> Market:
        built.append(ticker)
        return report(ticker)

    every = sorted(m.ticker for m in venue.markets())
    await raw.send("GET", "/markets", params={"limit": "1"})  # builds the index (every market)
    monkeypatch.setattr(venue, "market", counted)
    monkeypatch.setattr(venue, "markets", lambda: pytest.fail("a page built every market"))
    response = await raw.send("GET", "/markets", params={"limit": "3"})
    listed = [m["ticker"] for m in response.json()["markets"]]
    assert listed == every[:3]
    # The first page made the first two (the one it listed and the one that said there is
    # more); this one makes the rest of its page and the next, no other.
    assert built == every[2:4]


async def test_markets_listed_and_moved_while_walking_are_seen_as_they_are_now(
    raw: RawHttp, venue: Venue
) -> None:
    def between(page: int) -> None:
        if page == 0:
            venue.list_market(make_market("KXTEST-26MAR02-T99"))  # ahead of the cursor
            venue.list_market(make_market("KXAAA-26MAR01-T10"))  # behind it: not seen
            venue.close_market("KXTEST-26MAR02-T50")  # ahead, no longer open
            venue.open_market("KXTEST-26MAR01-T80")  # ahead, now open

    seen = await walk(raw, "/markets?status=open", "markets.ticker", 2, between)
    assert "KXTEST-26MAR02-T99" in seen
    assert "KXTEST-26MAR01-T80" in seen
    assert "KXAAA-26MAR01-T10" not in seen
    assert "KXTEST-26MAR02-T50" not in seen
    assert seen == sorted(set(seen))
    after: Any = await walk(raw, "/markets", "markets.ticker", 100, lambda page: None)
    assert after == sorted(m.ticker for m in venue.markets())


async def test_listing_bytes_are_the_json_of_each_market_as_it_is_now(
    raw: RawHttp, venue: Venue
) -> None:
    def expected() -> bytes:
        shaped = [market_json(m) for m in sorted(venue.markets(), key=lambda m: m.ticker)]
        return bytes(json_body({"markets": shaped, "cursor": ""}).body)

    first = await raw.send("GET", "/markets")
    assert first.content == expected()
    assert first.headers["content-type"] == "application/json"
    cross(venue, 4500, 3)  # the market's quote, volume and last price change
    again = await raw.send("GET", "/markets")
    assert again.content == expected()
    traded = next(m for m in again.json()["markets"] if m["ticker"] == TICKER)
    assert traded["last_price_dollars"] == "0.4500"
