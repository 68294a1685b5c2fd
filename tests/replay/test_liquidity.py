"""Invariants of the liquidity provider on generated histories (Hypothesis)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from kalshi_core.clock import ManualClock
from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import Venue, VenueOrder
from kalshi_core.exchange.liquidity import LiquidityConfig
from kalshi_core.exchange.replay import Replay, Timing, assemble_history
from kalshi_core.history_format import Quote
from kalshi_core.models import (
    BookSide,
    Market,
    MarketResult,
    MarketStatus,
    Side,
    TimeInForce,
    Trade,
)
from kalshi_core.money import CONTRACT, DOLLAR

OPEN = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
TICKER = "KXGEN-26MAR01-T1"
MARKET = Market(
    ticker=TICKER,
    event_ticker="KXGEN-26MAR01",
    status=MarketStatus.INITIALIZED,
    open_time=OPEN,
    close_time=OPEN + timedelta(hours=1),
)

prints = st.lists(
    st.tuples(st.integers(1, 99), st.integers(1, 400), st.booleans()), min_size=1, max_size=40
)
quotes = st.lists(st.tuples(st.integers(0, 99), st.integers(1, 100)), max_size=20)


def make_trades(raw: list[tuple[int, int, bool]]) -> list[Trade]:
    trades = []
    for i, (cents, contracts, yes_taker) in enumerate(raw):
        trades.append(
            Trade(
                trade_id=f"t{i}",
                ticker=TICKER,
                count=contracts * CONTRACT,
                yes_price=cents * 100,
                no_price=DOLLAR - cents * 100,
                taker_outcome_side=Side.YES if yes_taker else Side.NO,
                taker_book_side=BookSide.BID if yes_taker else BookSide.ASK,
                created_time=OPEN + timedelta(seconds=10 * i + 5),
            )
        )
    return trades


def make_quotes(raw: list[tuple[int, int]]) -> list[Quote]:
    return [
        Quote(ticker=TICKER, ts=OPEN + timedelta(seconds=10 * i), yes_bid=b * 100, yes_ask=a * 100)
        for i, (b, a) in enumerate(raw)
        if b < a
    ]


def run(
    trades: list[Trade],
    quote_list: list[Quote],
    provider_cash: int,
    result: MarketResult,
    user_cents: int,
) -> Replay:
    history = assemble_history(
        ["generated"],
        [MARKET],
        results={TICKER: result},
        trades=trades,
        quotes=quote_list,
        timing=Timing(),
    )
    venue = Venue(ManualClock(history.start_time))
    config = LiquidityConfig(levels=2, min_size=CONTRACT, max_size=3 * CONTRACT)
    replay = Replay(venue, history, provider_cash=provider_cash, seed=1, liquidity=config)
    venue.deposit("user", 50 * DOLLAR)
    replay.advance(OPEN)
    for event in history.events:
        replay.advance(event.time)
        side = BookSide.BID if user_cents % 2 else BookSide.ASK
        # Rejected when the market is not open or the user is out of money: it just goes on.
        with contextlib.suppress(ExchangeError):
            venue.place_order(
                VenueOrder(
                    account="user", ticker=TICKER, side=side, price=user_cents * 100, count=CONTRACT
                )
            )
        check(replay)
    return replay


def check(replay: Replay) -> None:
    venue = replay.venue
    assert venue.ledger().balanced
    for name in ("liquidity-provider", "tape", "user"):
        assert venue.account(name).cash >= 0
        assert venue.account(name).available >= 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prints,
    quotes,
    st.sampled_from([0, 2 * DOLLAR, 100 * DOLLAR, 1_000_000 * DOLLAR]),
    st.sampled_from([MarketResult.YES, MarketResult.NO]),
    st.integers(1, 99),
)
def test_money_is_conserved_and_never_negative(
    raw_prints: list[tuple[int, int, bool]],
    raw_quotes: list[tuple[int, int]],
    provider_cash: int,
    result: MarketResult,
    user_cents: int,
) -> None:
    trades = make_trades(raw_prints)
    replay = run(trades, make_quotes(raw_quotes), provider_cash, result, user_cents)
    venue = replay.venue
    assert replay.finished
    assert venue.market(TICKER).status is MarketStatus.FINALIZED
    recorded = sum(t.count for t in trades)
    assert replay.provider.stats.printed_count <= recorded
    if provider_cash >= 1_000_000 * DOLLAR:
        # every print reaches the tape, but those a user's own order stood in the way of
        blocked = replay.provider.stats.blocked_count
        assert replay.provider.stats.printed_count == recorded - blocked


@settings(max_examples=40, deadline=None)
@given(prints)
def test_trade_only_tape_matches_history_exactly(raw_prints: list[tuple[int, int, bool]]) -> None:
    trades = make_trades(raw_prints)
    history = assemble_history(
        ["generated"],
        [MARKET],
        results={TICKER: MarketResult.YES},
        trades=trades,
        quotes=[],
        timing=Timing(),
    )
    venue = Venue(ManualClock(history.start_time))
    replay = Replay(venue, history, seed=3)
    replay.advance(trades[-1].created_time)
    market = venue.market(TICKER)
    assert market.volume == sum(t.count for t in trades)
    assert market.last_price == trades[-1].yes_price
    book = venue.orderbook(TICKER)
    levels = [lvl.price for lvl in book.yes] + [lvl.price for lvl in book.yes_asks]
    assert all(lvl % 100 == 0 and 100 <= lvl <= 9900 for lvl in levels)
    check(replay)


def test_user_order_inside_the_touch_is_hit_by_the_recorded_taker() -> None:
    trades = make_trades([(40, 5, True), (45, 3, True)])
    history = assemble_history(
        ["generated"],
        [MARKET],
        results={TICKER: MarketResult.NO},
        trades=trades,
        quotes=[],
        timing=Timing(),
    )
    venue = Venue(ManualClock(history.start_time))
    replay = Replay(venue, history)
    replay.advance(trades[0].created_time)
    venue.deposit("user", 10 * DOLLAR)
    venue.place_order(
        VenueOrder(account="user", ticker=TICKER, side=BookSide.ASK, price=4400, count=CONTRACT)
    )
    replay.advance(trades[1].created_time)
    (fill,) = venue.fills("user")
    assert fill.yes_price == 4400
    assert not fill.is_taker
    assert venue.market(TICKER).volume == 8 * CONTRACT
    replay.advance(replay.end_time)
    (settlement,) = venue.settlements("user")
    assert settlement.no_count == CONTRACT
    assert settlement.revenue == DOLLAR


def test_ioc_user_order_never_left_resting_by_provider() -> None:
    # A user IOC at the provider's ask fills against the ladder, and the ladder is refilled
    # at the next event.
    trades = make_trades([(50, 1, True), (50, 1, True)])
    history = assemble_history(
        ["generated"],
        [MARKET],
        results={TICKER: MarketResult.YES},
        trades=trades,
        quotes=[],
        timing=Timing(),
    )
    venue = Venue(ManualClock(history.start_time))
    replay = Replay(venue, history, liquidity=LiquidityConfig(min_size=CONTRACT, max_size=CONTRACT))
    replay.advance(trades[0].created_time)
    venue.deposit("user", 10 * DOLLAR)
    taken = venue.place_order(
        VenueOrder(
            account="user",
            ticker=TICKER,
            side=BookSide.BID,
            price=5000,
            count=CONTRACT,
            time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL,
        )
    )
    assert taken.fill_count == CONTRACT
    assert venue.orderbook(TICKER).yes_asks[0].price > 5000
    replay.advance(trades[1].created_time)
    assert venue.orderbook(TICKER).yes_asks[0].price == 5000
