"""Turn the venue's mutable state into the frozen domain objects of :mod:`kalshi_core.models`."""

from __future__ import annotations

from datetime import datetime

import attrs

from kalshi_core.exchange.accounts import Holding
from kalshi_core.exchange.book import Book, OrderState
from kalshi_core.models import (
    BookSide,
    Market,
    MarketResult,
    MarketStatus,
    Order,
    OrderBook,
    Position,
    PriceLevel,
    Side,
)
from kalshi_core.money import DOLLAR, Count, Money, Price


def outcome_side(side: BookSide) -> Side:
    """A bid buys YES; an ask buys NO."""
    return Side.YES if side is BookSide.BID else Side.NO


def order_report(order: OrderState) -> Order:
    return Order(
        order_id=order.order_id,
        client_order_id=order.client_order_id,
        ticker=order.ticker,
        outcome_side=outcome_side(order.side),
        book_side=order.side,
        status=order.status,
        yes_price=order.price,
        no_price=DOLLAR - order.price,
        initial_count=order.initial_count,
        fill_count=order.fill_count,
        remaining_count=order.remaining,
        taker_fill_cost=order.taker_fill_cost,
        maker_fill_cost=order.maker_fill_cost,
        taker_fees=order.taker_fees,
        maker_fees=order.maker_fees,
        user_id=order.account_id,
        time_in_force=order.time_in_force,
        self_trade_prevention_type=order.self_trade_prevention,
        post_only=order.post_only,
        reduce_only=order.reduce_only,
        expiration_time=order.expiration_time,
        created_time=order.created_time,
        last_update_time=order.updated_time,
        order_group_id=order.order_group_id,
    )


def position_report(held: Holding) -> Position:
    return Position(
        ticker=held.ticker,
        position=held.position,
        market_exposure=held.basis,
        total_traded=held.traded,
        realized_pnl=held.realized,
        fees_paid=held.fees,
        last_updated_ts=held.updated_time,
    )


def book_report(book: Book, depth: int = 0) -> OrderBook:
    """YES bids and NO bids, each ascending (best last); ``depth`` > 0 keeps the best levels."""
    yes = [PriceLevel(price, size) for price, size in book.depth(BookSide.BID)]
    no = [PriceLevel(DOLLAR - price, size) for price, size in reversed(book.depth(BookSide.ASK))]
    if depth > 0:
        yes, no = yes[-depth:], no[-depth:]
    return OrderBook(ticker=book.ticker, yes=tuple(yes), no=tuple(no))


@attrs.frozen(kw_only=True)
class MarketActivity:
    """What the venue adds to a listed market: status, result and trading statistics."""

    status: MarketStatus
    result: MarketResult
    last_price: Price
    volume: Count
    volume_24h: Count
    open_interest: Count
    settlement_value: Money | None
    settlement_ts: datetime | None
    updated_time: datetime | None


def market_report(listed: Market, book: Book, activity: MarketActivity) -> Market:
    """``listed`` with the live quote, volume, open interest, status and result."""
    bid, ask = book.best(BookSide.BID), book.best(BookSide.ASK)
    return attrs.evolve(
        listed,
        status=activity.status,
        result=activity.result,
        yes_bid=bid or 0,
        yes_bid_size=book.size_at(BookSide.BID, bid) if bid else 0,
        yes_ask=ask or DOLLAR,
        yes_ask_size=book.size_at(BookSide.ASK, ask) if ask else 0,
        no_bid=DOLLAR - ask if ask else 0,
        no_ask=DOLLAR - bid if bid else DOLLAR,
        last_price=activity.last_price,
        volume=activity.volume,
        volume_24h=activity.volume_24h,
        open_interest=activity.open_interest,
        settlement_value=activity.settlement_value,
        settlement_ts=activity.settlement_ts,
        updated_time=activity.updated_time or listed.updated_time,
    )
