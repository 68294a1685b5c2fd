"""Hypothesis properties over random order flow from several accounts.

Invariants checked after every step: money and contracts are conserved exactly, every
account can pay for its resting orders, the book is never crossed at rest, fees are never
negative, every fill belongs to an existing order of that account, and every order's counts
add up. A separate property checks price-time priority against a simple reference.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import attrs
import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from kalshi_core.clock import ManualClock
from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import FeeSchedule, NoFees, Venue, VenueOrder
from kalshi_core.models import (
    BookSide,
    FeeType,
    MarketResult,
    MarketStatus,
    OrderStatus,
    SelfTradePrevention,
    TimeInForce,
)
from kalshi_core.money import CONTRACT, DOLLAR

from .support import START, TICKER, make_market, tapered_market

ACCOUNTS = ("a", "b", "c", "d")
SIDES = st.sampled_from([BookSide.BID, BookSide.ASK])
GTC = TimeInForce.GOOD_TILL_CANCELED
TIFS = st.sampled_from([GTC, GTC, GTC, TimeInForce.IMMEDIATE_OR_CANCEL, TimeInForce.FILL_OR_KILL])
RARELY = st.sampled_from([False, False, False, True])
STPS = st.sampled_from(list(SelfTradePrevention))
CENT_PRICES = st.integers(min_value=44, max_value=56).map(lambda c: c * 100)
DECI_PRICES = st.one_of(CENT_PRICES, st.integers(1, 99).map(lambda t: t * 10))


@attrs.frozen
class OrderSpec:
    account: str
    fractional: bool
    side: BookSide
    tif: TimeInForce
    stp: SelfTradePrevention
    post_only: bool
    reduce_only: bool
    expires: int | None
    cent_price: int
    deci_price: int
    contracts: int
    fraction_count: int


ORDER_SPECS = st.builds(
    OrderSpec,
    st.sampled_from(ACCOUNTS),
    st.booleans(),
    SIDES,
    TIFS,
    STPS,
    RARELY,
    RARELY,
    st.sampled_from([None, 1, 5]),
    CENT_PRICES,
    DECI_PRICES,
    st.integers(1, 5),
    st.integers(1, 500),
)


class VenueMachine(RuleBasedStateMachine):
    """Random orders, cancels, amends, decreases, expiries and settlements."""

    @initialize(
        deposits=st.lists(st.integers(1, 6000), min_size=4, max_size=4),
        maker_fees=st.booleans(),
        no_fees=st.booleans(),
    )
    def setup(self, deposits: list[int], maker_fees: bool, no_fees: bool) -> None:
        self.clock = ManualClock(START)
        # Without fees there is no slack in the reserves: rounding must be covered exactly.
        self.venue = Venue(self.clock, fee_model=NoFees() if no_fees else None)
        fee_type = FeeType.QUADRATIC_WITH_MAKER_FEES if maker_fees else FeeType.QUADRATIC
        self.schedule = FeeSchedule(fee_type=fee_type)
        self.generation = 0
        self.tickers: dict[str, bool] = {}  # ticker -> fractional
        self._list_markets()
        for account, dollars in zip(ACCOUNTS, deposits, strict=True):
            self.venue.deposit(account, dollars * DOLLAR // 100)  # 0.01 .. 60 dollars

    def _list_markets(self) -> None:
        self.generation += 1
        whole = f"KXW-{self.generation}"
        frac = f"KXF-{self.generation}"
        self.venue.list_market(make_market(whole), fees=self.schedule)
        self.venue.list_market(tapered_market(frac), fees=self.schedule, fractional=True)
        self.tickers = {whole: False, frac: True}

    def _resting_ids(self) -> list[tuple[str, str]]:
        return [
            (o.user_id, o.order_id)
            for account in ACCOUNTS
            for o in self.venue.orders(account, status=OrderStatus.RESTING)
        ]

    def _snapshot(self) -> object:
        v = self.venue
        return (
            v.ledger(),
            [v.orderbook(t) for t in self.tickers],
            [(v.account(a).cash, v.account(a).reserved) for a in ACCOUNTS],
            [v.positions(a) for a in ACCOUNTS],
            len(v.trades()),
        )

    def _request(self, spec: OrderSpec) -> VenueOrder:
        ticker = next(t for t, frac in self.tickers.items() if frac == spec.fractional)
        gtc = spec.tif is TimeInForce.GOOD_TILL_CANCELED
        return VenueOrder(
            account=spec.account,
            ticker=ticker,
            side=spec.side,
            price=spec.deci_price if spec.fractional else spec.cent_price,
            count=spec.fraction_count if spec.fractional else spec.contracts * CONTRACT,
            time_in_force=spec.tif,
            post_only=spec.post_only and gtc,
            reduce_only=spec.reduce_only and spec.tif is TimeInForce.IMMEDIATE_OR_CANCEL,
            self_trade_prevention_type=spec.stp,
            expiration_time=(
                self.clock.now() + timedelta(minutes=spec.expires) if spec.expires and gtc else None
            ),
        )

    @rule(specs=st.lists(ORDER_SPECS, min_size=1, max_size=8))
    def place(self, specs: list[OrderSpec]) -> None:
        for spec in specs:
            before = self._snapshot()
            try:
                self.venue.place_order(self._request(spec))
            except ExchangeError:
                assert self._snapshot() == before, "a rejected order changed the venue"

    @precondition(lambda self: bool(self._resting_ids()))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        account, order_id = data.draw(st.sampled_from(self._resting_ids()))
        assert self.venue.cancel(account, order_id).status is OrderStatus.CANCELED

    @precondition(lambda self: bool(self._resting_ids()))
    @rule(data=st.data(), ticks=st.integers(-3, 3), contracts=st.integers(1, 6))
    def amend(self, data: st.DataObject, ticks: int, contracts: int) -> None:
        account, order_id = data.draw(st.sampled_from(self._resting_ids()))
        order = self.venue.get_order(order_id)
        new_count = order.fill_count + contracts * CONTRACT
        if self.tickers.get(order.ticker):
            new_count = order.fill_count + contracts * 37
        before = self._snapshot()
        try:
            self.venue.amend(
                account, order_id, price=order.yes_price + ticks * 100, count=new_count
            )
        except ExchangeError:
            assert self._snapshot() == before, "a rejected amend changed the venue"

    @precondition(lambda self: bool(self._resting_ids()))
    @rule(data=st.data())
    def decrease(self, data: st.DataObject) -> None:
        account, order_id = data.draw(st.sampled_from(self._resting_ids()))
        remaining = self.venue.get_order(order_id).remaining_count
        step = 1 if self.tickers.get(self.venue.get_order(order_id).ticker) else CONTRACT
        target = data.draw(st.integers(0, remaining // step - 1)) * step
        assert self.venue.decrease(account, order_id, reduce_to=target).remaining_count == target

    @rule(minutes=st.integers(1, 4))
    def pass_time(self, minutes: int) -> None:
        self.clock.advance(timedelta(minutes=minutes))
        self.venue.advance()

    @precondition(lambda self: len(self.venue.trades()) >= 8 * self.generation)
    @rule(result=st.sampled_from([MarketResult.YES, MarketResult.NO]), fractional=st.booleans())
    def settle(self, result: MarketResult, fractional: bool) -> None:
        ticker = next(t for t, frac in self.tickers.items() if frac == fractional)
        self.venue.determine(ticker, result)
        assert self.venue.market(ticker).status is MarketStatus.DETERMINED
        assert all(self.venue.position(a, ticker).position == 0 for a in ACCOUNTS)
        other = next(t for t in self.tickers if t != ticker)
        self.venue.determine(other, result)
        self._list_markets()

    # ---- invariants ----------------------------------------------------------------------

    @invariant()
    def money_is_conserved(self) -> None:
        ledger = self.venue.ledger()
        assert ledger.balanced, ledger
        assert ledger.rounding >= 0
        assert ledger.fees >= 0

    @invariant()
    def accounts_can_pay_for_resting_orders(self) -> None:
        for name in ACCOUNTS:
            account = self.venue.account(name)
            assert 0 <= account.reserved <= account.cash
            assert account.reserved == sum(h.requirement() for h in account.holdings.values())

    @invariant()
    def contracts_are_conserved(self) -> None:
        for ticker in self.tickers:
            positions = [self.venue.position(a, ticker).position for a in ACCOUNTS]
            assert sum(positions) == 0
            assert self.venue.market(ticker).open_interest == sum(p for p in positions if p > 0)

    @invariant()
    def book_is_not_crossed(self) -> None:
        for ticker in self.tickers:
            book = self.venue.orderbook(ticker)
            if book.best_yes_bid and book.best_no_bid:
                assert book.best_yes_bid.price + book.best_no_bid.price < DOLLAR

    @invariant()
    def fills_and_orders_agree(self) -> None:
        for name in ACCOUNTS:
            filled: Counter[str] = Counter()
            for fill in self.venue.fills(name):
                assert fill.fee_cost >= 0
                order = self.venue.order_state(fill.order_id, name)
                assert order.ticker == fill.ticker
                filled[fill.order_id] += fill.count
            for report in self.venue.orders(name):
                state = self.venue.order_state(report.order_id)
                assert state.fill_count == filled[report.order_id]
                assert (
                    state.fill_count + state.remaining + state.canceled_count == state.initial_count
                )
                assert (
                    (state.status is OrderStatus.RESTING) == state.in_book == (state.remaining > 0)
                )


TestVenueMachine = VenueMachine.TestCase
TestVenueMachine.settings = settings(
    max_examples=80,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@settings(max_examples=150, deadline=None)
@given(
    makers=st.lists(
        st.tuples(st.sampled_from(ACCOUNTS[1:]), st.integers(45, 55), st.integers(1, 3)),
        min_size=1,
        max_size=25,
    ),
    limit=st.integers(45, 55),
    contracts=st.integers(1, 40),
    taker_side=SIDES,
)
def test_price_time_priority(
    makers: list[tuple[str, int, int]], limit: int, contracts: int, taker_side: BookSide
) -> None:
    """Fills happen in (best price, earliest arrival) order, at the resting price."""
    venue = Venue(ManualClock(START))
    venue.list_market(make_market())
    for account in ACCOUNTS:
        venue.deposit(account, 10_000 * DOLLAR)
    maker_side = BookSide.ASK if taker_side is BookSide.BID else BookSide.BID
    queue = _rest(venue, maker_side, makers)
    venue.place_order(
        VenueOrder(
            account="a",
            ticker=TICKER,
            side=taker_side,
            price=limit * 100,
            count=contracts * CONTRACT,
            time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL,
        )
    )
    expected = _reference_fills(queue, taker_side, limit * 100, contracts * CONTRACT)
    maker_of_trade = {f.fill_id: f.order_id for acc in ACCOUNTS[1:] for f in venue.fills(acc)}
    actual = [(maker_of_trade[f.fill_id], f.yes_price, f.count) for f in venue.fills("a")]
    assert actual == expected
    assert len(maker_of_trade) == len(expected)


def _rest(
    venue: Venue, side: BookSide, makers: list[tuple[str, int, int]]
) -> list[tuple[int, int, str, int]]:
    """Rest the makers' orders; return (price, arrival, order id, size) for each."""
    placed = []
    for arrival, (account, cents, size) in enumerate(makers):
        request = VenueOrder(
            account=account, ticker=TICKER, side=side, price=cents * 100, count=size * CONTRACT
        )
        placed.append((cents * 100, arrival, venue.place_order(request).order_id, size * CONTRACT))
    return placed


def _reference_fills(
    placed: list[tuple[int, int, str, int]], taker_side: BookSide, limit: int, count: int
) -> list[tuple[str, int, int]]:
    """What a price-time priority book must fill: best price first, then earliest arrival."""
    is_bid = taker_side is BookSide.BID
    queue = sorted(placed, key=lambda item: (item[0] if is_bid else -item[0], item[1]))
    expected: list[tuple[str, int, int]] = []
    for price, _, order_id, size in queue:
        if count == 0 or (price > limit if is_bid else price < limit):
            break
        take = min(count, size)
        expected.append((order_id, price, take))
        count -= take
    return expected
