"""One market's matching engine: its book, price-time matching, self-trade prevention,
executions (cash, fees, fills) and the trade tape.

A trade executes at the resting order's price. Buying power is held for every live order so
that any fill can be paid (see :meth:`kalshi_core.exchange.accounts.Holding.requirement`);
every change of an order's size goes through :meth:`MatchingEngine.resize`, which keeps the
book, the holding and the fee reserve in step.
"""

from __future__ import annotations

from datetime import datetime

from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import rules
from kalshi_core.exchange.accounts import Account, Holding
from kalshi_core.exchange.book import OrderState
from kalshi_core.exchange.changes import Filled
from kalshi_core.exchange.fee_meter import FeeMeter
from kalshi_core.exchange.market import MarketState
from kalshi_core.exchange.reports import order_report, position_report
from kalshi_core.exchange.rules import reject
from kalshi_core.exchange.state import VenueState
from kalshi_core.models import (
    BookSide,
    Fill,
    OrderStatus,
    SelfTradePrevention,
    TimeInForce,
)
from kalshi_core.money import CONTRACT, DOLLAR, Count, Money, Price

Pair = tuple[Money, Money]
FillTerms = tuple[Price, Count, datetime, str]  # price, count, time, trade id
ESCROW_PER_COUNT = DOLLAR // CONTRACT  # money held per 1/100 contract of open interest
# Enum members read through their class cost a metaclass lookup each time on Python 3.11;
# the matching path reads these module names instead (plain global reads).
_BID, _ASK = BookSide.BID, BookSide.ASK
_EXECUTED, _CANCELED = OrderStatus.EXECUTED, OrderStatus.CANCELED
_GTC = TimeInForce.GOOD_TILL_CANCELED
_TAKER_AT_CROSS = SelfTradePrevention.TAKER_AT_CROSS


class MatchingEngine:
    """Matches, executes and cancels the orders of one market (``market``)."""

    def __init__(self, market: MarketState, state: VenueState) -> None:
        self.market = market
        self.book = market.book
        self.state = state
        self.fees = FeeMeter(state.fee_model, market.fees)
        self._holders: dict[str, tuple[Account, Holding]] = {}
        market.book.on_change = state.level_changed

    # ---- questions --------------------------------------------------------------------------

    def crosses(self, side: BookSide, price: Price) -> bool:
        """Whether an order on ``side`` at ``price`` would meet a resting order."""
        if side is _BID:
            ask = self.book.best(_ASK)
            return ask is not None and ask <= price
        bid = self.book.best(_BID)
        return bid is not None and bid >= price

    def fillable(
        self, account_id: str, side: BookSide, price: Price, stp: SelfTradePrevention
    ) -> Count:
        """Contracts an order could take at once (a fill-or-kill check; changes nothing)."""
        is_bid = side is _BID
        found = 0
        for maker in self.book.in_priority(_ASK if is_bid else _BID):
            if maker.price > price if is_bid else maker.price < price:
                break
            if self.state.subaccounts.same_user(maker.account_id, account_id):
                if stp is _TAKER_AT_CROSS:
                    break
                continue
            found += maker.remaining
        return found

    # ---- matching ---------------------------------------------------------------------------

    def run(self, order: OrderState, now: datetime) -> None:
        """Match ``order`` as a taker, then rest (GTC) or cancel what is left."""
        self.state.taker = order
        try:
            stopped = self._match(order, now)
        finally:
            self.state.taker = None
        if order.remaining == 0:
            order.status = _EXECUTED
        elif stopped or order.time_in_force is not _GTC:
            self.cancel(order, now)
        else:
            self.book.add(order)
            self.state.rested(order)
        self.state.order_groups.flush(now)

    def _match(self, taker: OrderState, now: datetime) -> bool:
        """Trade ``taker`` against the book; True if self-trade prevention stopped it."""
        book = self.book
        groups = self.state.order_groups
        same_user = self.state.subaccounts.same_user
        is_bid = taker.side is _BID
        maker_side = _ASK if is_bid else _BID
        limit = taker.price
        # Only an order placed with a group id can be in a group (see Venue._admit).
        grouped = taker.order_group_id is not None and groups.group_of(taker.order_id) is not None
        taker_holder = None  # looked up at the first fill, then kept for the match
        while taker.remaining:
            if grouped and groups.halted(taker.order_id):
                return True  # its order group reached its limit: stop, cancel the rest
            maker = book.head(maker_side)
            if maker is None or (maker.price > limit if is_bid else maker.price < limit):
                return False
            if same_user(maker.account_id, taker.account_id):
                if self._prevent_self_trade(taker, maker, now):
                    return True
                continue
            if taker_holder is None:
                taker_holder = self.holder(taker.account_id)
            self._trade(taker, taker_holder, maker, min(taker.remaining, maker.remaining), now)
        return False

    def _prevent_self_trade(self, taker: OrderState, maker: OrderState, now: datetime) -> bool:
        """``taker`` met its own user's ``maker``: True to stop the taker (taker-at-cross),
        otherwise the maker is canceled and matching goes on."""
        if taker.self_trade_prevention is _TAKER_AT_CROSS:
            return True
        self.cancel(maker, now)
        return False

    def execute(self, taker: OrderState, maker: OrderState, count: Count, now: datetime) -> None:
        """Trade ``count`` between ``taker`` and ``maker`` at the maker's price."""
        self._trade(taker, self.holder(taker.account_id), maker, count, now)

    def _trade(
        self,
        taker: OrderState,
        taker_holder: tuple[Account, Holding],
        maker: OrderState,
        count: Count,
        now: datetime,
    ) -> None:
        """:meth:`execute` with the taker's account and holding at hand (a match looks them
        up once for all its fills)."""
        price = maker.price
        taker_account, taker_held = taker_holder
        maker_account, maker_held = self.holder(maker.account_id)
        self.resize(taker, taker.remaining - count, taker_held)
        self.resize(maker, maker.remaining - count, maker_held)
        taker_bids = taker.side is _BID
        if taker_bids:
            taker_cash, maker_cash = self._exchange(taker_held, maker_held, price, count)
        else:
            maker_cash, taker_cash = self._exchange(maker_held, taker_held, price, count)
        taker_account.cash += taker_cash
        maker_account.cash += maker_cash
        trade_id = self.state.next_trade_id()
        self.market.record_execution(trade_id, count, price, taker_bids, now)
        fill = (price, count, now, trade_id)
        self._settle_fill(taker, taker_account, taker_held, fill, True)
        self._settle_fill(maker, maker_account, maker_held, fill, False)

    def _exchange(self, bid_held: Holding, ask_held: Holding, price: Price, count: Count) -> Pair:
        """Both sides take their contracts: (bid's cash change, ask's). Moves open interest
        and the venue's rounding so money stays conserved."""
        bid_before, ask_before = bid_held.position, ask_held.position
        bid_cash = bid_held.buy(True, price, count)
        ask_cash = ask_held.buy(False, DOLLAR - price, count)
        bid_after, ask_after = bid_held.position, ask_held.position
        # The change in YES contracts held (each open pair has one YES side), inlined.
        opened = (
            (bid_after if bid_after > 0 else 0)
            + (ask_after if ask_after > 0 else 0)
            - (bid_before if bid_before > 0 else 0)
            - (ask_before if ask_before > 0 else 0)
        )
        self.market.open_interest += opened
        self.state.rounding -= bid_cash + ask_cash + opened * ESCROW_PER_COUNT
        return bid_cash, ask_cash

    def _settle_fill(
        self,
        order: OrderState,
        account: Account,
        held: Holding,
        fill: FillTerms,
        is_taker: bool,
    ) -> None:
        """Fees, order statistics, the fill's record and the account's reserve for one side."""
        price, count, now, trade_id = fill
        state = self.state
        # The order's rounded accrued fees now, less what it already paid.
        order.fee_accrued, fee = self.fees.accrue(order.fee_accrued, price, count, is_taker, now)
        state.fees_collected += fee
        account.cash -= fee
        held.fees += fee
        held.updated_time = now
        is_bid = order.side is _BID
        unit = price if is_bid else DOLLAR - price
        cost = -(-unit * count // CONTRACT)  # cost_of, inlined
        if is_taker:
            order.taker_fees += fee
            order.taker_fill_cost += cost
        else:
            order.maker_fees += fee
            order.maker_fill_cost += cost
        order.fill_count += count
        order.updated_time = now
        if order.remaining == 0:
            order.status = _EXECUTED
        account.refresh(held)
        order_id, client_id = order.order_id, order.client_order_id
        account.fills.append(
            (trade_id, order_id, order.ticker, is_bid, count, price, is_taker, fee, now, client_id)
        )
        if state.listeners:
            self._tell_filled(order, held, account.fills.records()[-1])
        if order.order_group_id is not None:  # only a group's orders count their matches
            state.order_groups.matched(order.order_id, count, now)

    def _tell_filled(self, order: OrderState, held: Holding, fill: Fill) -> None:
        report = order_report(order)
        self.state.notify(Filled(order=report, fill=fill, position=position_report(held)))

    # ---- buying power -----------------------------------------------------------------------

    def holder(self, account_id: str) -> tuple[Account, Holding]:
        """The account and its holding in this market (one lookup on the matching path)."""
        found = self._holders.get(account_id)
        if found is None:
            account = self.state.accounts[account_id]
            found = (account, account.holding(self.market.listed.ticker))
            self._holders[account_id] = found
        return found

    def hold(self, account: Account, order: OrderState) -> None:
        """Reserve buying power for ``order`` as if it all filled; reject if unaffordable."""
        held = account.holding(order.ticker)
        order.fee_reserve = self.fees.reserve(
            order.side is _BID, order.price, order.remaining, not order.post_only
        )
        held.track(order.side, order.price, order.remaining)
        held.fee_reserve += order.fee_reserve
        account.refresh(held)
        if not account.covers():
            held.track(order.side, order.price, -order.remaining)
            held.fee_reserve -= order.fee_reserve
            account.refresh(held)
            raise reject(
                rules.INSUFFICIENT_BALANCE,
                f"{account.account_id}: {order.ticker} {order.side} "
                f"{order.remaining}@{order.price} needs more than the "
                f"{account.available} available",
            )

    # ---- order changes ----------------------------------------------------------------------

    def resize(self, order: OrderState, remaining: Count, held: Holding | None = None) -> None:
        """Set an order's remaining size, keeping book, holding and fee reserve in step.

        The caller refreshes the account's reserve once the position is up to date.
        """
        if held is None:
            held = self.holder(order.account_id)[1]
        held.track(order.side, order.price, remaining - order.remaining)
        reserve = self.fees.reserve(order.side is _BID, order.price, remaining, not order.post_only)
        held.fee_reserve += reserve - order.fee_reserve
        order.fee_reserve = reserve
        if order.queue_token:  # in the book
            if remaining == 0:
                self.book.remove(order)
                self.state.unrested(order)
            else:
                self.book.set_remaining(order, remaining)
        order.remaining = remaining

    def cancel(self, order: OrderState, now: datetime) -> None:
        self.shrink(order, 0, now)

    def shrink(self, order: OrderState, remaining: Count, now: datetime) -> None:
        """Cancel part (or, at 0, all) of an order's remaining size; it keeps its priority."""
        canceled = order.remaining - remaining
        account, held = self.holder(order.account_id)
        self.resize(order, remaining, held)
        order.canceled_count += canceled
        order.updated_time = now
        if remaining == 0:
            order.status = _CANCELED
        account.refresh(held)
        self.state.order_changed(order)

    def move(self, order: OrderState, price: Price, remaining: Count, now: datetime) -> None:
        """Re-price or grow a resting order: it leaves the queue and comes back as a taker."""
        account = self.state.accounts[order.account_id]
        held = account.holding(order.ticker)
        old_price, old_remaining, old_reserve = order.price, order.remaining, order.fee_reserve
        held.track(order.side, old_price, -old_remaining)
        held.fee_reserve -= old_reserve
        order.remaining, order.fee_reserve = 0, 0
        try:
            order.price, order.remaining = price, remaining
            self.hold(account, order)
        except ExchangeError:
            order.price, order.remaining, order.fee_reserve = old_price, old_remaining, old_reserve
            held.track(order.side, old_price, old_remaining)
            held.fee_reserve += old_reserve
            account.refresh(held)
            raise
        order.price, order.remaining = old_price, old_remaining
        self.book.remove(order)  # the book files the order under its old price and size
        order.price, order.remaining = price, remaining
        self.state.unrested(order)
        order.initial_count = order.fill_count + remaining + order.canceled_count
        order.sequence = self.state.next_sequence()
        order.updated_time = now
        self.run(order, now)
        self.state.order_changed(order)
