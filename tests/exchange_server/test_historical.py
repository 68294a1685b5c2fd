"""``/historical/*`` and event candlesticks over real HTTP, checked against the venue.

The venue's clock starts at 12:00; the historical cutoff is its time rounded down to the hour,
so what happened at 12:00 is archived only once the clock reaches 13:00.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from kalshi_core.client import KalshiClient
from kalshi_core.clock import ManualClock
from kalshi_core.exchange import Venue
from kalshi_core.models import BookSide, MarketResult, OrderStatus
from kalshi_core.money import CONTRACT

from .conftest import START, TICKER, RawHttp, assert_kalshi_error, cross, mm_order, tickers
from .test_bounds import ORDERS, order_body

OTHER = "KXTEST-26MAR01-T60"
EVENT = "KXTEST-26MAR01"
HOUR = timedelta(hours=1)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def walk(raw: RawHttp, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a historical list, one item per page."""
    found: list[dict[str, Any]] = []
    cursor = ""
    while True:
        query = {**params, "limit": 1, **({"cursor": cursor} if cursor else {})}
        response = await raw.send("GET", path, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        found += body[key]
        cursor = body["cursor"]
        if not cursor:
            return found


async def trade_settle_and_wait(raw: RawHttp, venue: Venue, clock: ManualClock) -> str:
    """At 12:00 three prints on TICKER, a dev fill and a dev cancel; TICKER settles at 12:10;
    at 14:30 a print on OTHER. Returns the dev's canceled order id."""
    cross(venue, 5000, 3)
    venue.place_order(mm_order(BookSide.ASK, 4500, 2))
    taken = await raw.send("POST", ORDERS, json=order_body(price="0.45", count="2"))
    assert taken.status_code == 201, taken.text
    resting = await raw.send("POST", ORDERS, json=order_body(price="0.10", count="1"))
    order_id = str(resting.json()["order_id"])
    assert (await raw.send("DELETE", f"{ORDERS}/{order_id}")).status_code == 200
    clock.set(START + timedelta(minutes=10))
    venue.determine(TICKER, MarketResult.YES)
    clock.set(START + 2.5 * HOUR)
    cross(venue, 3000, 1, ticker=OTHER)
    return order_id


async def test_the_cutoff_is_the_exchange_time_rounded_down_to_the_hour(
    raw: RawHttp, clock: ManualClock
) -> None:
    clock.set(START + timedelta(minutes=59))
    body = (await raw.send("GET", "/historical/cutoff")).json()
    assert set(body.values()) == {stamp(START)}
    assert set(body) == {
        "market_settled_ts",
        "trades_created_ts",
        "orders_updated_ts",
        "market_positions_last_updated_ts",
    }


async def test_nothing_is_archived_before_the_cutoff_passes_it(
    raw: RawHttp, venue: Venue, clock: ManualClock
) -> None:
    cross(venue, 5000, 3)
    clock.set(START + timedelta(minutes=10))
    venue.determine(TICKER, MarketResult.YES)
    assert (await raw.send("GET", "/historical/trades")).json() == {"trades": [], "cursor": ""}
    assert (await raw.send("GET", "/historical/markets")).json() == {"markets": [], "cursor": ""}
    refused = await raw.send("GET", f"/historical/markets/{TICKER}")
    assert_kalshi_error(refused, 404, "not_found")
    assert "GET /markets/" in refused.json()["error"]["message"]


async def test_archived_markets_trades_fills_and_orders_page_one_by_one(
    raw: RawHttp, venue: Venue, clock: ManualClock
) -> None:
    canceled = await trade_settle_and_wait(raw, venue, clock)
    markets = await walk(raw, "/historical/markets", "markets")
    assert [m["ticker"] for m in markets] == [TICKER]
    assert markets[0]["result"] == "yes"
    one = (await raw.send("GET", f"/historical/markets/{TICKER}")).json()["market"]
    assert one == markets[0]
    trades = await walk(raw, "/historical/trades", "trades")
    assert [t["count_fp"] for t in trades] == ["2.00", "3.00"]  # newest first; not OTHER's
    live = (await raw.send("GET", "/markets/trades")).json()["trades"]
    assert len(live) == 3  # the live tape still holds everything
    fills = await walk(raw, "/historical/fills", "fills")
    assert [f["count_fp"] for f in fills] == ["2.00"]
    orders = await walk(raw, "/historical/orders", "orders")
    assert {o["status"] for o in orders} == {"executed", "canceled"}
    assert canceled in {o["order_id"] for o in orders}


async def test_filters_narrow_the_archive(raw: RawHttp, venue: Venue, clock: ManualClock) -> None:
    await trade_settle_and_wait(raw, venue, clock)
    by_event = await walk(raw, "/historical/markets", "markets", event_ticker="KXOTHER-26MAR01")
    assert by_event == []
    by_ticker = await walk(raw, "/historical/trades", "trades", ticker=OTHER)
    assert by_ticker == []  # OTHER's print came after the cutoff
    late = int((START + HOUR).timestamp())
    assert await walk(raw, "/historical/fills", "fills", min_ts=late) == []
    assert await walk(raw, "/historical/orders", "orders", ticker=OTHER) == []
    venue.create_subaccount("dev")  # an empty subaccount has no archive; an unknown one is a 400
    assert await walk(raw, "/historical/orders", "orders", subaccount=1) == []
    missing = await raw.send("GET", "/historical/orders", params={"subaccount": 3})
    assert_kalshi_error(missing, 400, "invalid_parameters")
    unknown = await raw.send("GET", "/historical/trades", params={"ticker": "NOPE"})
    assert unknown.json() == {"trades": [], "cursor": ""}


async def test_archived_candlesticks_take_kalshis_historical_shape(
    raw: RawHttp, venue: Venue, clock: ManualClock
) -> None:
    await trade_settle_and_wait(raw, venue, clock)
    params = {
        "start_ts": int(START.timestamp()) - 3600,
        "end_ts": int(START.timestamp()) + 3600,
        "period_interval": 60,
    }
    path = f"/historical/markets/{TICKER}/candlesticks"
    body = (await raw.send("GET", path, params=params)).json()
    assert body["ticker"] == TICKER
    [candle] = body["candlesticks"]
    shape = {"end_period_ts", "yes_bid", "yes_ask", "price", "volume", "open_interest"}
    assert set(candle) == shape
    assert candle["volume"] == "5.00"
    assert candle["price"]["open"] == "0.5000"
    assert candle["price"]["close"] == "0.4500"
    assert candle["price"]["previous"] is None
    assert set(candle["yes_ask"]) == {"open", "low", "high", "close"}
    not_archived = f"/historical/markets/{OTHER}/candlesticks"
    assert_kalshi_error(await raw.send("GET", not_archived, params=params), 404, "not_found")
    assert_kalshi_error(await raw.send("GET", path, params={"start_ts": 1}), 400)


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/historical/trades", {"cursor": "not-a-cursor"}, 400),
        ("/historical/markets", {"limit": "-1"}, 400),
        ("/historical/markets", {"limit": "1001"}, 400),
        ("/historical/fills", {"limit": "0"}, 400),
        ("/historical/orders", {"subaccount": "64"}, 400),
        ("/historical/trades", {"min_ts": "1e9"}, 400),
        ("/historical/markets", {"mve_filter": "sometimes"}, 400),
        ("/historical/markets/NOPE", {}, 404),
    ],
)
async def test_hostile_queries_get_kalshi_shaped_errors(
    raw: RawHttp, path: str, params: dict[str, str], status: int
) -> None:
    assert_kalshi_error(await raw.send("GET", path, params=params), status)


async def test_a_live_cursor_is_refused_by_the_archive(
    raw: RawHttp, venue: Venue, clock: ManualClock
) -> None:
    await trade_settle_and_wait(raw, venue, clock)
    live = (await raw.send("GET", "/markets/trades", params={"limit": 1})).json()["cursor"]
    assert live
    refused = await raw.send("GET", "/historical/trades", params={"cursor": live})
    assert_kalshi_error(refused, 400)


async def test_account_history_needs_a_signature(raw: RawHttp) -> None:
    for path in ("/historical/fills", "/historical/orders"):
        assert_kalshi_error(await raw.send("GET", path, signed=False), 401, "unauthorized")
    public = await raw.send("GET", "/historical/trades", signed=False)
    assert public.status_code == 200


async def test_event_candlesticks_list_every_market_of_the_event(
    raw: RawHttp, venue: Venue
) -> None:
    cross(venue, 5000, 3)
    cross(venue, 3000, 2, ticker=OTHER)
    params = {
        "start_ts": int(START.timestamp()) - 60,
        "end_ts": int(START.timestamp()) + 60,
        "period_interval": 1,
    }
    path = f"/series/KXTEST/events/{EVENT}/candlesticks"
    body = (await raw.send("GET", path, params=params)).json()
    in_event = sorted(t for t in tickers() if t.startswith(EVENT + "-"))
    assert body["market_tickers"] == in_event
    volumes = [[c["volume_fp"] for c in candles] for candles in body["market_candlesticks"]]
    assert volumes == [["3.00"], ["2.00"], [], []]
    assert body["adjusted_end_ts"] == params["end_ts"]
    wide = {**params, "start_ts": 0, "end_ts": 9000 * 60}  # 9,000 minutes x 4 markets
    cut = (await raw.send("GET", path, params=wide)).json()
    assert cut["adjusted_end_ts"] == 2500 * 60


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (f"/series/KXOTHER/events/{EVENT}/candlesticks", 404),  # not that series' event
        ("/series/KXTEST/events/KXTEST-NOPE/candlesticks", 404),
    ],
)
async def test_event_candlesticks_refuse_unknown_events(
    raw: RawHttp, path: str, status: int
) -> None:
    params = {"start_ts": 0, "end_ts": 60, "period_interval": 1}
    assert_kalshi_error(await raw.send("GET", path, params=params), status, "not_found")


async def test_event_candlesticks_check_their_query(raw: RawHttp) -> None:
    path = f"/series/KXTEST/events/{EVENT}/candlesticks"
    bad = {"start_ts": 0, "end_ts": 60, "period_interval": 5}
    assert_kalshi_error(await raw.send("GET", path, params=bad), 400)


async def test_the_client_reads_the_archive_and_event_candles(
    client: KalshiClient, raw: RawHttp, venue: Venue, clock: ManualClock
) -> None:
    canceled = await trade_settle_and_wait(raw, venue, clock)
    cutoff = await client.get_historical_cutoff()
    assert cutoff.market_settled == cutoff.trades_created == START + 2 * HOUR
    assert [m.ticker async for m in client.iter_historical_markets(limit=1)] == [TICKER]
    trades = [t.count async for t in client.iter_historical_trades(limit=1)]
    assert trades == [2 * CONTRACT, 3 * CONTRACT]
    assert [f.count async for f in client.iter_historical_fills(limit=1)] == [2 * CONTRACT]
    orders = {o.order_id: o.status async for o in client.iter_historical_orders(limit=1)}
    assert orders[canceled] is OrderStatus.CANCELED
    candles = await client.get_event_candlesticks(
        "KXTEST", EVENT, start=START - HOUR, end=START + HOUR, period_interval=60
    )
    assert list(candles) == sorted(t for t in tickers() if t.startswith(EVENT + "-"))
    assert [c.volume for c in candles[TICKER]] == [5 * CONTRACT]
    assert candles[OTHER] == []  # OTHER's print came at 14:30
