"""The official SDK and pykalshi parse ``/historical/*`` and event candlesticks.

The SDK's pydantic models require the historical shapes (plain ``open``/``close`` keys, a
nullable ``price``, ``volume`` and ``open_interest``) and ``adjusted_end_ts`` on event
candlesticks: each call passing means the local exchange answers as Kalshi's would.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

sdk = pytest.importorskip("kalshi_python_sync")

from kalshi_core.clock import ManualClock  # noqa: E402
from kalshi_core.exchange import Venue, VenueOrder  # noqa: E402
from kalshi_core.exchange.local import LocalExchange  # noqa: E402
from kalshi_core.models import (  # noqa: E402
    BookSide,
    Market,
    MarketResult,
    MarketStatus,
    TimeInForce,
)
from kalshi_core.money import CONTRACT, DOLLAR  # noqa: E402

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
EVENT = "KXHIST-26MAR01"
TICKERS = [f"{EVENT}-T{strike}" for strike in (40, 50)]
SPAN = {"start_ts": int(START.timestamp()) - 3600, "end_ts": int(START.timestamp()) + 3600}


def _order(account: str, ticker: str, side: BookSide, **extra: Any) -> VenueOrder:
    return VenueOrder(
        account=account, ticker=ticker, side=side, price=5000, count=2 * CONTRACT, **extra
    )


@pytest.fixture
async def exchange(tmp_path: Path) -> AsyncIterator[LocalExchange]:
    """At 12:00 the dev account buys 2 in each market; the first settles at 12:10; the clock
    stands at 14:00, so the cutoff (14:00) has passed all of it."""
    clock = ManualClock(START)
    venue = Venue(clock)
    for ticker in TICKERS:
        venue.list_market(
            Market(
                ticker=ticker,
                event_ticker=EVENT,
                status=MarketStatus.ACTIVE,
                title=f"History {ticker}",
                open_time=START - timedelta(days=1),
                close_time=START + timedelta(days=1),
            )
        )
    async with LocalExchange.running(venue=venue, key_dir=tmp_path) as ex:
        venue.deposit("mm", 1_000 * DOLLAR)
        for ticker in TICKERS:
            venue.place_order(_order("mm", ticker, BookSide.ASK))
            ioc = TimeInForce.IMMEDIATE_OR_CANCEL
            venue.place_order(_order("dev", ticker, BookSide.BID, time_in_force=ioc))
        clock.set(START + timedelta(minutes=10))
        venue.determine(TICKERS[0], MarketResult.YES)
        clock.set(START + timedelta(hours=2))
        yield ex


def _sdk(exchange: LocalExchange) -> Any:
    assert exchange.private_key_path is not None
    config = sdk.Configuration(host=exchange.base_url)
    config.api_key_id = exchange.api_key_id
    config.private_key_pem = exchange.private_key_path.read_text()
    return sdk.KalshiClient(config)


def sdk_calls(client: Any) -> dict[str, Any]:
    return {
        "cutoff": client.get_historical_cutoff().market_settled_ts,
        "markets": [m.ticker for m in client.get_historical_markets(limit=5).markets],
        "market": client.get_historical_market(TICKERS[0]).market.result,
        "candles": [
            (c.volume, c.price.open, c.price.previous, c.yes_ask.close)
            for c in client.get_market_candlesticks_historical(
                TICKERS[0], period_interval=60, **SPAN
            ).candlesticks
        ],
        "trades": [t.count_fp for t in client.get_trades_historical(limit=5).trades],
        "fills": [f.ticker for f in client.get_fills_historical(limit=5).fills],
        "orders": [o.status for o in client.get_historical_orders(limit=5).orders],
        "event": client.get_market_candlesticks_by_event(
            EVENT, "KXHIST", period_interval=60, **SPAN
        ),
    }


async def test_the_official_sdk_parses_the_historical_section(exchange: LocalExchange) -> None:
    got = await asyncio.to_thread(sdk_calls, _sdk(exchange))
    assert got["cutoff"] == START + timedelta(hours=2)
    assert got["markets"] == [TICKERS[0]]
    assert got["market"] == "yes"
    assert got["candles"] == [("2.00", "0.5000", None, "0.5000")]
    assert got["trades"] == ["2.00", "2.00"]
    assert sorted(got["fills"]) == TICKERS
    assert got["orders"] == ["executed", "executed"]
    event = got["event"]
    assert event.market_tickers == TICKERS
    assert [[c.volume_fp for c in cs] for cs in event.market_candlesticks] == [["2.00"], ["2.00"]]
    assert event.adjusted_end_ts == SPAN["end_ts"]


def pykalshi_calls(client: Any) -> dict[str, Any]:
    history = client.history
    return {
        "cutoff": history.get_cutoff().trades_created_ts,
        "markets": [m.ticker for m in history.get_markets(limit=1, fetch_all=True)],
        "market": history.get_market(TICKERS[0]).result,
        "candles": [c.volume for c in history.get_candlesticks(TICKERS[0], **SPAN)],
        "trades": [t.count_fp for t in history.get_trades(limit=1, fetch_all=True)],
        "fills": [f.order_id for f in history.get_fills(limit=1, fetch_all=True)],
        "orders": [o.order_id for o in history.get_orders(limit=1, fetch_all=True)],
    }


async def test_pykalshi_parses_the_historical_section(exchange: LocalExchange) -> None:
    pykalshi = pytest.importorskip("pykalshi")
    assert exchange.private_key_path is not None
    client = pykalshi.KalshiClient(
        api_key_id=exchange.api_key_id,
        private_key_path=str(exchange.private_key_path),
        api_base=exchange.base_url,
    )
    with contextlib.closing(client):
        got = await asyncio.to_thread(pykalshi_calls, client)
    assert got["cutoff"] == "2026-03-01T14:00:00Z"
    assert got["markets"] == [TICKERS[0]]
    assert got["market"] == "yes"
    assert got["candles"] == ["2.00"]
    assert got["trades"] == ["2.00", "2.00"]
    assert len(set(got["fills"])) == 2
    assert sorted(got["fills"]) == sorted(got["orders"])
