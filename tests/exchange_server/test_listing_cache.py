"""``GET /markets`` reuses an idle market's JSON: after every kind of change a listing is still
what the venue's own reports say (quote, trade, close by time, settlement, the 24 h volume
ageing, recorded prints), and ``GET /series/{ticker}`` answers without reading every market."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

from kalshi_core.clock import ManualClock
from kalshi_core.exchange import Venue
from kalshi_core.exchange.changes import MarketChanged
from kalshi_core.exchange.fill_models.recorded import TradeThrough
from kalshi_core.exchange.http.shapes import json_body, market_json
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.models import BookSide, Market, MarketResult, Series, Trade

from ..replay.test_every_print import write_generated_set
from .conftest import START, TICKER, RawHttp, cross, make_market, mm_order

SOON = "KXTEST-26MAR01-T99"  # closes an hour after START


def _uncached(venue: Venue) -> bytes:
    """The listing built from a fresh report of every market."""
    shaped = [market_json(m) for m in sorted(venue.markets(), key=lambda m: m.ticker)]
    return bytes(json_body({"markets": shaped, "cursor": ""}).body)


async def _listed_as_now(raw: RawHttp, venue: Venue) -> dict[str, dict[str, object]]:
    response = await raw.send("GET", "/markets")
    assert response.content == _uncached(venue)
    return {m["ticker"]: m for m in response.json()["markets"]}


@pytest.fixture
def soon(venue: Venue) -> str:
    venue.list_market(attrs.evolve(make_market(SOON), close_time=START + timedelta(hours=1)))
    return SOON


async def test_a_quote_change_is_listed(raw: RawHttp, venue: Venue) -> None:
    await _listed_as_now(raw, venue)
    venue.place_order(mm_order(BookSide.BID, 4000, 2))
    listed = await _listed_as_now(raw, venue)
    assert listed[TICKER]["yes_bid_dollars"] == "0.4000"


async def test_a_trade_is_listed(raw: RawHttp, venue: Venue) -> None:
    await _listed_as_now(raw, venue)
    cross(venue, 4500, 3)
    listed = await _listed_as_now(raw, venue)
    assert listed[TICKER]["last_price_dollars"] == "0.4500"
    assert listed[TICKER]["volume_24h_fp"] == "3.00"


async def test_a_close_by_the_clock_is_listed(
    raw: RawHttp, venue: Venue, clock: ManualClock, soon: str
) -> None:
    assert (await _listed_as_now(raw, venue))[soon]["status"] == "active"
    clock.advance(timedelta(hours=2))  # no venue call in between: the listing sweeps
    assert (await _listed_as_now(raw, venue))[soon]["status"] == "closed"
    response = await raw.send("GET", "/markets", params={"status": "open"})
    assert soon not in [m["ticker"] for m in response.json()["markets"]]


async def test_a_settlement_is_listed(raw: RawHttp, venue: Venue) -> None:
    cross(venue, 4500, 3)
    await _listed_as_now(raw, venue)
    venue.determine(TICKER, MarketResult.YES)
    listed = await _listed_as_now(raw, venue)
    assert listed[TICKER]["result"] == "yes"
    assert listed[TICKER]["open_interest_fp"] == "0.00"


async def test_a_trade_leaves_the_24h_volume_a_day_later(
    raw: RawHttp, venue: Venue, clock: ManualClock
) -> None:
    cross(venue, 4500, 3)
    clock.advance(timedelta(hours=23))
    assert (await _listed_as_now(raw, venue))[TICKER]["volume_24h_fp"] == "3.00"
    clock.advance(timedelta(hours=1))  # exactly a day old: still counted
    assert (await _listed_as_now(raw, venue))[TICKER]["volume_24h_fp"] == "3.00"
    clock.advance(timedelta(seconds=1))
    listed = await _listed_as_now(raw, venue)
    assert listed[TICKER]["volume_24h_fp"] == "0.00"
    assert listed[TICKER]["volume_fp"] == "3.00"


async def test_a_print_without_notification_is_listed_once_told(
    raw: RawHttp, venue: Venue, exchange: LocalExchange
) -> None:
    await _listed_as_now(raw, venue)
    venue.record_print(
        Trade(
            trade_id="outside-1",
            ticker=TICKER,
            count=200,
            yes_price=3000,
            no_price=7000,
            created_time=START,
        )
    )
    exchange.context.markets_changed([TICKER])
    assert (await _listed_as_now(raw, venue))[TICKER]["last_price_dollars"] == "0.3000"


async def test_an_idle_market_is_not_reported_again(
    raw: RawHttp, venue: Venue, monkeypatch: pytest.MonkeyPatch
) -> None:
    await raw.send("GET", "/markets")
    built: list[str] = []
    report = venue.market

    def counted(ticker: str) -> Market:
        built.append(ticker)
        return report(ticker)

    monkeypatch.setattr(venue, "market", counted)
    monkeypatch.setattr(venue, "markets", lambda: pytest.fail("a page built every market"))
    await raw.send("GET", "/markets")
    assert built == []
    venue.place_order(mm_order(BookSide.BID, 4000))
    await raw.send("GET", "/markets")
    assert built == [TICKER]


async def test_a_series_is_found_without_reading_every_market(
    raw: RawHttp, venue: Venue, exchange: LocalExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    exchange.context.catalog.series["KXCAT"] = Series(
        ticker="KXCAT", title="Catalogued", category="Economics", frequency="daily"
    )
    await raw.send("GET", "/series/KXTEST")  # builds the index once
    monkeypatch.setattr(venue, "markets", lambda: pytest.fail("read every market"))
    named = (await raw.send("GET", "/series/KXTEST")).json()["series"]
    assert (named["ticker"], named["title"], named["frequency"]) == ("KXTEST", "KXTEST", "custom")
    assert (await raw.send("GET", "/series/KXCAT")).json()["series"]["title"] == "Catalogued"
    assert (await raw.send("GET", "/series/KXNONE")).status_code == 404
    venue.list_market(make_market("KXNEW-26MAR01-T50"))
    assert (await raw.send("GET", "/series/KXNEW")).json()["series"]["ticker"] == "KXNEW"


async def test_replayed_prints_are_listed(tmp_path: Path, key_dir: Path) -> None:
    """A recorded fill model puts the replay's prints on the tape without a notification:
    ``LocalExchange.sync`` tells the listing of the markets of every replayed event, so a
    stepped replay's listing is the venue's after every step."""
    write_generated_set(tmp_path / "gen")
    options: dict[str, Any] = {"data_dir": tmp_path, "data_sets": ["gen"], "key_dir": key_dir}
    options["fill_model"] = TradeThrough
    async with (
        LocalExchange.running(stepped=True, **options) as exchange,
        httpx.AsyncClient(timeout=httpx.Timeout(30.0)) as http,
    ):
        raw = RawHttp(exchange, http)
        # Deaf to the venue's notifications but for listings and statuses, the listing learns
        # of every replayed quote and print from sync alone: the markets of the events applied.
        index = exchange.context.market_index()
        exchange.venue.listeners.remove(index.changed)
        exchange.venue.listeners.append(
            lambda change: index.changed(change) if isinstance(change, MarketChanged) else None
        )
        traded = set()
        for _ in range(12):
            listed = await _listed_as_now(raw, exchange.venue)
            traded |= {ticker for ticker, m in listed.items() if m["volume_fp"] != "0.00"}
            exchange.advance_clock(300)
        assert traded  # prints were replayed (and listed) along the way
