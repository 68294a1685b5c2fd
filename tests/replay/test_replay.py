"""Replaying recorded history into the venue: order, lifecycle, book, tape and settlement."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from kalshi_core.exchange import Venue, VenueOrder
from kalshi_core.exchange.replay import EventKind, History, HistoryEvent, Replay, Timing
from kalshi_core.models import BookSide, MarketResult, MarketStatus, TimeInForce
from kalshi_core.money import CONTRACT, DOLLAR

from .conftest import ReplayFactory

PROVIDER = "liquidity-provider"
MICRO = timedelta(microseconds=1)


def events_of(history: History, ticker: str, kind: EventKind) -> list[HistoryEvent]:
    return [e for e in history.events if e.ticker == ticker and e.kind is kind]


def best(venue: Venue, ticker: str) -> tuple[int | None, int | None]:
    book = venue.orderbook(ticker)
    bid = book.best_yes_bid.price if book.best_yes_bid else None
    asks = book.yes_asks
    return bid, (asks[0].price if asks else None)


def assert_money_is_safe(replay: Replay) -> None:
    venue = replay.venue
    assert venue.ledger().balanced
    for name in (PROVIDER, "tape"):
        account = venue.account(name)
        assert account.cash >= 0
        assert account.available >= 0


def test_advance_applies_events_in_order_and_is_idempotent(
    crypto: History, make_replay: ReplayFactory
) -> None:
    replay = make_replay(crypto)
    assert replay.start_time == crypto.events[0].time
    assert replay.end_time == crypto.events[-1].time
    assert replay.next_event_time == replay.start_time
    until = crypto.events[500].time
    applied = replay.advance(until)
    expected = sum(e.time <= until for e in crypto.events)
    assert applied == expected == replay.events_applied
    assert replay.advance(until) == 0
    assert replay.advance(until - timedelta(hours=1)) == 0
    next_time = replay.next_event_time
    assert next_time is not None
    assert next_time > until
    assert replay.events_applied < replay.events_total  # not finished
    assert replay.advance(replay.end_time) == replay.events_total - expected
    assert replay.finished
    assert replay.advance(replay.end_time + timedelta(days=1)) == 0
    assert replay.next_event_time is None


def test_replay_moves_a_manual_clock_to_each_event(
    crypto: History, make_replay: ReplayFactory
) -> None:
    replay = make_replay(crypto)
    event = next(e for e in crypto.events if e.kind is EventKind.OPEN)
    replay.advance(event.time)
    assert replay.venue.clock.now() == event.time


def test_market_lifecycle_follows_recorded_times(
    crypto: History, make_replay: ReplayFactory
) -> None:
    replay = make_replay(crypto)
    venue = replay.venue
    market = crypto.markets[10]
    ticker, timing = market.ticker, Timing()
    determined = market.close_time + timing.determine_after
    steps = [
        (market.open_time - timing.list_ahead, MarketStatus.INITIALIZED),
        (market.open_time - MICRO, MarketStatus.INITIALIZED),
        (market.open_time, MarketStatus.ACTIVE),
        (market.close_time - MICRO, MarketStatus.ACTIVE),
        (market.close_time, MarketStatus.CLOSED),
        (determined - MICRO, MarketStatus.CLOSED),
        (determined, MarketStatus.DETERMINED),
        (determined + timing.finalize_after, MarketStatus.FINALIZED),
    ]
    replay.advance(market.open_time - timing.list_ahead - MICRO)
    assert ticker not in {m.ticker for m in venue.markets()}
    for when, status in steps:
        replay.advance(when)
        assert venue.market(ticker).status is status, when
    assert venue.market(ticker).result is crypto.results[ticker]
    assert replay.lifecycle_skipped == 0


def test_book_matches_every_recorded_quote(crypto: History, make_replay: ReplayFactory) -> None:
    replay = make_replay(crypto)
    venue = replay.venue
    checked = 0
    events = crypto.events
    for index, event in enumerate(events):
        replay.advance(event.time)
        later = events[index + 1] if index + 1 < len(events) else None
        if later is not None and later.time == event.time:
            continue  # the book shows the last of several events at one instant
        if event.quote is None or event.time >= crypto_close(crypto, event.ticker):
            continue
        quote = event.quote
        bid, ask = best(venue, event.ticker)
        assert bid == (quote.yes_bid or None), event
        assert ask == (quote.yes_ask if quote.yes_ask < DOLLAR else None), event
        checked += 1
        if checked % 997 == 0:
            assert_money_is_safe(replay)
    assert checked > 12_000
    assert replay.finished
    assert_money_is_safe(replay)


def crypto_close(history: History, ticker: str) -> datetime:
    return next(m.close_time for m in history.markets if m.ticker == ticker)


def test_book_has_depth_on_the_grid_around_a_quote(
    crypto: History, make_replay: ReplayFactory
) -> None:
    replay = make_replay(crypto)
    quote_event = next(
        e
        for e in crypto.events
        if e.quote is not None and e.quote.yes_bid > 3 * 100 and e.quote.yes_ask < 97 * 100
    )
    replay.advance(quote_event.time)
    book = replay.venue.orderbook(quote_event.ticker)
    bids = [level.price for level in book.yes]
    asks = [level.price for level in book.yes_asks]
    assert len(bids) == 3
    assert len(asks) == 3
    assert all(p % 100 == 0 and 100 <= p <= 9900 for p in bids + asks)
    assert max(bids) < min(asks)
    assert all(5 * CONTRACT <= level.count <= 25 * CONTRACT for level in book.yes)


def test_first_ten_days_of_kxinxu_volume_and_last_price_follow_the_tape(
    kxinxu: History, make_replay: ReplayFactory
) -> None:
    replay = make_replay(kxinxu)
    venue = replay.venue
    until = kxinxu.start_time + timedelta(days=10)
    recorded: dict[str, list[int]] = {}
    last_price: dict[str, int] = {}
    events = [e for e in kxinxu.events if e.time <= until]
    for step, event in enumerate(events):
        replay.advance(event.time)
        trade = event.trade
        if trade is not None:
            recorded.setdefault(event.ticker, []).append(trade.count)
            last_price[event.ticker] = trade.yes_price
            if step + 1 < len(events) and events[step + 1].time > event.time:
                bid, ask = best(venue, event.ticker)
                if trade.taker_book_side is BookSide.BID:
                    assert ask == trade.yes_price, event
                    # No bid fits below a print at the bottom of the grid.
                    assert (bid is None) == (trade.yes_price == 100), event
                else:
                    assert bid == trade.yes_price, event
                    assert (ask is None) == (trade.yes_price == 9900), event
                assert bid is None or ask is None or bid < ask
        if step % 500 == 0:
            assert_money_is_safe(replay)
    assert len(recorded) >= 30
    for ticker, counts in recorded.items():
        market = venue.market(ticker)
        assert market.volume == sum(counts), ticker
        assert market.last_price == last_price[ticker], ticker
        assert len(venue.trades(ticker)) >= len(counts)
    assert replay.provider.stats.short_prints == 0
    assert_money_is_safe(replay)


def test_a_print_infers_the_touch_on_its_side(kxinxu: History, make_replay: ReplayFactory) -> None:
    replay = make_replay(kxinxu)
    trade_event = next(e for e in kxinxu.events if e.trade is not None)
    trade = trade_event.trade
    assert trade is not None
    replay.advance(trade_event.time)
    bid, ask = best(replay.venue, trade.ticker)
    assert bid is not None
    assert ask is not None
    assert bid < ask
    if trade.taker_book_side is BookSide.BID:
        assert ask == trade.yes_price
    else:
        assert bid == trade.yes_price


@pytest.mark.parametrize("result", [MarketResult.YES, MarketResult.NO])
def test_settlement_pays_the_recorded_result(
    kxinxu: History, make_replay: ReplayFactory, result: MarketResult
) -> None:
    replay = make_replay(kxinxu)
    venue = replay.venue
    market = min(
        (m for m in kxinxu.markets if kxinxu.results[m.ticker] is result),
        key=lambda m: m.open_time,
    )
    trades = events_of(kxinxu, market.ticker, EventKind.TRADE)
    replay.advance(trades[len(trades) // 2].time)
    venue.deposit("alice", 1_000 * DOLLAR)
    _, ask = best(venue, market.ticker)
    assert ask is not None
    buy = VenueOrder(
        account="alice",
        ticker=market.ticker,
        side=BookSide.BID,
        price=ask,
        count=2 * CONTRACT,
        time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL,
    )
    assert venue.place_order(buy).fill_count == 2 * CONTRACT
    cash_before = venue.account("alice").cash
    final = events_of(kxinxu, market.ticker, EventKind.FINALIZE)[0]
    replay.advance(final.time)
    assert venue.market(market.ticker).status is MarketStatus.FINALIZED
    (settlement,) = venue.settlements("alice")
    paid = 2 * DOLLAR if result is MarketResult.YES else 0
    assert settlement.market_result is result
    assert settlement.revenue == paid
    assert venue.account("alice").cash == cash_before + paid
    assert_money_is_safe(replay)


def test_idle_until_skips_only_when_no_market_trades(
    crypto: History, make_replay: ReplayFactory
) -> None:
    replay = make_replay(crypto)
    first = crypto.markets[0]
    assert all(m.open_time >= first.open_time for m in crypto.markets)
    replay.advance(first.open_time - timedelta(minutes=30))
    next_time = replay.next_event_time
    assert replay.idle_until(replay.venue.clock.now()) == next_time
    replay.advance(first.open_time)
    assert replay.idle_until(first.open_time + timedelta(seconds=1)) is None
    replay.advance(replay.end_time)
    assert replay.idle_until(replay.end_time) is None


def test_same_seed_same_book_other_seed_other_sizes(
    crypto: History, make_replay: ReplayFactory
) -> None:
    until = crypto.events[800].time
    books = []
    for seed in (7, 7, 8):
        replay = make_replay(crypto, seed=seed)
        replay.advance(until)
        books.append([replay.venue.orderbook(m.ticker) for m in crypto.markets[:6]])
    assert books[0] == books[1]
    assert books[0] != books[2]


def test_small_provider_cash_quotes_less_and_never_goes_negative(
    crypto: History, make_replay: ReplayFactory
) -> None:
    replay = make_replay(crypto, provider_cash=3 * DOLLAR)
    until = crypto.events[3000].time
    for event in crypto.events[:3000:37]:
        replay.advance(event.time)
        assert_money_is_safe(replay)
    replay.advance(until)
    assert replay.provider.stats.rejected_orders > 0
    assert_money_is_safe(replay)
