"""The local exchange venue: many markets, member accounts, matching, lifecycle, settlement.

Pure, synchronous Python: an HTTP server wraps it for paper trading and a backtester calls it
directly. Time comes from an injected :class:`kalshi_core.clock.Clock`; every public call
first sweeps what the clock has passed (markets whose close time came, expired GTC orders).

:class:`Venue` is the facade: it validates requests, owns accounts and the order index, and
routes each order to its market's :class:`~kalshi_core.exchange.matching.MatchingEngine`
(matching, self-trade prevention, executions, the tape); market status changes, determination
and settlement are :class:`~kalshi_core.exchange.lifecycle.Lifecycle`'s. Money is conserved
exactly: ``cash + escrow + fees + rounding == deposits - withdrawals`` (see :meth:`ledger`).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Iterable
from datetime import datetime, timedelta

import attrs

from kalshi_core.clock import Clock
from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import rules
from kalshi_core.exchange.accounts import Account
from kalshi_core.exchange.book import OrderState
from kalshi_core.exchange.changes import Listener
from kalshi_core.exchange.lifecycle import Lifecycle
from kalshi_core.exchange.market import MarketState
from kalshi_core.exchange.matching import ESCROW_PER_COUNT, MatchingEngine
from kalshi_core.exchange.order_groups import OrderGroups
from kalshi_core.exchange.reports import book_report, market_report, order_report, position_report
from kalshi_core.exchange.rules import reject
from kalshi_core.exchange.state import VenueState
from kalshi_core.exchange.subaccounts import SubaccountTransfer
from kalshi_core.fees import FeeModel, FeeSchedule, KalshiFeeModel
from kalshi_core.models import (
    Balance,
    BookSide,
    Fill,
    Market,
    MarketResult,
    MarketStatus,
    Order,
    OrderBook,
    OrderStatus,
    Position,
    SelfTradePrevention,
    Settlement,
    TimeInForce,
    Trade,
)
from kalshi_core.money import Count, Money, Price

__all__ = ["ESCROW_PER_COUNT", "Latency", "Ledger", "MarketState", "Venue", "VenueOrder"]

# Global reads on the order path: an Enum member read through its class is slow on 3.11.
_ACTIVE = MarketStatus.ACTIVE
_FILL_OR_KILL = TimeInForce.FILL_OR_KILL
_RESTING = OrderStatus.RESTING


@attrs.frozen(kw_only=True)
class Latency:
    """Order-entry latency in recorded time: an order goes live ``base + insert`` after it is
    sent, a cancel takes effect ``base + cancel`` after it is sent (meanwhile it can fill)."""

    base: timedelta = timedelta(0)
    insert: timedelta = timedelta(0)
    cancel: timedelta = timedelta(0)

    def __attrs_post_init__(self) -> None:
        for name in ("base", "insert", "cancel"):
            if getattr(self, name) < timedelta(0):
                raise ValueError(f"latency {name} must not be negative, got {getattr(self, name)}")

    @property
    def to_insert(self) -> timedelta:
        return self.base + self.insert

    @property
    def to_cancel(self) -> timedelta:
        return self.base + self.cancel


@attrs.frozen(kw_only=True)
class VenueOrder:
    """A new order, in YES-book terms (use :func:`kalshi_core.models.to_book` for NO orders)."""

    account: str
    ticker: str
    side: BookSide
    price: Price
    count: Count
    time_in_force: TimeInForce = TimeInForce.GOOD_TILL_CANCELED
    post_only: bool = False
    reduce_only: bool = False
    self_trade_prevention_type: SelfTradePrevention = SelfTradePrevention.TAKER_AT_CROSS
    expiration_time: datetime | None = None
    client_order_id: str | None = None
    order_group_id: str | None = None


@attrs.frozen(kw_only=True)
class Ledger:
    """Where every unit of money is. ``balanced`` must always be True."""

    deposits: Money
    withdrawals: Money
    cash: Money
    reserved: Money
    escrow: Money
    fees: Money
    rounding: Money

    @property
    def balanced(self) -> bool:
        held = self.cash + self.escrow + self.fees + self.rounding
        return held == self.deposits - self.withdrawals


class Venue:
    """An in-process Kalshi-like exchange. See the module docstring for the rules."""

    def __init__(
        self,
        clock: Clock,
        *,
        fee_model: FeeModel | None = None,
        id_namespace: str = "kalshi-core-local-exchange",
        latency: Latency | None = None,
    ) -> None:
        self.clock = clock
        self.latency = latency or Latency()  # sets the delays read per order and cancel
        self.paused = False
        self._state = VenueState(fee_model or KalshiFeeModel(), id_namespace)
        self._in_flight: list[tuple[datetime, int, str, bool]] = []  # (due, seq, id, is_cancel)
        self._engines: dict[str, MatchingEngine] = {}
        self._lifecycle = Lifecycle(self._state, self._engines)
        self.order_groups = OrderGroups(self._cancel_live, id_namespace=id_namespace)
        self._state.order_groups = self.order_groups

    @property
    def latency(self) -> Latency:
        return self._latency

    @latency.setter
    def latency(self, latency: Latency) -> None:
        self._latency = latency
        # Read on every order and cancel: the sums once, not Latency's properties each time.
        self._insert_delay = latency.to_insert
        self._cancel_delay = latency.to_cancel

    @property
    def fee_model(self) -> FeeModel:
        return self._state.fee_model

    @property
    def listeners(self) -> list[Listener]:
        """Told of every change as it happens (see kalshi_core/exchange/changes.py)."""
        return self._state.listeners

    @property
    def on_rest(self) -> Callable[[OrderState], None] | None:
        """Called with each order as it joins a book (a fill model notes its queue position)."""
        return self._state.on_rest

    @on_rest.setter
    def on_rest(self, callback: Callable[[OrderState], None] | None) -> None:
        self._state.on_rest = callback

    @property
    def fees_collected(self) -> Money:
        return self._state.fees_collected

    @property
    def rounding(self) -> Money:
        return self._state.rounding

    # ---- markets and lifecycle -------------------------------------------------------------

    def list_market(
        self, market: Market, *, fees: FeeSchedule | None = None, fractional: bool = False
    ) -> None:
        """Add ``market`` (its status as given); ``fractional`` allows 0.01-contract counts."""
        if market.ticker in self._engines:
            raise reject(rules.INVALID_PARAMETERS, f"market {market.ticker} is already listed")
        state = MarketState(market, fees or FeeSchedule(), fractional)
        engine = self._engines[market.ticker] = MatchingEngine(state, self._state)
        self._lifecycle.listed(engine)

    def open_market(self, ticker: str) -> None:
        self.set_status(ticker, MarketStatus.ACTIVE)

    def close_market(self, ticker: str) -> None:
        self.set_status(ticker, MarketStatus.CLOSED)

    def finalize(self, ticker: str) -> None:
        self.set_status(ticker, MarketStatus.FINALIZED)

    def set_status(self, ticker: str, status: MarketStatus) -> None:
        """Move a market along its lifecycle; closing cancels every resting order."""
        now = self._tick()
        self._lifecycle.set_status(self._engine(ticker), status, now)

    def determine(
        self, ticker: str, result: MarketResult, *, settlement_value: Money | None = None
    ) -> list[Settlement]:
        """Settle ``ticker`` (closing it first if needed) and pay every holder.

        ``yes``/``no`` pay $1 a winning contract, ``scalar`` pays ``settlement_value`` a YES
        contract and the rest of $1 a NO contract, ``void`` refunds every holder its cost.
        """
        now = self._tick()
        return self._lifecycle.determine(self._engine(ticker), result, settlement_value, now)

    def dispute(self, ticker: str) -> None:
        """A closed market's outcome is contested: nothing is paid until :meth:`determine`."""
        self.set_status(ticker, MarketStatus.DISPUTED)

    def set_paused(self, paused: bool) -> None:
        """Exchange-wide trading pause: order entry and amends fail with trading_is_paused."""
        self.paused = paused

    def advance(self, now: datetime | None = None) -> None:
        """Sweep up to the clock's time; with ``now``, first move a clock that has ``set``."""
        if now is not None:
            setter = getattr(self.clock, "set", None)
            if setter is None:
                raise TypeError(f"{type(self.clock).__name__} cannot be moved to {now}")
            setter(now)
        self._tick()

    # ---- accounts ---------------------------------------------------------------------------

    def deposit(self, account_id: str, amount: Money) -> None:
        if amount <= 0:
            raise reject(rules.INVALID_PARAMETERS, f"deposit of {amount} to {account_id}")
        account = self._state.account(account_id)
        account.cash += amount
        account.deposits += amount

    def withdraw(self, account_id: str, amount: Money) -> None:
        account = self._state.account(account_id)
        if amount <= 0 or amount > account.available:
            raise reject(
                rules.INSUFFICIENT_BALANCE,
                f"cannot withdraw {amount} from {account_id}: {account.available} available",
            )
        account.cash -= amount
        self._state.withdrawals += amount

    def account(self, account_id: str) -> Account:
        """The live account object (read it; change it only through the venue)."""
        return self._state.account(account_id)

    # ---- subaccounts (see kalshi_core/exchange/subaccounts.py) --------------------------------

    def create_subaccount(self, user: str) -> int:
        """Open ``user``'s next numbered subaccount (1 to 63) and return its number."""
        return self._state.subaccounts.create(user)

    def subaccounts(self, user: str) -> list[int]:
        """``user``'s subaccount numbers, 0 (its own account) first."""
        return self._state.subaccounts.numbers(user)

    def subaccount_id(self, user: str, number: int) -> str:
        """The account id of ``user``'s subaccount ``number``; 400 if it does not exist."""
        return self._state.subaccounts.account_id(user, number)

    def owner(self, account_id: str) -> tuple[str, int]:
        """(user, subaccount number) of an account; an account of its own is its user's 0."""
        return self._state.subaccounts.owner(account_id)

    def transfer(
        self, user: str, client_transfer_id: str, route: tuple[int, int], amount_cents: int
    ) -> SubaccountTransfer:
        """Move whole cents of free cash between two of ``user``'s subaccounts (idempotent on
        ``client_transfer_id``); raises ExchangeError and changes nothing otherwise."""
        now = self._tick()
        return self._state.subaccounts.transfer(user, client_transfer_id, route, amount_cents, now)

    def transfers(self, user: str) -> list[SubaccountTransfer]:
        return self._state.subaccounts.transfers(user)

    # ---- order entry ------------------------------------------------------------------------

    def place_order(self, request: VenueOrder) -> Order:
        """Validate, match and (GTC) rest an order; raises ExchangeError and changes nothing."""
        return order_report(self._place(request))

    def submit(self, request: VenueOrder) -> str:
        """:meth:`place_order` without building the report: the new order's id.

        For callers that need no report (a backtest's own flow, the benchmark); the order's
        state is there to read through :meth:`get_order` or :meth:`order_state` as usual.
        """
        return self._place(request).order_id

    def _place(self, request: VenueOrder) -> OrderState:
        now = self._tick()
        order = self._admit(request, now)
        if self._insert_delay:
            self._send(order, now + self._insert_delay, is_cancel=False)
        else:
            self._engines[order.ticker].run(order, now)
        return order

    def place_orders(self, requests: Iterable[VenueOrder]) -> list[Order | ExchangeError]:
        """Batch create: one result per request, an error in place of a rejected one."""
        results: list[Order | ExchangeError] = []
        for request in requests:
            try:
                results.append(self.place_order(request))
            except ExchangeError as error:
                results.append(error)
        return results

    def cancel(self, account_id: str, order_id: str) -> Order:
        """Cancel a resting order; under cancel latency it stays live (and can fill) until
        the cancel arrives, and the report shows it as it is now."""
        return order_report(self._cancel_request(account_id, order_id))

    def submit_cancel(self, account_id: str, order_id: str) -> None:
        """:meth:`cancel` without building the report."""
        self._cancel_request(account_id, order_id)

    def _cancel_request(self, account_id: str, order_id: str) -> OrderState:
        now = self._tick()
        order = self.order_state(order_id, account_id)
        if not (order.in_book or _in_flight(order)):
            raise reject(rules.ORDER_NOT_RESTING, f"order {order_id} is {order.status}")
        self._cancel_sent(order, now)
        return order

    def _cancel_sent(self, order: OrderState, now: datetime) -> None:
        """A member's cancel: it takes effect now, or once cancel latency has passed."""
        if self._cancel_delay:
            self._send(order, now + self._cancel_delay, is_cancel=True)
        else:
            self._engines[order.ticker].cancel(order, now)

    def cross_resting(self, order_id: str, count: Count, counterparty: str) -> None:
        """Fill ``count`` of the resting ``order_id`` at its own price against an
        immediate-or-cancel order of ``counterparty`` (a fill model's outside market).

        The counterparty must be able to pay (it is held like any order); raises ExchangeError
        and changes nothing otherwise.
        """
        now = self._tick()
        maker = self.order_state(order_id)
        if not maker.in_book or not 0 < count <= maker.remaining:
            raise reject(
                rules.INVALID_PARAMETERS,
                f"cannot fill {count} of {order_id} ({maker.status}, {maker.remaining} left)",
            )
        engine = self._tradable(maker.ticker)
        side = BookSide.ASK if maker.side is BookSide.BID else BookSide.BID
        request = VenueOrder(
            account=counterparty,
            ticker=maker.ticker,
            side=side,
            price=maker.price,
            count=count,
            time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL,
        )
        taker = self._create(engine, self._state.account(counterparty), request, count, now)
        engine.execute(taker, maker, count, now)
        self.order_groups.flush(now)

    def crosses(self, ticker: str, side: BookSide, price: Price) -> bool:
        """Whether an order on ``side`` at ``price`` would meet a resting order."""
        return self._engine(ticker).crosses(side, price)

    def record_print(self, trade: Trade) -> None:
        """Put an outside print (no member of this venue took part) on the market's tape."""
        market = self._engine(trade.ticker).market
        if trade.count > 0:
            market.record_print(trade)

    def cancel_all(self, account_id: str, ticker: str | None = None) -> list[Order]:
        """Cancel every resting order of ``account_id`` (in ``ticker`` only, if given)."""
        now = self._tick()
        account = self._state.accounts.get(account_id)
        resting = list(account.resting.values()) if account else []
        if self._insert_delay:  # orders still in flight are canceled too
            resting += filter(_in_flight, self._account_orders(account_id))
        chosen = [o for o in resting if ticker is None or o.ticker == ticker]
        for order in chosen:
            self._cancel_sent(order, now)
        return [order_report(o) for o in chosen]

    def decrease(
        self,
        account_id: str,
        order_id: str,
        *,
        reduce_by: Count | None = None,
        reduce_to: Count | None = None,
    ) -> Order:
        """Shrink a resting order in place (it keeps its place in the queue)."""
        now = self._tick()
        order = self._resting(account_id, order_id)
        if (reduce_by is None) == (reduce_to is None):
            raise reject(rules.INVALID_PARAMETERS, "decrease needs exactly one of reduce_by/to")
        target = order.remaining - reduce_by if reduce_by is not None else reduce_to
        assert target is not None
        if (reduce_by is not None and reduce_by <= 0) or not 0 <= target <= order.remaining:
            raise reject(rules.INVALID_COUNT, f"{order_id}: cannot decrease to {target}")
        engine = self._engines[order.ticker]
        if target:
            rules.check_count(order.ticker, target, engine.market.fractional)
        engine.shrink(order, target, now)
        return order_report(order)

    def amend(
        self,
        account_id: str,
        order_id: str,
        *,
        price: Price | None = None,
        count: Count | None = None,
        updated_client_order_id: str | None = None,
    ) -> Order:
        """New price and/or new total count (filled + remaining).

        A new price or a larger count sends the order to the back of the queue, and a new
        price that crosses matches at once; a smaller count at the same price keeps priority.
        """
        now = self._tick()
        order = self._resting(account_id, order_id)
        engine = self._tradable(order.ticker)
        new_price = order.price if price is None else price
        new_remaining = (
            order.fill_count + order.remaining if count is None else count
        ) - order.fill_count
        self._check_amend(engine, order, new_price, new_remaining, updated_client_order_id)
        if new_price == order.price and new_remaining <= order.remaining:
            engine.shrink(order, new_remaining, now)
        else:
            engine.move(order, new_price, new_remaining, now)
        if updated_client_order_id is not None:
            self._rename(order, updated_client_order_id)
        return order_report(order)

    # ---- reports ----------------------------------------------------------------------------

    def get_order(self, order_id: str, account_id: str | None = None) -> Order:
        return order_report(self.order_state(order_id, account_id))

    def order_state(self, order_id: str, account_id: str | None = None) -> OrderState:
        """The live internal order (for tests and the HTTP wrapper; do not mutate)."""
        order = self._state.orders.get(order_id)
        if order is None or (account_id is not None and order.account_id != account_id):
            raise reject(rules.NOT_FOUND, f"order {order_id} not found")
        return order

    def find_order(self, account_id: str, client_order_id: str) -> Order | None:
        """Look an order up by the client's id (how an unknown write outcome is settled)."""
        account = self._state.accounts.get(account_id)
        order_id = account.client_ids.get(client_order_id) if account else None
        return None if order_id is None else self.get_order(order_id)

    def orders(
        self, account_id: str, *, ticker: str | None = None, status: OrderStatus | None = None
    ) -> list[Order]:
        self._tick()
        return [
            order_report(o)
            for o in self._account_orders(account_id)
            if (ticker is None or o.ticker == ticker) and (status is None or o.status is status)
        ]

    def queue_position(self, order_id: str, *, accounts: Collection[str] | None = None) -> Count:
        """Contracts ahead of ``order_id`` at its price level (of ``accounts`` only, if given)."""
        order = self.order_state(order_id)
        ahead = 0
        if order.in_book:
            for other in self._engines[order.ticker].book.in_priority(order.side):
                if other is order:
                    break
                if other.price == order.price and (
                    accounts is None or other.account_id in accounts
                ):
                    ahead += other.remaining
        return ahead

    def fills(self, account_id: str, ticker: str | None = None) -> list[Fill]:
        account = self._state.accounts.get(account_id)
        found = account.fills.records() if account else []
        return [f for f in found if ticker is None or f.ticker == ticker]

    def settlements(self, account_id: str) -> list[Settlement]:
        return list(self._state.settlements.get(account_id, []))

    def positions(self, account_id: str) -> list[Position]:
        """Every market the account has traded in, settled ones included."""
        account = self._state.accounts.get(account_id)
        held = account.holdings.values() if account else ()
        return [position_report(h) for h in held if h.traded or h.position]

    def position(self, account_id: str, ticker: str) -> Position:
        return position_report(self._state.account(account_id).holding(ticker))

    def balance(self, account_id: str) -> Balance:
        """``balance`` is cash free to trade; ``portfolio_value`` the cost of open positions."""
        self._tick()
        account = self._state.account(account_id)
        exposure = sum(h.basis for h in account.holdings.values())
        return Balance(balance=account.available, portfolio_value=exposure, updated_ts=None)

    def orderbook(self, ticker: str, depth: int = 0) -> OrderBook:
        self._tick()
        return book_report(self._engine(ticker).book, depth)

    def trades(self, ticker: str | None = None) -> list[Trade]:
        if ticker is not None:
            return list(self._engine(ticker).market.trades)
        merged = [t for e in self._engines.values() for t in e.market.trades]
        return sorted(merged, key=lambda t: t.created_time)

    def market(self, ticker: str) -> Market:
        now = self._tick()
        state = self._engine(ticker).market
        return market_report(state.listed, state.book, state.activity(now))

    def markets(self) -> list[Market]:
        now = self._tick()
        listed = [e.market for e in self._engines.values()]
        return [market_report(m.listed, m.book, m.activity(now)) for m in listed]

    def ledger(self) -> Ledger:
        accounts = self._state.accounts.values()
        open_interest = sum(e.market.open_interest for e in self._engines.values())
        return Ledger(
            deposits=sum(a.deposits for a in accounts),
            withdrawals=self._state.withdrawals,
            cash=sum(a.cash for a in accounts),
            reserved=sum(a.reserved for a in accounts),
            escrow=open_interest * ESCROW_PER_COUNT,
            fees=self.fees_collected,
            rounding=self.rounding,
        )

    # ---- admission --------------------------------------------------------------------------

    def _admit(self, request: VenueOrder, now: datetime) -> OrderState:
        engine = self._tradable(request.ticker)
        market = engine.market
        rules.check_price(request.ticker, request.price, market.grid)
        rules.check_count(request.ticker, request.count, market.fractional)
        rules.check_time_in_force(
            request.time_in_force, request.reduce_only, request.expiration_time, now
        )
        account = self._state.account(request.account)
        if request.client_order_id and request.client_order_id in account.client_ids:
            raise reject(
                rules.ORDER_ALREADY_EXISTS,
                f"{request.account} already has an order with id {request.client_order_id!r}",
            )
        count = _reduce_only_count(account, request) if request.reduce_only else request.count
        if request.post_only and engine.crosses(request.side, request.price):
            raise reject(rules.POST_ONLY_CROSS, f"post_only order at {request.price} would cross")
        if request.time_in_force is _FILL_OR_KILL:
            _check_fillable(engine, request, count)
        if request.order_group_id is None:
            return self._create(engine, account, request, count, now)
        self.order_groups.admit(account.account_id, request.order_group_id)
        order = self._create(engine, account, request, count, now)
        self.order_groups.join(request.order_group_id, order.order_id)
        return order

    def _create(
        self,
        engine: MatchingEngine,
        account: Account,
        request: VenueOrder,
        count: Count,
        now: datetime,
    ) -> OrderState:
        state = self._state
        sequence = state.next_sequence()
        order_id = f"{state.order_prefix}{sequence:012x}"
        order = OrderState(
            order_id=order_id,
            client_order_id=request.client_order_id or order_id,
            account_id=account.account_id,
            ticker=request.ticker,
            side=request.side,
            price=request.price,
            count=count,
            time_in_force=request.time_in_force,
            post_only=request.post_only,
            reduce_only=request.reduce_only,
            self_trade_prevention=request.self_trade_prevention_type,
            expiration_time=request.expiration_time,
            now=now,
            sequence=sequence,
            order_group_id=request.order_group_id,
        )
        engine.hold(account, order)
        state.orders[order_id] = order
        account.orders.append(order)
        account.client_ids[order.client_order_id] = order_id
        state.order_changed(order)
        return order

    # ---- order changes ----------------------------------------------------------------------

    def _cancel_live(self, order_ids: Iterable[str], now: datetime) -> None:
        """The venue's own cancel (an order group's): at once, no cancel latency."""
        for order in [self._state.orders[i] for i in order_ids]:
            if order.in_book or _in_flight(order):
                self._engines[order.ticker].cancel(order, now)

    def _check_amend(
        self,
        engine: MatchingEngine,
        order: OrderState,
        price: Price,
        remaining: Count,
        new_client_id: str | None,
    ) -> None:
        rules.check_price(order.ticker, price, engine.market.grid)
        rules.check_count(order.ticker, remaining, engine.market.fractional, "remaining count")
        taken = new_client_id in self._state.accounts[order.account_id].client_ids
        if new_client_id is not None and taken:
            raise reject(rules.ORDER_ALREADY_EXISTS, f"client_order_id {new_client_id!r} is taken")
        if order.post_only and price != order.price and engine.crosses(order.side, price):
            raise reject(rules.POST_ONLY_CROSS, f"post_only amend to {price} would cross")

    def _rename(self, order: OrderState, client_order_id: str) -> None:
        self._state.accounts[order.account_id].client_ids[client_order_id] = order.order_id
        order.client_order_id = client_order_id
        self._state.order_changed(order)

    # ---- time -------------------------------------------------------------------------------

    def _tick(self) -> datetime:
        """The clock's time, after closing markets and expiring orders it has passed."""
        now = self.clock.now()
        self._lifecycle.close_due(now)
        expiries = self._state.expiries
        while expiries and expiries[0][0] <= now:
            expires, _, order_id = heapq.heappop(expiries)
            order = self._state.orders[order_id]
            if order.in_book and order.expiration_time == expires:
                self._engines[order.ticker].cancel(order, now)
        while self._in_flight and self._in_flight[0][0] <= now:
            due, _, order_id, is_cancel = heapq.heappop(self._in_flight)
            self._arrive(self._state.orders[order_id], due, is_cancel=is_cancel)
        return now

    def _send(self, order: OrderState, due: datetime, *, is_cancel: bool) -> None:
        entry = (due, self._state.next_sequence(), order.order_id, is_cancel)
        heapq.heappush(self._in_flight, entry)

    def _arrive(self, order: OrderState, due: datetime, *, is_cancel: bool) -> None:
        """An order or cancel reaches the matching engine ``due`` after it was sent."""
        engine = self._engines[order.ticker]
        if is_cancel:
            if order.in_book or _in_flight(order):
                engine.cancel(order, due)
            return
        if not _in_flight(order):
            return  # canceled while in flight
        if engine.market.status is MarketStatus.ACTIVE and not self.paused:
            engine.run(order, due)
        else:
            engine.cancel(order, due)

    # ---- lookups ----------------------------------------------------------------------------

    def _engine(self, ticker: str) -> MatchingEngine:
        engine = self._engines.get(ticker)
        if engine is None:
            raise reject(rules.NOT_FOUND, f"market {ticker} not found")
        return engine

    def _tradable(self, ticker: str) -> MatchingEngine:
        if self.paused:
            raise reject(rules.TRADING_PAUSED, "trading is paused on the exchange")
        engine = self._engine(ticker)
        if engine.market.status is not _ACTIVE:
            status = engine.market.status
            raise reject(rules.MARKET_CLOSED, f"market {ticker} is {status}, not active")
        return engine

    def _account_orders(self, account_id: str) -> list[OrderState]:
        """Every order of ``account_id``, oldest first (none for an unknown account)."""
        account = self._state.accounts.get(account_id)
        return account.orders if account else []

    def _resting(self, account_id: str, order_id: str) -> OrderState:
        order = self.order_state(order_id, account_id)
        if not order.in_book:
            raise reject(rules.ORDER_NOT_RESTING, f"order {order_id} is {order.status}")
        return order


def _in_flight(order: OrderState) -> bool:
    """Sent but not yet live (insert latency): resting status, size left, not in a book."""
    return order.status is _RESTING and order.remaining > 0 and not order.in_book


def _reduce_only_count(account: Account, request: VenueOrder) -> Count:
    position = account.holding(request.ticker).position
    allowed = max(0, -position) if request.side is BookSide.BID else max(0, position)
    if allowed == 0:
        raise reject(
            rules.NO_POSITION_TO_REDUCE,
            f"{request.account} has no {request.ticker} position a {request.side} reduces",
        )
    return min(request.count, allowed)


def _check_fillable(engine: MatchingEngine, request: VenueOrder, count: Count) -> None:
    """Raise unless a fill-or-kill order would fill entirely (walks without changing)."""
    found = engine.fillable(
        request.account, request.side, request.price, request.self_trade_prevention_type
    )
    if found < count:
        raise reject(
            rules.FILL_OR_KILL_UNFILLED,
            f"fill_or_kill {request.ticker} {request.side} {count}@{request.price} "
            "cannot fill entirely",
        )
