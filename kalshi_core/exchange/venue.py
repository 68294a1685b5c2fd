"""The local exchange venue: many markets, member accounts, matching, lifecycle, settlement.

Pure, synchronous Python: an HTTP server wraps it for paper trading and a backtester calls it
directly. Time comes from an injected :class:`kalshi_core.clock.Clock`; every public call
first sweeps what the clock has passed (markets whose close time came, expired GTC orders).

Matching follows price-time priority on a YES-quoted book; a trade executes at the resting
order's price. Buying power is held for resting orders so that any fill can always be paid
(see :meth:`kalshi_core.exchange.accounts.Holding.requirement`), and money is conserved
exactly: ``cash + escrow + fees + rounding == deposits - withdrawals`` (see :meth:`ledger`).
"""

from __future__ import annotations

import heapq
import logging
import uuid
from collections.abc import Callable, Collection, Iterable
from datetime import datetime, timedelta

import attrs

from kalshi_core.clock import Clock
from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import rules
from kalshi_core.exchange.accounts import Account, cost_of
from kalshi_core.exchange.book import Book, OrderState
from kalshi_core.exchange.changes import (
    Change,
    Filled,
    LevelChanged,
    Listener,
    MarketChanged,
    OrderChanged,
    PositionChanged,
)
from kalshi_core.exchange.order_groups import OrderGroups
from kalshi_core.exchange.reports import (
    MarketActivity,
    book_report,
    market_report,
    order_report,
    outcome_side,
    position_report,
)
from kalshi_core.exchange.rules import reject
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
from kalshi_core.money import CONTRACT, DOLLAR, Count, Money, Price

ESCROW_PER_COUNT = DOLLAR // CONTRACT  # money held per 1/100 contract of open interest
_RESERVE_CACHE_SIZE = 100_000

DAY = timedelta(days=1)
log = logging.getLogger(__name__)
_TRANSITIONS: dict[MarketStatus, frozenset[MarketStatus]] = {
    MarketStatus.INITIALIZED: frozenset({MarketStatus.ACTIVE, MarketStatus.CLOSED}),
    MarketStatus.ACTIVE: frozenset({MarketStatus.INACTIVE, MarketStatus.CLOSED}),
    MarketStatus.INACTIVE: frozenset({MarketStatus.ACTIVE, MarketStatus.CLOSED}),
    # A dispute comes before payment: a disputed market pays nothing until it is determined.
    MarketStatus.CLOSED: frozenset({MarketStatus.DETERMINED, MarketStatus.DISPUTED}),
    MarketStatus.DISPUTED: frozenset({MarketStatus.DETERMINED}),
    MarketStatus.DETERMINED: frozenset({MarketStatus.FINALIZED}),
}


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


class MarketState:
    """One listed market inside the venue."""

    __slots__ = (
        "book",
        "fees",
        "fractional",
        "grid",
        "last_price",
        "listed",
        "open_interest",
        "result",
        "settlement_ts",
        "settlement_value",
        "status",
        "trades",
        "updated_time",
        "volume",
    )

    def __init__(self, listed: Market, fees: FeeSchedule, fractional: bool) -> None:
        self.listed = listed
        self.status = listed.status
        self.book = Book(listed.ticker)
        self.fees = fees
        self.fractional = fractional
        self.grid = rules.price_grid(listed.price_ranges)
        self.last_price: Price = 0
        self.volume: Count = 0
        self.open_interest: Count = 0
        self.result = MarketResult.NONE
        self.settlement_value: Money | None = None
        self.settlement_ts: datetime | None = None
        self.updated_time: datetime | None = None
        self.trades: list[Trade] = []

    def volume_since(self, since: datetime) -> Count:
        """Contracts traded at or after ``since`` (the tape is in time order)."""
        total = 0
        for trade in reversed(self.trades):
            if trade.created_time < since:
                break
            total += trade.count
        return total

    def activity(self, now: datetime | None = None) -> MarketActivity:
        return MarketActivity(
            status=self.status,
            result=self.result,
            last_price=self.last_price,
            volume=self.volume,
            volume_24h=self.volume_since(now - DAY) if now else self.volume,
            open_interest=self.open_interest,
            settlement_value=self.settlement_value,
            settlement_ts=self.settlement_ts,
            updated_time=self.updated_time,
        )


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
        self.fee_model: FeeModel = fee_model or KalshiFeeModel()
        self.latency = latency or Latency()
        #: Called with each order as it joins a book (a fill model notes its queue position).
        self.on_rest: Callable[[OrderState], None] | None = None
        #: Told of every change as it happens (see kalshi_core/exchange/changes.py).
        self.listeners: list[Listener] = []
        self._taker: OrderState | None = None  # while matching: it causes the book's changes
        self._in_flight: list[tuple[datetime, int, str, bool]] = []  # (due, seq, id, is_cancel)
        self.paused = False
        # Ids look like Kalshi's UUIDs and are reproducible: a uuid5 of the namespace whose
        # last 48 bits are a counter (cheaper than hashing a fresh uuid5 per order).
        namespace = uuid.uuid5(uuid.NAMESPACE_URL, id_namespace)
        self._order_prefix = str(uuid.uuid5(namespace, "order"))[:24]
        self._trade_prefix = str(uuid.uuid5(namespace, "trade"))[:24]
        self._markets: dict[str, MarketState] = {}
        self._accounts: dict[str, Account] = {}
        self._orders: dict[str, OrderState] = {}
        self._orders_by_account: dict[str, list[OrderState]] = {}
        self._resting_by_account: dict[str, dict[str, OrderState]] = {}
        self._client_ids: dict[tuple[str, str], str] = {}
        self._fills: dict[str, list[Fill]] = {}
        self._settlements: dict[str, list[Settlement]] = {}
        self._expiries: list[tuple[datetime, int, str]] = []
        self._closings: list[tuple[datetime, str]] = []
        self._order_seq = 0
        self._trade_seq = 0
        self.fees_collected: Money = 0
        self.rounding: Money = 0
        self._withdrawals: Money = 0
        self._reserve_cache: dict[tuple[str, Price, Count, bool], Money] = {}
        self.order_groups = OrderGroups(self._cancel_live, id_namespace=id_namespace)

    # ---- markets and lifecycle -------------------------------------------------------------

    def list_market(
        self, market: Market, *, fees: FeeSchedule | None = None, fractional: bool = False
    ) -> None:
        """Add ``market`` (its status as given); ``fractional`` allows 0.01-contract counts."""
        if market.ticker in self._markets:
            raise reject(rules.INVALID_PARAMETERS, f"market {market.ticker} is already listed")
        state = self._markets[market.ticker] = MarketState(
            market, fees or FeeSchedule(), fractional
        )
        state.book.on_change = self._level_changed
        heapq.heappush(self._closings, (market.close_time, market.ticker))
        self._market_changed(state, None)

    def open_market(self, ticker: str) -> None:
        self.set_status(ticker, MarketStatus.ACTIVE)

    def close_market(self, ticker: str) -> None:
        self.set_status(ticker, MarketStatus.CLOSED)

    def finalize(self, ticker: str) -> None:
        self.set_status(ticker, MarketStatus.FINALIZED)

    def set_status(self, ticker: str, status: MarketStatus) -> None:
        """Move a market along its lifecycle; closing cancels every resting order."""
        now = self._tick()
        self._set_status(self._market(ticker), status, now)

    def determine(
        self, ticker: str, result: MarketResult, *, settlement_value: Money | None = None
    ) -> list[Settlement]:
        """Settle ``ticker`` (closing it first if needed) and pay every holder.

        ``yes``/``no`` pay $1 a winning contract, ``scalar`` pays ``settlement_value`` a YES
        contract and the rest of $1 a NO contract, ``void`` refunds every holder its cost.
        """
        now = self._tick()
        market = self._market(ticker)
        yes_value = None if result is MarketResult.VOID else _yes_value(result, settlement_value)
        if market.status in (MarketStatus.ACTIVE, MarketStatus.INACTIVE):
            self._set_status(market, MarketStatus.CLOSED, now)
        previous = market.status
        self._set_status(market, MarketStatus.DETERMINED, now, announce=False)
        market.result, market.settlement_value, market.settlement_ts = result, yes_value, now
        self._market_changed(market, previous)  # once the result is known
        records = [
            self._settle(account, market, yes_value, now)
            for account in self._accounts.values()
            if account.holdings.get(ticker) and account.holdings[ticker].position
        ]
        self.rounding += market.open_interest * ESCROW_PER_COUNT - sum(r.revenue for r in records)
        market.open_interest = 0
        return records

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
        account = self._account(account_id)
        account.cash += amount
        account.deposits += amount

    def withdraw(self, account_id: str, amount: Money) -> None:
        account = self._account(account_id)
        if amount <= 0 or amount > account.available:
            raise reject(
                rules.INSUFFICIENT_BALANCE,
                f"cannot withdraw {amount} from {account_id}: {account.available} available",
            )
        account.cash -= amount
        self._withdrawals += amount

    def account(self, account_id: str) -> Account:
        """The live account object (read it; change it only through the venue)."""
        return self._account(account_id)

    # ---- order entry ------------------------------------------------------------------------

    def place_order(self, request: VenueOrder) -> Order:
        """Validate, match and (GTC) rest an order; raises ExchangeError and changes nothing."""
        now = self._tick()
        order = self._admit(request, now)
        if self.latency.to_insert:
            self._send(order, now + self.latency.to_insert, is_cancel=False)
        else:
            self._run(order, now)
        return order_report(order)

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
        now = self._tick()
        order = self.order_state(order_id, account_id)
        if not (order.in_book or _in_flight(order)):
            raise reject(rules.ORDER_NOT_RESTING, f"order {order_id} is {order.status}")
        self._cancel_sent(order, now)
        return order_report(order)

    def _cancel_sent(self, order: OrderState, now: datetime) -> None:
        """A member's cancel: it takes effect now, or once cancel latency has passed."""
        if self.latency.to_cancel:
            self._send(order, now + self.latency.to_cancel, is_cancel=True)
        else:
            self._cancel(order, now)

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
        market = self._tradable(maker.ticker)
        side = BookSide.ASK if maker.side is BookSide.BID else BookSide.BID
        request = VenueOrder(
            account=counterparty,
            ticker=maker.ticker,
            side=side,
            price=maker.price,
            count=count,
            time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL,
        )
        taker = self._create(self._account(counterparty), request, count, now)
        self._execute(market, taker, maker, count, now)
        self.order_groups.flush(now)

    def crosses(self, ticker: str, side: BookSide, price: Price) -> bool:
        """Whether an order on ``side`` at ``price`` would meet a resting order."""
        return self._crosses(self._market(ticker).book, side, price)

    def record_print(self, trade: Trade) -> None:
        """Put an outside print (no member of this venue took part) on the market's tape."""
        market = self._market(trade.ticker)
        if trade.count > 0:
            market.trades.append(trade)
            market.last_price = trade.yes_price
            market.volume += trade.count
            market.updated_time = trade.created_time

    def cancel_all(self, account_id: str, ticker: str | None = None) -> list[Order]:
        """Cancel every resting order of ``account_id`` (in ``ticker`` only, if given)."""
        now = self._tick()
        resting = list(self._resting_by_account.get(account_id, {}).values())
        if self.latency.to_insert:  # orders still in flight are canceled too
            resting += filter(_in_flight, self._orders_by_account.get(account_id, []))
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
        if target:
            rules.check_count(order.ticker, target, self._markets[order.ticker].fractional)
        self._shrink(order, target, now)
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
        market = self._tradable(order.ticker)
        new_price = order.price if price is None else price
        new_remaining = (
            order.fill_count + order.remaining if count is None else count
        ) - order.fill_count
        self._check_amend(market, order, new_price, new_remaining, updated_client_order_id)
        if new_price == order.price and new_remaining <= order.remaining:
            self._shrink(order, new_remaining, now)
        else:
            self._move(market, order, new_price, new_remaining, now)
        if updated_client_order_id is not None:
            self._rename(order, updated_client_order_id)
        return order_report(order)

    # ---- reports ----------------------------------------------------------------------------

    def get_order(self, order_id: str, account_id: str | None = None) -> Order:
        return order_report(self.order_state(order_id, account_id))

    def order_state(self, order_id: str, account_id: str | None = None) -> OrderState:
        """The live internal order (for tests and the HTTP wrapper; do not mutate)."""
        order = self._orders.get(order_id)
        if order is None or (account_id is not None and order.account_id != account_id):
            raise reject(rules.NOT_FOUND, f"order {order_id} not found")
        return order

    def find_order(self, account_id: str, client_order_id: str) -> Order | None:
        """Look an order up by the client's id (how an unknown write outcome is settled)."""
        order_id = self._client_ids.get((account_id, client_order_id))
        return None if order_id is None else self.get_order(order_id)

    def orders(
        self, account_id: str, *, ticker: str | None = None, status: OrderStatus | None = None
    ) -> list[Order]:
        self._tick()
        return [
            order_report(o)
            for o in self._orders_by_account.get(account_id, [])
            if (ticker is None or o.ticker == ticker) and (status is None or o.status is status)
        ]

    def queue_position(self, order_id: str, *, accounts: Collection[str] | None = None) -> Count:
        """Contracts ahead of ``order_id`` at its price level (of ``accounts`` only, if given)."""
        order = self.order_state(order_id)
        ahead = 0
        if order.in_book:
            for other in self._markets[order.ticker].book.in_priority(order.side):
                if other is order:
                    break
                if other.price == order.price and (
                    accounts is None or other.account_id in accounts
                ):
                    ahead += other.remaining
        return ahead

    def fills(self, account_id: str, ticker: str | None = None) -> list[Fill]:
        found = self._fills.get(account_id, [])
        return [f for f in found if ticker is None or f.ticker == ticker]

    def settlements(self, account_id: str) -> list[Settlement]:
        return list(self._settlements.get(account_id, []))

    def positions(self, account_id: str) -> list[Position]:
        """Every market the account has traded in, settled ones included."""
        account = self._accounts.get(account_id)
        held = account.holdings.values() if account else ()
        return [position_report(h) for h in held if h.traded or h.position]

    def position(self, account_id: str, ticker: str) -> Position:
        return position_report(self._account(account_id).holding(ticker))

    def balance(self, account_id: str) -> Balance:
        """``balance`` is cash free to trade; ``portfolio_value`` the cost of open positions."""
        self._tick()
        account = self._account(account_id)
        exposure = sum(h.basis for h in account.holdings.values())
        return Balance(balance=account.available, portfolio_value=exposure, updated_ts=None)

    def orderbook(self, ticker: str, depth: int = 0) -> OrderBook:
        self._tick()
        return book_report(self._market(ticker).book, depth)

    def trades(self, ticker: str | None = None) -> list[Trade]:
        if ticker is not None:
            return list(self._market(ticker).trades)
        merged = [t for m in self._markets.values() for t in m.trades]
        return sorted(merged, key=lambda t: t.created_time)

    def market(self, ticker: str) -> Market:
        now = self._tick()
        state = self._market(ticker)
        return market_report(state.listed, state.book, state.activity(now))

    def markets(self) -> list[Market]:
        now = self._tick()
        return [market_report(m.listed, m.book, m.activity(now)) for m in self._markets.values()]

    def ledger(self) -> Ledger:
        accounts = self._accounts.values()
        return Ledger(
            deposits=sum(a.deposits for a in accounts),
            withdrawals=self._withdrawals,
            cash=sum(a.cash for a in accounts),
            reserved=sum(a.reserved for a in accounts),
            escrow=sum(m.open_interest for m in self._markets.values()) * ESCROW_PER_COUNT,
            fees=self.fees_collected,
            rounding=self.rounding,
        )

    # ---- admission --------------------------------------------------------------------------

    def _admit(self, request: VenueOrder, now: datetime) -> OrderState:
        market = self._tradable(request.ticker)
        rules.check_price(request.ticker, request.price, market.grid)
        rules.check_count(request.ticker, request.count, market.fractional)
        rules.check_time_in_force(
            request.time_in_force, request.reduce_only, request.expiration_time, now
        )
        account = self._account(request.account)
        if request.client_order_id and (account.account_id, request.client_order_id) in (
            self._client_ids
        ):
            raise reject(
                rules.ORDER_ALREADY_EXISTS,
                f"{request.account} already has an order with id {request.client_order_id!r}",
            )
        count = self._reduce_only_count(account, request) if request.reduce_only else request.count
        if request.post_only and self._crosses(market.book, request.side, request.price):
            raise reject(rules.POST_ONLY_CROSS, f"post_only order at {request.price} would cross")
        if request.time_in_force is TimeInForce.FILL_OR_KILL:
            self._check_fillable(market.book, request, count)
        if request.order_group_id is None:
            return self._create(account, request, count, now)
        self.order_groups.admit(account.account_id, request.order_group_id)
        order = self._create(account, request, count, now)
        self.order_groups.join(request.order_group_id, order.order_id)
        return order

    def _create(
        self, account: Account, request: VenueOrder, count: Count, now: datetime
    ) -> OrderState:
        self._order_seq += 1
        order_id = f"{self._order_prefix}{self._order_seq:012x}"
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
            sequence=self._order_seq,
            order_group_id=request.order_group_id,
        )
        self._hold(account, order)
        self._orders[order_id] = order
        self._orders_by_account.setdefault(account.account_id, []).append(order)
        self._client_ids[(account.account_id, order.client_order_id)] = order_id
        self._order_changed(order)
        return order

    def _hold(self, account: Account, order: OrderState) -> None:
        """Reserve buying power for ``order`` as if it all filled; reject if unaffordable."""
        held = account.holding(order.ticker)
        order.fee_reserve = self._fee_reserve(order, order.remaining)
        held.track(order.side, order.price, order.remaining)
        held.fee_reserve += order.fee_reserve
        account.refresh(held)
        if account.cash < account.reserved:
            held.track(order.side, order.price, -order.remaining)
            held.fee_reserve -= order.fee_reserve
            account.refresh(held)
            raise reject(
                rules.INSUFFICIENT_BALANCE,
                f"{account.account_id}: {order.ticker} {order.side} "
                f"{order.remaining}@{order.price} needs more than the "
                f"{account.available} available",
            )

    def _fee_reserve(self, order: OrderState, remaining: Count) -> Money:
        # The worst fee: at the price between the limit and 0.50 with the largest P(1-P).
        if not remaining:
            return 0
        half = DOLLAR // 2
        worst = min(order.price, half) if order.side is BookSide.BID else max(order.price, half)
        schedule = self._markets[order.ticker].fees
        key = (order.ticker, worst, remaining, not order.post_only)
        reserve = self._reserve_cache.get(key)
        if reserve is None:
            if len(self._reserve_cache) > _RESERVE_CACHE_SIZE:
                self._reserve_cache.clear()
            exact = self.fee_model.exact_fee(
                schedule, price=worst, count=remaining, is_taker=not order.post_only, now=None
            )
            reserve = self._reserve_cache[key] = self.fee_model.charge(exact)
        return reserve

    def _reduce_only_count(self, account: Account, request: VenueOrder) -> Count:
        position = account.holding(request.ticker).position
        allowed = max(0, -position) if request.side is BookSide.BID else max(0, position)
        if allowed == 0:
            raise reject(
                rules.NO_POSITION_TO_REDUCE,
                f"{request.account} has no {request.ticker} position a {request.side} reduces",
            )
        return min(request.count, allowed)

    @staticmethod
    def _crosses(book: Book, side: BookSide, price: Price) -> bool:
        if side is BookSide.BID:
            ask = book.best(BookSide.ASK)
            return ask is not None and ask <= price
        bid = book.best(BookSide.BID)
        return bid is not None and bid >= price

    @staticmethod
    def _check_fillable(book: Book, request: VenueOrder, count: Count) -> None:
        """Raise unless a fill-or-kill order would fill entirely (walks without changing)."""
        is_bid = request.side is BookSide.BID
        needed = count
        for maker in book.in_priority(BookSide.ASK if is_bid else BookSide.BID):
            if needed <= 0 or (
                maker.price > request.price if is_bid else maker.price < request.price
            ):
                break
            if maker.account_id == request.account:
                if request.self_trade_prevention_type is SelfTradePrevention.TAKER_AT_CROSS:
                    break
                continue
            needed -= maker.remaining
        if needed > 0:
            raise reject(
                rules.FILL_OR_KILL_UNFILLED,
                f"fill_or_kill {request.ticker} {request.side} {count}@{request.price} "
                "cannot fill entirely",
            )

    # ---- matching ---------------------------------------------------------------------------

    def _run(self, order: OrderState, now: datetime) -> None:
        """Match ``order`` as a taker, then rest (GTC) or cancel what is left."""
        market = self._markets[order.ticker]
        self._taker = order
        try:
            stopped = self._match(market, order, now)
        finally:
            self._taker = None
        if order.remaining == 0:
            order.status = OrderStatus.EXECUTED
        elif stopped or order.time_in_force is not TimeInForce.GOOD_TILL_CANCELED:
            self._cancel(order, now)
        else:
            market.book.add(order)
            self._resting_by_account.setdefault(order.account_id, {})[order.order_id] = order
            if self.on_rest is not None:
                self.on_rest(order)
            if order.expiration_time is not None:
                entry = (order.expiration_time, order.sequence, order.order_id)
                heapq.heappush(self._expiries, entry)
        self.order_groups.flush(now)

    def _match(self, market: MarketState, taker: OrderState, now: datetime) -> bool:
        """Trade ``taker`` against the book; True if self-trade prevention stopped it."""
        book = market.book
        is_bid = taker.side is BookSide.BID
        maker_side = BookSide.ASK if is_bid else BookSide.BID
        limit = taker.price
        while taker.remaining:
            if self.order_groups.halted(taker.order_id):
                return True  # its order group reached its limit: stop, cancel the rest
            maker = book.head(maker_side)
            if maker is None or (maker.price > limit if is_bid else maker.price < limit):
                return False
            if maker.account_id == taker.account_id:
                if taker.self_trade_prevention is SelfTradePrevention.TAKER_AT_CROSS:
                    return True
                self._cancel(maker, now)
                continue
            self._execute(market, taker, maker, min(taker.remaining, maker.remaining), now)
        return False

    def _execute(
        self,
        market: MarketState,
        taker: OrderState,
        maker: OrderState,
        count: Count,
        now: datetime,
    ) -> None:
        price = maker.price
        bid, ask = (taker, maker) if taker.side is BookSide.BID else (maker, taker)
        bid_account, ask_account = self._accounts[bid.account_id], self._accounts[ask.account_id]
        bid_held = bid_account.holding(taker.ticker)
        ask_held = ask_account.holding(taker.ticker)
        open_before = max(0, bid_held.position) + max(0, ask_held.position)
        self._resize(taker, taker.remaining - count)
        self._resize(maker, maker.remaining - count)
        bid_cash = bid_held.buy(True, price, count)
        ask_cash = ask_held.buy(False, DOLLAR - price, count)
        bid_account.cash += bid_cash
        ask_account.cash += ask_cash
        opened = max(0, bid_held.position) + max(0, ask_held.position) - open_before
        market.open_interest += opened
        self.rounding -= bid_cash + ask_cash + opened * ESCROW_PER_COUNT
        trade_id = self._record_trade(market, taker, price, count, now)
        for order, is_taker in ((taker, True), (maker, False)):
            self._settle_fill(
                market,
                order,
                is_taker=is_taker,
                price=price,
                count=count,
                now=now,
                trade_id=trade_id,
            )

    def _settle_fill(
        self,
        market: MarketState,
        order: OrderState,
        *,
        is_taker: bool,
        price: Price,
        count: Count,
        now: datetime,
        trade_id: str,
    ) -> None:
        """Fees, order statistics, the Fill record and the account's reserve for one side."""
        account = self._accounts[order.account_id]
        held = account.holding(order.ticker)
        fee = self._charge_fee(market, order, is_taker=is_taker, price=price, count=count, now=now)
        account.cash -= fee
        held.fees += fee
        held.updated_time = now
        unit = price if order.side is BookSide.BID else DOLLAR - price
        if is_taker:
            order.taker_fees += fee
            order.taker_fill_cost += cost_of(unit, count)
        else:
            order.maker_fees += fee
            order.maker_fill_cost += cost_of(unit, count)
        order.fill_count += count
        order.updated_time = now
        if order.remaining == 0:
            order.status = OrderStatus.EXECUTED
        account.refresh(held)
        fill = _fill_record(order, trade_id, is_taker=is_taker, price=price, count=count, fee=fee)
        self._fills.setdefault(order.account_id, []).append(fill)
        if self.listeners:
            self._notify(
                Filled(order=order_report(order), fill=fill, position=position_report(held))
            )
        self.order_groups.matched(order.order_id, count, now)

    def _charge_fee(
        self,
        market: MarketState,
        order: OrderState,
        *,
        is_taker: bool,
        price: Price,
        count: Count,
        now: datetime,
    ) -> Money:
        """This fill's fee: the order's rounded accrued fees now, less what it already paid."""
        exact = self.fee_model.exact_fee(
            market.fees, price=price, count=count, is_taker=is_taker, now=now
        )
        charged_before = self.fee_model.charge(order.fee_accrued)
        order.fee_accrued += exact
        fee = self.fee_model.charge(order.fee_accrued) - charged_before
        self.fees_collected += fee
        return fee

    def _record_trade(
        self, market: MarketState, taker: OrderState, price: Price, count: Count, now: datetime
    ) -> str:
        self._trade_seq += 1
        trade_id = f"{self._trade_prefix}{self._trade_seq:012x}"
        market.trades.append(
            Trade(
                trade_id=trade_id,
                ticker=taker.ticker,
                count=count,
                yes_price=price,
                no_price=DOLLAR - price,
                taker_outcome_side=outcome_side(taker.side),
                taker_book_side=taker.side,
                created_time=now,
            )
        )
        market.last_price = price
        market.volume += count
        market.updated_time = now
        return trade_id

    # ---- order changes ----------------------------------------------------------------------

    def _resize(self, order: OrderState, remaining: Count) -> None:
        """Set an order's remaining size, keeping book, holding and fee reserve in step.

        The caller refreshes the account's reserve once the position is up to date.
        """
        held = self._accounts[order.account_id].holding(order.ticker)
        held.track(order.side, order.price, remaining - order.remaining)
        reserve = self._fee_reserve(order, remaining)
        held.fee_reserve += reserve - order.fee_reserve
        order.fee_reserve = reserve
        if order.in_book:
            if remaining == 0:
                self._unrest(order)
            else:
                self._markets[order.ticker].book.set_remaining(order, remaining)
        order.remaining = remaining

    def _unrest(self, order: OrderState) -> None:
        self._markets[order.ticker].book.remove(order)
        self._resting_by_account[order.account_id].pop(order.order_id, None)

    def _cancel(self, order: OrderState, now: datetime) -> None:
        self._shrink(order, 0, now)

    def _cancel_live(self, order_ids: Iterable[str], now: datetime) -> None:
        """The venue's own cancel (an order group's): at once, no cancel latency."""
        for order in [self._orders[i] for i in order_ids]:
            if order.in_book or _in_flight(order):
                self._cancel(order, now)

    def _shrink(self, order: OrderState, remaining: Count, now: datetime) -> None:
        """Cancel part (or, at 0, all) of an order's remaining size; it keeps its priority."""
        canceled = order.remaining - remaining
        self._resize(order, remaining)
        order.canceled_count += canceled
        order.updated_time = now
        if remaining == 0:
            order.status = OrderStatus.CANCELED
        account = self._accounts[order.account_id]
        account.refresh(account.holding(order.ticker))
        self._order_changed(order)

    def _check_amend(
        self,
        market: MarketState,
        order: OrderState,
        price: Price,
        remaining: Count,
        new_client_id: str | None,
    ) -> None:
        rules.check_price(order.ticker, price, market.grid)
        rules.check_count(order.ticker, remaining, market.fractional, "remaining count")
        if new_client_id is not None and (order.account_id, new_client_id) in self._client_ids:
            raise reject(rules.ORDER_ALREADY_EXISTS, f"client_order_id {new_client_id!r} is taken")
        if order.post_only and price != order.price:
            book_side_crosses = self._crosses(market.book, order.side, price)
            if book_side_crosses:
                raise reject(rules.POST_ONLY_CROSS, f"post_only amend to {price} would cross")

    def _move(
        self, market: MarketState, order: OrderState, price: Price, remaining: Count, now: datetime
    ) -> None:
        """Re-price or grow a resting order: it leaves the queue and comes back as a taker."""
        account = self._accounts[order.account_id]
        held = account.holding(order.ticker)
        old_price, old_remaining, old_reserve = order.price, order.remaining, order.fee_reserve
        held.track(order.side, old_price, -old_remaining)
        held.fee_reserve -= old_reserve
        order.remaining, order.fee_reserve = 0, 0
        try:
            order.price, order.remaining = price, remaining
            self._hold(account, order)
        except ExchangeError:
            order.price, order.remaining, order.fee_reserve = old_price, old_remaining, old_reserve
            held.track(order.side, old_price, old_remaining)
            held.fee_reserve += old_reserve
            account.refresh(held)
            raise
        order.price, order.remaining = old_price, old_remaining
        market.book.remove(order)  # the book files the order under its old price and size
        order.price, order.remaining = price, remaining
        self._resting_by_account[order.account_id].pop(order.order_id, None)
        order.initial_count = order.fill_count + remaining + order.canceled_count
        self._order_seq += 1
        order.sequence = self._order_seq
        order.updated_time = now
        self._run(order, now)
        self._order_changed(order)

    def _rename(self, order: OrderState, client_order_id: str) -> None:
        self._client_ids[(order.account_id, client_order_id)] = order.order_id
        order.client_order_id = client_order_id
        self._order_changed(order)

    # ---- telling listeners ------------------------------------------------------------------

    def _notify(self, change: Change) -> None:
        for listener in self.listeners:
            try:
                listener(change)
            except Exception:  # a listener's bug must not leave a change half made
                log.exception("venue listener %r failed on %s", listener, type(change).__name__)

    def _level_changed(self, order: OrderState, delta: Count) -> None:
        if self.listeners:
            cause = self._taker or order
            self._notify(
                LevelChanged(
                    ticker=order.ticker,
                    side=order.side,
                    price=order.price,
                    delta=delta,
                    account_id=cause.account_id,
                    client_order_id=cause.client_order_id,
                )
            )

    def _order_changed(self, order: OrderState) -> None:
        if self.listeners:
            self._notify(OrderChanged(order=order_report(order)))

    def _market_changed(self, market: MarketState, previous: MarketStatus | None) -> None:
        if self.listeners:
            report = market_report(market.listed, market.book, market.activity())
            self._notify(MarketChanged(market=report, previous=previous))

    # ---- lifecycle internals ----------------------------------------------------------------

    def _set_status(
        self, market: MarketState, status: MarketStatus, now: datetime, *, announce: bool = True
    ) -> None:
        if status not in _TRANSITIONS.get(market.status, frozenset()):
            raise reject(
                rules.INVALID_TRANSITION,
                f"{market.listed.ticker} cannot go from {market.status} to {status}",
            )
        if status is MarketStatus.CLOSED:
            for order in market.book.resting():
                self._cancel(order, now)
        previous, market.status = market.status, status
        market.updated_time = now
        if announce:
            self._market_changed(market, previous)

    def _settle(
        self, account: Account, market: MarketState, yes_value: Money | None, now: datetime
    ) -> Settlement:
        """Pay one holder: ``yes_value`` a YES contract (the rest of $1 a NO one), or, for a
        void market (``None``), its cost back."""
        held = account.holdings[market.listed.ticker]
        yes_count, no_count = max(0, held.position), max(0, -held.position)
        if yes_value is None:
            due = held.basis * CONTRACT
        else:
            due = yes_value * yes_count + (DOLLAR - yes_value) * no_count
        revenue = held.receive(due)
        record = Settlement(
            ticker=market.listed.ticker,
            event_ticker=market.listed.event_ticker,
            market_result=market.result,
            yes_count=yes_count,
            no_count=no_count,
            yes_total_cost=held.basis if yes_count else 0,
            no_total_cost=held.basis if no_count else 0,
            revenue=revenue,
            fee_cost=held.fees,
            settled_time=now,
        )
        account.cash += revenue
        held.realized += revenue - held.basis
        held.basis, held.position, held.updated_time = 0, 0, now
        account.refresh(held)
        self._settlements.setdefault(account.account_id, []).append(record)
        if self.listeners:
            self._notify(
                PositionChanged(account_id=account.account_id, position=position_report(held))
            )
        return record

    def _tick(self) -> datetime:
        """The clock's time, after closing markets and expiring orders it has passed."""
        now = self.clock.now()
        while self._closings and self._closings[0][0] <= now:
            _, ticker = heapq.heappop(self._closings)
            market = self._markets[ticker]
            if market.status in (MarketStatus.ACTIVE, MarketStatus.INACTIVE):
                self._set_status(market, MarketStatus.CLOSED, now)
        while self._expiries and self._expiries[0][0] <= now:
            expires, _, order_id = heapq.heappop(self._expiries)
            order = self._orders[order_id]
            if order.in_book and order.expiration_time == expires:
                self._cancel(order, now)
        while self._in_flight and self._in_flight[0][0] <= now:
            due, _, order_id, is_cancel = heapq.heappop(self._in_flight)
            self._arrive(self._orders[order_id], due, is_cancel=is_cancel)
        return now

    def _send(self, order: OrderState, due: datetime, *, is_cancel: bool) -> None:
        self._order_seq += 1
        heapq.heappush(self._in_flight, (due, self._order_seq, order.order_id, is_cancel))

    def _arrive(self, order: OrderState, due: datetime, *, is_cancel: bool) -> None:
        """An order or cancel reaches the matching engine ``due`` after it was sent."""
        if is_cancel:
            if order.in_book or _in_flight(order):
                self._cancel(order, due)
            return
        if not _in_flight(order):
            return  # canceled while in flight
        if self._markets[order.ticker].status is MarketStatus.ACTIVE and not self.paused:
            self._run(order, due)
        else:
            self._cancel(order, due)

    # ---- lookups ----------------------------------------------------------------------------

    def _market(self, ticker: str) -> MarketState:
        market = self._markets.get(ticker)
        if market is None:
            raise reject(rules.NOT_FOUND, f"market {ticker} not found")
        return market

    def _tradable(self, ticker: str) -> MarketState:
        if self.paused:
            raise reject(rules.TRADING_PAUSED, "trading is paused on the exchange")
        market = self._market(ticker)
        if market.status is not MarketStatus.ACTIVE:
            raise reject(rules.MARKET_CLOSED, f"market {ticker} is {market.status}, not active")
        return market

    def _account(self, account_id: str) -> Account:
        account = self._accounts.get(account_id)
        if account is None:
            account = self._accounts[account_id] = Account(account_id)
        return account

    def _resting(self, account_id: str, order_id: str) -> OrderState:
        order = self.order_state(order_id, account_id)
        if not order.in_book:
            raise reject(rules.ORDER_NOT_RESTING, f"order {order_id} is {order.status}")
        return order


def _in_flight(order: OrderState) -> bool:
    """Sent but not yet live (insert latency): resting status, size left, not in a book."""
    return order.status is OrderStatus.RESTING and order.remaining > 0 and not order.in_book


def _yes_value(result: MarketResult, settlement_value: Money | None) -> Money:
    """What one YES contract pays for ``result`` (a NO contract pays the rest of $1)."""
    if result is MarketResult.YES:
        return DOLLAR
    if result is MarketResult.NO:
        return 0
    scalar = result is MarketResult.SCALAR and settlement_value is not None
    if scalar and settlement_value is not None and 0 <= settlement_value <= DOLLAR:
        return settlement_value
    raise reject(rules.INVALID_PARAMETERS, f"cannot settle on {result!r} / {settlement_value}")


def _fill_record(
    order: OrderState, trade_id: str, *, is_taker: bool, price: Price, count: Count, fee: Money
) -> Fill:
    """The Fill the account sees; its id is the trade's."""
    return Fill(
        fill_id=trade_id,
        order_id=order.order_id,
        ticker=order.ticker,
        outcome_side=outcome_side(order.side),
        book_side=order.side,
        count=count,
        yes_price=price,
        no_price=DOLLAR - price,
        is_taker=is_taker,
        fee_cost=fee,
        created_time=order.updated_time,
        client_order_id=order.client_order_id,
    )
