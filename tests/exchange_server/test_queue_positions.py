"""``GET /portfolio/orders/{id}/queue_position`` and ``/portfolio/orders/queue_positions``:
the contracts resting ahead of our orders at their price, read from the matching engine."""

from __future__ import annotations

from kalshi_core.client import KalshiClient
from kalshi_core.exchange import Venue
from kalshi_core.models import BookSide
from kalshi_core.money import CONTRACT

from .conftest import TICKER, RawHttp, assert_kalshi_error, mm_order, tickers
from .test_bounds import ORDERS, order_body

OTHER_EVENT_TICKER = tickers()[8]  # KXOTHER-26MAR01-T50
SAME_EVENT_TICKER = tickers()[1]  # KXTEST-26MAR01-T60


async def _place(raw: RawHttp, **fields: object) -> str:
    response = await raw.send("POST", ORDERS, json=order_body(**fields))
    assert response.status_code == 201, response.text
    order_id: str = response.json()["order_id"]
    return order_id


async def _book(raw: RawHttp, venue: Venue) -> dict[str, str]:
    """Our orders between mm's at 0.40, one at a better price, two in other markets."""
    venue.place_order(mm_order(BookSide.BID, 4000, 3))
    first = await _place(raw, price="0.40", count="1")
    venue.place_order(mm_order(BookSide.BID, 4000, 2))
    second = await _place(raw, price="0.40", count="2")
    better = await _place(raw, price="0.41", count="1")
    same_event = await _place(raw, ticker=SAME_EVENT_TICKER, price="0.30")
    other = await _place(raw, ticker=OTHER_EVENT_TICKER, price="0.30")
    return {
        "first": first,
        "second": second,
        "better": better,
        "same_event": same_event,
        "other": other,
    }


async def test_queue_position_counts_what_rests_ahead_at_the_price(
    raw: RawHttp, venue: Venue
) -> None:
    ids = await _book(raw, venue)

    async def ahead(order_id: str) -> str:
        response = await raw.send("GET", f"/portfolio/orders/{order_id}/queue_position")
        assert response.status_code == 200, response.text
        assert set(response.json()) == {"queue_position_fp"}
        found: str = response.json()["queue_position_fp"]
        return found

    assert await ahead(ids["first"]) == "3.00"  # mm's 3 came first
    assert await ahead(ids["second"]) == "6.00"  # mm's 3, our 1, mm's 2
    assert await ahead(ids["better"]) == "0.00"  # alone at 0.41: no level ahead counts
    mm_first = venue.orders("mm")[0].order_id
    venue.cancel("mm", mm_first)
    assert await ahead(ids["first"]) == "0.00"
    assert await ahead(ids["second"]) == "3.00"
    assert venue.queue_position(ids["second"]) == 3 * CONTRACT


async def test_queue_positions_filter_by_markets_and_event(raw: RawHttp, venue: Venue) -> None:
    ids = await _book(raw, venue)
    path = "/portfolio/orders/queue_positions"

    async def listed(**params: str) -> list[tuple[str, str, str]]:
        response = await raw.send("GET", path, params=params)
        assert response.status_code == 200, response.text
        rows = response.json()["queue_positions"]
        assert all(set(r) == {"order_id", "market_ticker", "queue_position_fp"} for r in rows)
        return [(r["order_id"], r["market_ticker"], r["queue_position_fp"]) for r in rows]

    every = await listed()
    assert every == [
        (ids["first"], TICKER, "3.00"),
        (ids["second"], TICKER, "6.00"),
        (ids["better"], TICKER, "0.00"),
        (ids["same_event"], SAME_EVENT_TICKER, "0.00"),
        (ids["other"], OTHER_EVENT_TICKER, "0.00"),
    ]
    assert [r[0] for r in await listed(market_tickers=TICKER)] == [
        ids["first"],
        ids["second"],
        ids["better"],
    ]
    two = await listed(market_tickers=f"{SAME_EVENT_TICKER},{OTHER_EVENT_TICKER}")
    assert [r[0] for r in two] == [ids["same_event"], ids["other"]]
    by_event = await listed(event_ticker="KXOTHER-26MAR01")
    assert [r[0] for r in by_event] == [ids["other"]]
    both = await listed(event_ticker="KXTEST-26MAR01", market_tickers=SAME_EVENT_TICKER)
    assert [r[0] for r in both] == [ids["same_event"]]
    assert await listed(market_tickers="NOPE-1") == []
    await raw.send("DELETE", f"{ORDERS}/{ids['better']}")  # canceled: no longer listed
    assert ids["better"] not in [r[0] for r in await listed()]


async def test_queue_positions_refuse_what_they_cannot_serve(raw: RawHttp) -> None:
    path = "/portfolio/orders/queue_positions"
    assert_kalshi_error(await raw.send("GET", path, signed=False), 401, "unauthorized")
    bad_sub = await raw.send("GET", path, params={"subaccount": "3"})
    assert_kalshi_error(bad_sub, 400, "invalid_parameters")
    assert "subaccount" in bad_sub.json()["error"]["message"]
    unknown = await raw.send("GET", "/portfolio/orders/no-such-order/queue_position")
    assert_kalshi_error(unknown, 404, "not_found")


async def test_queue_positions_through_the_client(
    client: KalshiClient, raw: RawHttp, venue: Venue
) -> None:
    ids = await _book(raw, venue)
    assert await client.queue_position(ids["second"]) == 6 * CONTRACT
    rows = await client.queue_positions(market_tickers=[TICKER])
    assert [(r.order_id, r.queue_position) for r in rows] == [
        (ids["first"], 3 * CONTRACT),
        (ids["second"], 6 * CONTRACT),
        (ids["better"], 0),
    ]
    by_event = await client.queue_positions(event_ticker="KXOTHER-26MAR01")
    assert [r.market_ticker for r in by_event] == [OTHER_EVENT_TICKER]
