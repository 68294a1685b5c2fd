"""Keyset cursors: paging survives a list that changes under it (issue 16).

An offset cursor skipped a position while positions were flattened, returned an order twice
when an older one was canceled, and refused its own cursor once the list shrank. Here a
property interleaves paging over HTTP with random placements and cancellations on the venue
and checks that every item present for the whole walk is seen exactly once, nothing is seen
twice, and no cursor the server handed out is refused.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from kalshi_core.exchange import Venue
from kalshi_core.models import BookSide, OrderStatus, TimeInForce

from .conftest import RawHttp, assert_kalshi_error, mm_order, tickers

DEV = "dev"
IOC = TimeInForce.IMMEDIATE_OR_CANCEL
ACTIVE = [t for t in tickers() if not t.endswith("T80")]
Step = list[tuple[str, int]]


async def walk(raw: RawHttp, path: str, key: str, limit: int, between: Any) -> list[str]:
    """Every page of ``path`` (ids under ``key``), calling ``between(i)`` after page ``i``."""
    seen: list[str] = []
    cursor, page = "", 0
    path, _, query = path.partition("?")
    params = dict(part.split("=") for part in query.split("&") if part)
    while True:
        params.update(limit=str(limit), cursor=cursor)
        response = await raw.send("GET", path, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        seen.extend(_ids(body, key))
        cursor = body["cursor"]
        if not cursor:
            return seen
        between(page)
        page += 1


def _ids(body: dict[str, Any], key: str) -> list[str]:
    listing, field = key.split(".")
    return [item[field] for item in body[listing]]


def _resting(venue: Venue) -> list[str]:
    return [o.order_id for o in venue.orders(DEV, status=OrderStatus.RESTING)]


def _apply(venue: Venue, step: Step, canceled: set[str]) -> None:
    for action, n in step:
        resting = _resting(venue)
        if action == "cancel" and resting:
            order_id = resting[n % len(resting)]
            venue.cancel(DEV, order_id)
            canceled.add(order_id)
        elif action == "place":
            venue.place_order(mm_order(BookSide.BID, 100 + n % 40 * 100, account=DEV))


STEPS = st.lists(
    st.lists(st.tuples(st.sampled_from(["place", "cancel"]), st.integers(0, 99)), max_size=3),
    max_size=12,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    database=None,
)
@given(initial=st.integers(1, 12), limit=st.integers(1, 4), steps=STEPS)
async def test_resting_orders_page_exactly_once_while_orders_change(
    raw: RawHttp, venue: Venue, initial: int, limit: int, steps: list[Step]
) -> None:
    venue.cancel_all(DEV)
    for index in range(initial):
        venue.place_order(mm_order(BookSide.BID, 1000 + index * 100, account=DEV))
    start, canceled = set(_resting(venue)), set[str]()

    def between(page: int) -> None:
        if page < len(steps):
            _apply(venue, steps[page], canceled)

    seen = await walk(raw, "/portfolio/orders?status=resting", "orders.order_id", limit, between)
    assert max(Counter(seen).values(), default=1) == 1, seen
    assert start - canceled <= set(seen)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    database=None,
)
@given(limit=st.integers(1, 3), order=st.permutations(range(len(ACTIVE))))
async def test_positions_page_exactly_once_while_they_are_flattened(
    raw: RawHttp, venue: Venue, limit: int, order: list[int]
) -> None:
    for ticker in ACTIVE:  # one contract long in every open market
        if venue.position(DEV, ticker).position == 0:
            venue.place_order(mm_order(BookSide.ASK, 5000, ticker=ticker))
            venue.place_order(mm_order(BookSide.BID, 5000, ticker=ticker, tif=IOC, account=DEV))
    flatten = [ACTIVE[i] for i in order]
    flattened: set[str] = set()

    def between(page: int) -> None:  # sell one position back after each page
        if flatten:
            ticker = flatten.pop()
            venue.place_order(mm_order(BookSide.BID, 5000, ticker=ticker))
            venue.place_order(mm_order(BookSide.ASK, 5000, ticker=ticker, tif=IOC, account=DEV))
            assert venue.position(DEV, ticker).position == 0
            flattened.add(ticker)

    path = "/portfolio/positions?count_filter=position"
    seen = await walk(raw, path, "market_positions.ticker", limit, between)
    assert max(Counter(seen).values()) == 1, seen
    assert set(ACTIVE) - flattened <= set(seen)


async def test_a_cursor_survives_the_list_emptying(raw: RawHttp, venue: Venue) -> None:
    for index in range(4):
        venue.place_order(mm_order(BookSide.BID, 1000 + index * 100, account=DEV))
    first = await raw.send("GET", "/portfolio/orders", params={"status": "resting", "limit": "2"})
    venue.cancel_all(DEV)
    rest = await raw.send(
        "GET",
        "/portfolio/orders",
        params={"status": "resting", "limit": "2", "cursor": first.json()["cursor"]},
    )
    assert rest.status_code == 200, rest.text
    assert rest.json() == {"orders": [], "cursor": ""}


async def test_newest_first_lists_do_not_repeat_what_was_added_meanwhile(
    raw: RawHttp, venue: Venue
) -> None:
    def trade(price: int) -> None:
        venue.place_order(mm_order(BookSide.ASK, price))
        venue.place_order(mm_order(BookSide.BID, price, tif=IOC, account=DEV))

    for price in (4000, 4100, 4200):
        trade(price)
    before = {f.fill_id for f in venue.fills(DEV)}
    seen = await walk(raw, "/portfolio/fills", "fills.trade_id", 1, lambda page: trade(4300))
    assert sorted(seen) == sorted(before)  # fills made during the walk are newer: not in it


def _forged(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "10",
        "!!!",
        "a" * 600,
        _forged(["markets", 5]),  # a key of the wrong type
        _forged(["orders", 1, "x"]),  # another list's cursor
        _forged(["markets"]),
        _forged({"markets": "x"}),
        base64.urlsafe_b64encode(b"[" * 300).decode(),
    ],
)
async def test_cursors_this_server_did_not_hand_out_are_400(raw: RawHttp, cursor: str) -> None:
    response = await raw.send("GET", "/markets", params={"cursor": cursor})
    assert_kalshi_error(response, 400, "invalid_parameters")


async def test_every_list_hands_out_cursors_it_accepts(raw: RawHttp, venue: Venue) -> None:
    for index in range(3):
        venue.place_order(mm_order(BookSide.ASK, 6000 + index * 100, ticker=ACTIVE[index]))
        venue.place_order(
            mm_order(BookSide.BID, 6000 + index * 100, ticker=ACTIVE[index], tif=IOC, account=DEV)
        )
        venue.place_order(mm_order(BookSide.BID, 1000 + index * 100, account=DEV))
    lists = {
        "/markets": "markets.ticker",
        "/events": "events.event_ticker",
        "/markets/trades": "trades.trade_id",
        "/portfolio/orders": "orders.order_id",
        "/portfolio/fills": "fills.trade_id",
        "/portfolio/positions": "market_positions.ticker",
    }
    for path, key in lists.items():
        seen = await walk(raw, path, key, 1, lambda page: None)
        assert len(seen) == len(set(seen)) >= 3, (path, seen)
