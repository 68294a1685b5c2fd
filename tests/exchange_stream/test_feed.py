"""What the feed sends: books kept from snapshot + deltas equal the REST book, every print
and fill exactly once and in order, ticker changes, and gap-free sequence numbers."""

from __future__ import annotations

import asyncio
import contextlib
import random

import attrs
import pytest

from kalshi_core.client import KalshiClient
from kalshi_core.client.stream import (
    FillUpdate,
    KalshiStream,
    LocalBook,
    OrderbookDelta,
    OrderbookSnapshot,
    TickerUpdate,
    TradeUpdate,
    Update,
)
from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import Venue
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.exchange.websocket import StreamFeed
from kalshi_core.models import BookSide, Side, TimeInForce
from kalshi_core.money import CENT, CONTRACT, DOLLAR

from .conftest import MM, TAKER, TICKER, TICKERS, MakeStream, order


async def tick(feed: StreamFeed, stream: KalshiStream) -> list[Update]:
    """One feed tick, and everything it sent to ``stream``."""
    feed.tick()
    return await stream.flush()


def random_action(venue: Venue, rng: random.Random, resting: list[tuple[str, str]]) -> None:
    """Rest, cross or cancel at random in the first two markets."""
    ticker = rng.choice(TICKERS[:2])
    roll = rng.random()
    if roll < 0.25 and resting:
        account, order_id = resting.pop(rng.randrange(len(resting)))
        with contextlib.suppress(ExchangeError):  # it may have filled meanwhile
            venue.cancel(account, order_id)
        return
    side = rng.choice([BookSide.BID, BookSide.ASK])
    price = rng.randrange(30, 71) * CENT
    account = MM if roll < 0.8 else TAKER
    placed = venue.place_order(order(side, price, rng.randint(1, 5), ticker, account=account))
    if placed.remaining_count:
        resting.append((account, placed.order_id))


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_books_from_the_feed_equal_the_rest_books(
    exchange: LocalExchange,
    feed: StreamFeed,
    stream: KalshiStream,
    client: KalshiClient,
    seed: int,
) -> None:
    rng = random.Random(seed)
    venue = exchange.venue
    venue.place_order(order(BookSide.BID, 40 * CENT, 3))  # a non-empty first snapshot
    sid = await stream.subscribe("orderbook_delta", TICKERS[:2])
    books = {t: LocalBook(t) for t in TICKERS[:2]}
    seqs: list[int] = []
    resting: list[tuple[str, str]] = []
    for _round in range(12):
        for update in await stream.flush():
            assert isinstance(update, OrderbookSnapshot | OrderbookDelta)
            assert update.sid == sid
            seqs.append(update.seq)
            assert books[update.market_ticker].apply(update)
        for ticker, book in books.items():
            assert book.orderbook() == await client.get_orderbook(ticker)
        for _ in range(rng.randint(1, 6)):
            random_action(venue, rng, resting)
        feed.tick()
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) > 12  # the sequence really moved the books


async def test_a_delta_per_changed_level_with_signed_counts(
    exchange: LocalExchange, feed: StreamFeed, stream: KalshiStream
) -> None:
    venue = exchange.venue
    sid = await stream.subscribe("orderbook_delta", [TICKER])
    (snapshot,) = await stream.flush()
    assert snapshot == OrderbookSnapshot(sid=sid, seq=1, market_ticker=TICKER)
    bid = venue.place_order(order(BookSide.BID, 45 * CENT, 2))
    venue.place_order(order(BookSide.ASK, 55 * CENT, 1))
    first = await tick(feed, stream)
    assert [(u.seq, u.side, u.price, u.delta) for u in first if isinstance(u, OrderbookDelta)] == [
        (2, Side.YES, 45 * CENT, 2 * CONTRACT),  # in the order the changes happened
        (3, Side.NO, 45 * CENT, 1 * CONTRACT),
    ]
    venue.cancel(MM, bid.order_id)
    second = await tick(feed, stream)
    assert [(u.seq, u.side, u.delta) for u in second if isinstance(u, OrderbookDelta)] == [
        (4, Side.YES, -2 * CONTRACT)
    ]
    assert await tick(feed, stream) == []  # nothing changed, nothing sent


async def test_an_order_placed_and_canceled_between_ticks_is_two_deltas(
    exchange: LocalExchange, stream: KalshiStream
) -> None:
    venue = exchange.venue
    await stream.subscribe("orderbook_delta", [TICKER])
    await stream.flush()
    placed = venue.place_order(order(BookSide.BID, 45 * CENT, 2))
    venue.cancel(MM, placed.order_id)  # no tick in between: the books look unchanged
    deltas = [u for u in await stream.flush() if isinstance(u, OrderbookDelta)]
    assert [(u.seq, u.side, u.price, u.delta) for u in deltas] == [
        (2, Side.YES, 45 * CENT, 2 * CONTRACT),
        (3, Side.YES, 45 * CENT, -2 * CONTRACT),
    ]


async def test_client_order_id_only_on_the_owners_own_deltas(
    exchange: LocalExchange, make_stream: MakeStream
) -> None:
    venue, dev = exchange.venue, exchange.account_id
    async with make_stream() as stream:
        await stream.subscribe("orderbook_delta", [TICKER])
        await stream.flush()
        mine = order(BookSide.BID, 41 * CENT, 1, account=dev)
        venue.place_order(attrs.evolve(mine, client_order_id="mine-1"))
        venue.place_order(attrs.evolve(order(BookSide.BID, 42 * CENT, 1), client_order_id="mm-1"))
        taken = order(BookSide.ASK, 42 * CENT, 1, account=dev, tif=TimeInForce.IMMEDIATE_OR_CANCEL)
        venue.place_order(attrs.evolve(taken, client_order_id="mine-2"))  # we take mm's bid
        hit = order(BookSide.ASK, 41 * CENT, 1, tif=TimeInForce.IMMEDIATE_OR_CANCEL)
        venue.place_order(attrs.evolve(hit, client_order_id="mm-2"))  # mm takes ours
        deltas = [u for u in await stream.flush() if isinstance(u, OrderbookDelta)]
    assert [(d.price, d.delta, d.client_order_id) for d in deltas] == [
        (41 * CENT, CONTRACT, "mine-1"),
        (42 * CENT, CONTRACT, None),  # another member's order: its id is not ours to see
        (42 * CENT, -CONTRACT, "mine-2"),  # our taker caused it
        (41 * CENT, -CONTRACT, None),  # our order left, but mm's taker caused it
    ]


async def test_add_and_delete_markets_and_get_snapshot(
    exchange: LocalExchange, feed: StreamFeed, stream: KalshiStream, client: KalshiClient
) -> None:
    venue = exchange.venue
    venue.place_order(order(BookSide.BID, 20 * CENT, 1, TICKERS[1]))
    sid = await stream.subscribe("orderbook_delta", [TICKER])
    assert await stream.update_subscription(sid, "add_markets", [TICKERS[1]]) == list(TICKERS[:2])
    updates = await stream.flush()
    assert [(type(u).__name__, u.market_ticker) for u in updates] == [  # type: ignore[union-attr]
        ("OrderbookSnapshot", TICKER),
        ("OrderbookSnapshot", TICKERS[1]),
    ]
    assert await stream.update_subscription(sid, "delete_markets", [TICKER]) == [TICKERS[1]]
    venue.place_order(order(BookSide.BID, 30 * CENT, 1, TICKER))
    venue.place_order(order(BookSide.BID, 30 * CENT, 1, TICKERS[1]))
    (delta,) = await tick(feed, stream)
    assert isinstance(delta, OrderbookDelta)
    assert (delta.market_ticker, delta.seq) == (TICKERS[1], 3)
    await stream.update_subscription(sid, "get_snapshot")
    (fresh,) = await stream.flush()
    assert isinstance(fresh, OrderbookSnapshot)
    assert fresh.seq == 4
    book = LocalBook(TICKERS[1])
    book.apply(fresh)
    assert book.orderbook() == await client.get_orderbook(TICKERS[1])


async def test_trades_and_fills_arrive_once_each_in_order(
    exchange: LocalExchange, feed: StreamFeed, stream: KalshiStream
) -> None:
    venue, dev = exchange.venue, exchange.account_id
    trade_sid = await stream.subscribe("trade")
    fill_sid = await stream.subscribe("fill")
    venue.place_order(order(BookSide.ASK, 52 * CENT, 1, TICKERS[1]))
    venue.place_order(order(BookSide.ASK, 53 * CENT, 2, TICKER))
    ioc = TimeInForce.IMMEDIATE_OR_CANCEL
    venue.place_order(order(BookSide.BID, 53 * CENT, 2, TICKER, account=dev, tif=ioc))
    venue.place_order(order(BookSide.BID, 52 * CENT, 1, TICKERS[1], account=TAKER, tif=ioc))
    first = await tick(feed, stream)
    venue.place_order(order(BookSide.BID, 41 * CENT, 1, TICKERS[2], account=dev))
    venue.place_order(order(BookSide.ASK, 41 * CENT, 1, TICKERS[2], account=TAKER, tif=ioc))
    second = await tick(feed, stream)
    assert await tick(feed, stream) == []
    updates = first + second
    trades = [u for u in updates if isinstance(u, TradeUpdate)]
    expected = sorted(venue.trades(), key=lambda t: t.trade_id)
    assert [t.trade_id for t in trades] == [t.trade_id for t in expected]
    assert [(t.market_ticker, t.yes_price, t.count) for t in trades] == [
        (TICKER, 53 * CENT, 2 * CONTRACT),
        (TICKERS[1], 52 * CENT, 1 * CONTRACT),
        (TICKERS[2], 41 * CENT, 1 * CONTRACT),
    ]
    assert all(t.sid == trade_sid for t in trades)
    assert [t.seq for t in trades] == [1, 2, 3]
    fills = [u for u in updates if isinstance(u, FillUpdate)]
    assert [f.trade_id for f in fills] == [f.fill_id for f in venue.fills(dev)]
    assert [(f.sid, f.is_taker, f.outcome_side) for f in fills] == [
        (fill_sid, True, Side.YES),
        (fill_sid, False, Side.YES),
    ]
    assert fills[0].fee_cost == venue.fills(dev)[0].fee_cost > 0


async def test_ticker_updates_on_quote_or_trade_changes(
    exchange: LocalExchange, feed: StreamFeed, stream: KalshiStream
) -> None:
    venue = exchange.venue
    sid = await stream.subscribe("ticker", [TICKER], send_initial_snapshot=True)
    (initial,) = await stream.flush()
    assert initial == TickerUpdate(
        sid=sid,
        market_ticker=TICKER,
        price=0,
        yes_bid=0,
        yes_ask=DOLLAR,
        ts_ms=initial.ts_ms if isinstance(initial, TickerUpdate) else None,
    )
    venue.place_order(order(BookSide.BID, 44 * CENT, 3))
    venue.place_order(order(BookSide.BID, 30 * CENT, 3, TICKERS[1]))  # not subscribed
    (quote,) = await tick(feed, stream)
    assert isinstance(quote, TickerUpdate)
    assert (quote.yes_bid, quote.yes_bid_size, quote.yes_ask) == (44 * CENT, 3 * CONTRACT, DOLLAR)
    venue.place_order(order(BookSide.BID, 20 * CENT, 1))  # below the best bid: no change
    assert await tick(feed, stream) == []
    ioc = TimeInForce.IMMEDIATE_OR_CANCEL
    venue.place_order(order(BookSide.ASK, 44 * CENT, 1, account=TAKER, tif=ioc))
    (traded,) = await tick(feed, stream)
    assert isinstance(traded, TickerUpdate)
    assert (traded.price, traded.volume, traded.yes_bid_size) == (
        44 * CENT,
        1 * CONTRACT,
        2 * CONTRACT,
    )


async def test_the_background_task_ticks_while_a_client_is_connected(
    exchange: LocalExchange, feed: StreamFeed, make_stream: MakeStream
) -> None:
    feed.tick_seconds = 0.01
    async with make_stream() as stream:
        await stream.subscribe("orderbook_delta", [TICKER])
        assert isinstance(await asyncio.wait_for(stream.receive(), 5), OrderbookSnapshot)
        exchange.venue.place_order(order(BookSide.BID, 33 * CENT, 1))
        update = await asyncio.wait_for(stream.receive(), 5)
        assert isinstance(update, OrderbookDelta)
        assert (update.seq, update.price, update.delta) == (2, 33 * CENT, CONTRACT)
    await asyncio.wait_for(feed.idle.wait(), 5)
    assert feed.connections == []
