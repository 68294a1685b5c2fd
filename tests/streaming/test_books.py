"""The streamed book equals the REST book after every batch of messages, whatever the order
flow, across connections the server drops and sequence numbers it skips (hypothesis)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kalshi_core.client import KalshiClient
from kalshi_core.client.stream_feed import StreamingSource
from kalshi_core.errors import ExchangeError
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.models import BookSide, TimeInForce
from kalshi_core.money import CENT
from tests.exchange_stream.conftest import MM, TAKER, TICKERS, order

from .conftest import WAIT, Sleeps, drop_connections, lose_next_delta

Action = tuple[object, ...]

place = st.tuples(
    st.just("place"),
    st.sampled_from([MM, TAKER]),
    st.sampled_from(TICKERS[:2]),
    st.sampled_from([BookSide.BID, BookSide.ASK]),
    st.integers(35, 65),
    st.integers(1, 5),
    st.sampled_from([TimeInForce.GOOD_TILL_CANCELED, TimeInForce.IMMEDIATE_OR_CANCEL]),
)
cancel = st.tuples(st.just("cancel"), st.integers(0, 50))
drop = st.tuples(st.just("drop"))
skip = st.tuples(st.just("skip"), st.sampled_from(TICKERS[:2]))
actions = st.lists(st.one_of(place, place, place, cancel, drop, skip), min_size=1, max_size=12)


async def until(condition: Callable[[], bool]) -> None:
    """Wait (bounded) for the source to notice something the server did."""
    for _ in range(int(WAIT / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the streaming source never noticed")


async def perform(
    action: Action, exchange: LocalExchange, source: StreamingSource, resting: list[tuple[str, str]]
) -> None:
    venue = exchange.venue
    if action[0] == "place":
        _, account, ticker, side, cents, contracts, tif = action
        made = venue.place_order(
            order(side, cents * CENT, contracts, ticker, account=account, tif=tif)  # type: ignore[arg-type]
        )
        if made.remaining_count:
            resting.append((str(account), made.order_id))
    elif action[0] == "cancel" and resting:
        account, order_id = resting.pop(int(action[1]) % len(resting))  # type: ignore[call-overload]
        with contextlib.suppress(ExchangeError):  # it may have filled meanwhile
            venue.cancel(account, order_id)
    elif action[0] == "drop":
        seen = source.stats.disconnects
        await drop_connections(exchange.app.feed)
        await until(lambda: source.stats.disconnects > seen)
        assert await source.wait_live(WAIT)
    elif action[0] == "skip":  # a delta lost on the way: its seq is skipped
        ticker = str(action[1])
        assert lose_next_delta(exchange.app.feed) == 1
        venue.place_order(order(BookSide.BID, 30 * CENT, 1, ticker))  # its delta is lost
        # the next message reveals the gap (before it, no message says anything was lost)
        venue.place_order(order(BookSide.ASK, 70 * CENT, 1, ticker))


async def assert_books_match(source: StreamingSource, client: KalshiClient) -> None:
    await source.catch_up()
    for ticker in TICKERS:
        assert source.book(ticker) == await client.get_orderbook(ticker), ticker


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(
    [
        ("place", MM, TICKERS[0], BookSide.BID, 40, 3, TimeInForce.GOOD_TILL_CANCELED),
        ("skip", TICKERS[0]),
        ("place", MM, TICKERS[0], BookSide.ASK, 60, 2, TimeInForce.GOOD_TILL_CANCELED),
        ("drop",),
        ("place", TAKER, TICKERS[0], BookSide.ASK, 40, 1, TimeInForce.IMMEDIATE_OR_CANCEL),
    ]
)
@given(script=actions)
async def test_streamed_books_equal_rest_books(
    exchange: LocalExchange, source: StreamingSource, client: KalshiClient, script: list[Action]
) -> None:
    await source.watch(TICKERS)
    resting: list[tuple[str, str]] = []
    await assert_books_match(source, client)
    for action in script:
        await perform(action, exchange, source, resting)
        await assert_books_match(source, client)


async def test_a_skipped_seq_resyncs_only_that_market(
    exchange: LocalExchange, source: StreamingSource, client: KalshiClient
) -> None:
    await source.watch(TICKERS)
    await source.catch_up()
    venue = exchange.venue
    assert lose_next_delta(exchange.app.feed) == 1
    venue.place_order(order(BookSide.BID, 40 * CENT, 2, TICKERS[0]))  # that delta never arrives
    venue.place_order(order(BookSide.BID, 41 * CENT, 2, TICKERS[0]))
    venue.place_order(order(BookSide.BID, 42 * CENT, 2, TICKERS[1]))
    changes = await source.catch_up()
    assert (source.stats.gaps, source.stats.resyncs) == (1, 1)
    assert changes.moved == {TICKERS[0], TICKERS[1]}
    for ticker in TICKERS:
        assert source.book(ticker) == await client.get_orderbook(ticker)


async def test_a_dropped_connection_backs_off_and_resubscribes(
    exchange: LocalExchange, source: StreamingSource, client: KalshiClient, sleeps: Sleeps
) -> None:
    await source.watch(TICKERS[:2])
    await source.catch_up()
    seen = source.stats.disconnects
    sleeps.hold()
    await drop_connections(exchange.app.feed)
    exchange.venue.place_order(order(BookSide.BID, 45 * CENT, 1, TICKERS[1]))
    await until(lambda: source.stats.disconnects > seen)
    assert not source.live
    assert source.book(TICKERS[0]) is None  # stale until the new snapshot: never a stale book
    assert len(sleeps.delays) == 1  # waiting in the backoff
    sleeps.release()
    assert await source.wait_live(WAIT)
    await source.catch_up()
    assert source.stats.connects == 2
    newest = exchange.app.feed.connections[-1]  # the dropped one may still be detaching
    subscribed = [s.channel for s in newest.subscriptions.values()]
    assert sorted(subscribed) == [
        "fill",
        "orderbook_delta",
        "orderbook_delta",
        "trade",
        "user_orders",
    ]
    for ticker in TICKERS[:2]:
        assert source.book(ticker) == await client.get_orderbook(ticker)
    assert source.book(TICKERS[2]) is None  # not watched
