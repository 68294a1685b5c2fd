"""``GET /series``, ``/exchange/user_data_timestamp``,
``/portfolio/summary/total_resting_order_value``, ``/account/limits`` and the ``paused``
status filter, checked against the venue."""

from __future__ import annotations

from kalshi_core.clock import ManualClock
from kalshi_core.exchange import Venue
from kalshi_core.models import BookSide, MarketStatus, Series

from .conftest import START, TICKER, RawHttp, assert_kalshi_error, cross, mm_order, tickers
from .test_bounds import ORDERS, order_body

DEV = "dev"


async def test_series_list_names_every_series_and_filters(raw: RawHttp, venue: Venue) -> None:
    catalog = raw.exchange.context.catalog
    catalog.series["KXCAT"] = Series(
        ticker="KXCAT", title="Cataloged", category="Economics", tags=("Rates",), frequency="daily"
    )
    cross(venue, 5000, 3)
    every = (await raw.send("GET", "/series")).json()["series"]
    assert sorted(s["ticker"] for s in every) == ["KXCAT", "KXOTHER", "KXTEST"]
    by_category = await raw.send("GET", "/series", params={"category": "Economics"})
    assert [s["ticker"] for s in by_category.json()["series"]] == ["KXCAT"]
    by_tag = await raw.send("GET", "/series", params={"tags": "Nope,Rates"})
    assert [s["ticker"] for s in by_tag.json()["series"]] == ["KXCAT"]
    volumes = await raw.send("GET", "/series", params={"include_volume": "true"})
    volume = {s["ticker"]: s["volume_fp"] for s in volumes.json()["series"]}
    assert volume == {"KXCAT": "0.00", "KXOTHER": "0.00", "KXTEST": "3.00"}
    assert_kalshi_error(await raw.send("GET", "/series", params={"include_volume": "1"}), 400)


async def test_user_data_timestamp_is_the_venue_clock(raw: RawHttp, clock: ManualClock) -> None:
    body = (await raw.send("GET", "/exchange/user_data_timestamp")).json()
    assert body == {"as_of_time": START.strftime("%Y-%m-%dT%H:%M:%SZ")}


async def test_total_resting_order_value_sums_what_resting_orders_would_cost(
    raw: RawHttp, venue: Venue
) -> None:
    path = "/portfolio/summary/total_resting_order_value"
    empty = (await raw.send("GET", path)).json()
    assert empty["total_resting_order_value"] == 0
    await raw.send("POST", ORDERS, json=order_body(price="0.40", count="3"))  # 3 x $0.40
    await raw.send("POST", ORDERS, json=order_body(side="ask", price="0.90", count="2"))  # NO
    venue.place_order(mm_order(BookSide.BID, 3000, 5))  # another account's order: not counted
    body = (await raw.send("GET", path)).json()
    assert body == {
        "total_resting_order_value": 140,  # cents: $1.20 + 2 x $0.10
        "resting_order_value_breakdown": [{"exchange_index": 0, "balance": "1.4000"}],
    }
    assert_kalshi_error(await raw.send("GET", path, signed=False), 401, "unauthorized")


async def test_account_limits_need_a_signature(raw: RawHttp) -> None:
    body = (await raw.send("GET", "/account/limits")).json()
    assert body["usage_tier"] == "basic"
    assert body["read"] == {"refill_rate": 200, "bucket_capacity": 200}
    assert body["write"] == {"refill_rate": 100, "bucket_capacity": 100}
    assert body["grants"] == []
    assert_kalshi_error(await raw.send("GET", "/account/limits", signed=False), 401)


async def test_paused_status_filter(raw: RawHttp, venue: Venue) -> None:
    paused_ticker = tickers()[1]
    venue.set_status(paused_ticker, MarketStatus.INACTIVE)
    paused = await raw.send("GET", "/markets", params={"status": "paused"})
    assert [m["ticker"] for m in paused.json()["markets"]] == [paused_ticker]
    opened = await raw.send("GET", "/markets", params={"status": "open", "limit": "1000"})
    assert paused_ticker not in [m["ticker"] for m in opened.json()["markets"]]
    assert TICKER in [m["ticker"] for m in opened.json()["markets"]]
    events = await raw.send("GET", "/events", params={"status": "paused"})
    assert [e["event_ticker"] for e in events.json()["events"]] == [TICKER.rsplit("-", 1)[0]]
