"""Matching rules: crossing, price-time priority, partial fills, IOC/FOK/post-only/reduce-only,
self-trade prevention, and NO orders expressed as YES asks."""

from __future__ import annotations

import pytest

from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import Venue
from kalshi_core.models import (
    Action,
    BookSide,
    OrderStatus,
    PriceLevel,
    SelfTradePrevention,
    Side,
    TimeInForce,
    to_book,
)
from kalshi_core.money import CONTRACT, DOLLAR

from .support import TICKER, ask, bid, order

IOC = TimeInForce.IMMEDIATE_OR_CANCEL
FOK = TimeInForce.FILL_OR_KILL
MAKER = SelfTradePrevention.MAKER


def test_non_crossing_orders_rest_and_show_in_book(venue: Venue) -> None:
    venue.place_order(bid("alice", 4000, 2))
    venue.place_order(bid("alice", 4200, 1))
    venue.place_order(ask("bob", 4500, 3))
    book = venue.orderbook(TICKER)
    assert book.yes == (PriceLevel(4000, 200), PriceLevel(4200, 100))
    assert book.no == (PriceLevel(5500, 300),)  # a YES ask at 0.45 is a NO bid at 0.55
    market = venue.market(TICKER)
    assert (market.yes_bid, market.yes_ask, market.no_bid, market.no_ask) == (
        4200,
        4500,
        5500,
        5800,
    )
    assert (market.yes_bid_size, market.yes_ask_size) == (100, 300)


def test_trade_executes_at_resting_price(venue: Venue) -> None:
    venue.place_order(ask("alice", 4500, 1))
    result = venue.place_order(bid("bob", 6000, 1))
    assert result.status is OrderStatus.EXECUTED
    (trade,) = venue.trades(TICKER)
    assert (trade.yes_price, trade.no_price, trade.count) == (4500, 5500, CONTRACT)
    assert trade.taker_book_side is BookSide.BID
    assert venue.market(TICKER).last_price == 4500


def test_price_priority_then_time_priority(venue: Venue) -> None:
    first = venue.place_order(ask("alice", 4500, 1))
    second = venue.place_order(ask("carol", 4500, 1))
    better = venue.place_order(ask("carol", 4400, 1))
    venue.place_order(bid("bob", 4500, 2))
    filled = [f.order_id for f in venue.fills("bob")]
    assert len(filled) == 2
    maker_ids = [f.order_id for a in ("alice", "carol") for f in venue.fills(a)]
    assert better.order_id in maker_ids
    assert first.order_id in maker_ids
    assert second.order_id not in maker_ids
    assert [t.yes_price for t in venue.trades(TICKER)] == [4400, 4500]


def test_partial_fill_leaves_rest_resting(venue: Venue) -> None:
    venue.place_order(ask("alice", 5000, 3))
    taker = venue.place_order(bid("bob", 5000, 5))
    assert (taker.fill_count, taker.remaining_count, taker.status) == (
        3 * CONTRACT,
        2 * CONTRACT,
        OrderStatus.RESTING,
    )
    assert venue.orderbook(TICKER).yes == (PriceLevel(5000, 2 * CONTRACT),)
    assert venue.orderbook(TICKER).no == ()


def test_buy_no_matches_yes_bid(venue: Venue) -> None:
    venue.place_order(bid("alice", 4000, 1))
    side, yes_price = to_book(Side.NO, Action.BUY, 6000)  # buy NO at 0.60 == ask YES at 0.40
    result = venue.place_order(order("bob", side, yes_price, 1))
    assert result.outcome_side is Side.NO
    assert result.no_price == 6000
    assert result.fill_count == CONTRACT
    assert venue.position("bob", TICKER).position == -CONTRACT
    assert venue.position("alice", TICKER).position == CONTRACT


def test_ioc_cancels_the_rest(venue: Venue) -> None:
    venue.place_order(ask("alice", 5000, 1))
    result = venue.place_order(bid("bob", 5000, 3, tif=IOC))
    assert (result.fill_count, result.remaining_count, result.status) == (
        CONTRACT,
        0,
        OrderStatus.CANCELED,
    )
    assert venue.orderbook(TICKER).yes == ()
    assert venue.account("bob").reserved == 0


def test_fok_fills_entirely_or_changes_nothing(venue: Venue) -> None:
    venue.place_order(ask("alice", 5000, 1))
    venue.place_order(ask("carol", 5100, 1))
    before = venue.orderbook(TICKER)
    with pytest.raises(ExchangeError) as caught:
        venue.place_order(bid("bob", 5100, 3, tif=FOK))
    assert caught.value.code == "fill_or_kill_insufficient_resting_volume"
    assert venue.orderbook(TICKER) == before
    assert venue.orders("bob") == []
    assert venue.trades() == []
    result = venue.place_order(bid("bob", 5100, 2, tif=FOK))
    assert result.status is OrderStatus.EXECUTED
    assert result.fill_count == 2 * CONTRACT


def test_fok_counts_own_orders_as_unavailable(venue: Venue) -> None:
    venue.place_order(ask("bob", 5000, 5))
    venue.place_order(ask("alice", 5000, 1))
    with pytest.raises(ExchangeError):
        venue.place_order(bid("bob", 5000, 1, tif=FOK))
    result = venue.place_order(bid("bob", 5000, 1, tif=FOK, stp=MAKER))
    assert result.fill_count == CONTRACT
    assert venue.orders("bob", status=OrderStatus.CANCELED)[0].book_side is BookSide.ASK


def test_post_only_that_would_cross_is_rejected(venue: Venue) -> None:
    venue.place_order(ask("alice", 5000, 1))
    with pytest.raises(ExchangeError) as caught:
        venue.place_order(bid("bob", 5000, 1, post_only=True))
    assert caught.value.code == "post_only_cross"
    assert caught.value.status == 400
    rested = venue.place_order(bid("bob", 4900, 1, post_only=True))
    assert rested.status is OrderStatus.RESTING


def test_reduce_only_clamps_to_position(venue: Venue) -> None:
    venue.place_order(ask("alice", 5000, 2))
    venue.place_order(bid("bob", 5000, 2))  # bob long 2 YES
    venue.place_order(bid("carol", 4000, 10))
    result = venue.place_order(ask("bob", 4000, 5, tif=IOC, reduce_only=True))
    assert result.fill_count == 2 * CONTRACT
    assert result.initial_count == 2 * CONTRACT
    assert venue.position("bob", TICKER).position == 0


def test_reduce_only_rules(venue: Venue) -> None:
    with pytest.raises(ExchangeError) as no_position:
        venue.place_order(ask("bob", 4000, 5, tif=IOC, reduce_only=True))
    assert no_position.value.code == "reduce_only_without_position"
    with pytest.raises(ExchangeError) as not_ioc:
        venue.place_order(ask("bob", 4000, 5, reduce_only=True))
    assert not_ioc.value.code == "invalid_parameters"


def test_reduce_only_cannot_flip_a_no_position(venue: Venue) -> None:
    venue.place_order(bid("alice", 5000, 3))
    venue.place_order(ask("bob", 5000, 3))  # bob short: 3 NO
    venue.place_order(ask("carol", 5200, 10))
    with pytest.raises(ExchangeError):
        venue.place_order(ask("bob", 5200, 1, tif=IOC, reduce_only=True))  # would add NO
    result = venue.place_order(bid("bob", 5200, 9, tif=IOC, reduce_only=True))
    assert result.fill_count == 3 * CONTRACT
    assert venue.position("bob", TICKER).position == 0


def test_stp_taker_at_cross_cancels_taker_keeping_fills(venue: Venue) -> None:
    venue.place_order(ask("alice", 5000, 1))
    own = venue.place_order(ask("bob", 5100, 1))
    venue.place_order(ask("carol", 5200, 1))
    result = venue.place_order(bid("bob", 5200, 3))
    assert result.status is OrderStatus.CANCELED
    assert result.fill_count == CONTRACT
    assert result.remaining_count == 0
    assert venue.get_order(own.order_id).status is OrderStatus.RESTING
    assert venue.orderbook(TICKER).no == (PriceLevel(4800, 100), PriceLevel(4900, 100))


def test_stp_maker_cancels_resting_and_continues(venue: Venue) -> None:
    venue.place_order(ask("alice", 5000, 1))
    own = venue.place_order(ask("bob", 5100, 1))
    venue.place_order(ask("carol", 5200, 1))
    result = venue.place_order(bid("bob", 5200, 3, stp=MAKER))
    assert result.fill_count == 2 * CONTRACT
    assert venue.get_order(own.order_id).status is OrderStatus.CANCELED
    assert result.status is OrderStatus.RESTING
    assert result.remaining_count == CONTRACT
    assert [t.yes_price for t in venue.trades(TICKER)] == [5000, 5200]


def test_no_crossed_book_after_sweeping_several_levels(venue: Venue) -> None:
    for price in (4800, 4900, 5000):
        venue.place_order(ask("alice", price, 1))
    venue.place_order(bid("bob", 5500, 5))
    book = venue.orderbook(TICKER)
    assert book.no == ()
    assert book.yes == (PriceLevel(5500, 200),)
    assert venue.position("bob", TICKER).market_exposure == 4800 + 4900 + 5000


def test_ask_taker_sweeps_bids_from_highest(venue: Venue) -> None:
    for price in (4800, 4900, 5000):
        venue.place_order(bid("alice", price, 1))
    venue.place_order(ask("bob", 4900, 5))
    assert [t.yes_price for t in venue.trades(TICKER)] == [5000, 4900]
    assert venue.market(TICKER).yes_ask == 4900
    assert venue.position("bob", TICKER).market_exposure == (DOLLAR - 5000) + (DOLLAR - 4900)
