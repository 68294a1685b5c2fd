"""What every part of the venue shares: accounts, the order index, money counters, ids
and the listeners to tell.

The facade (:mod:`kalshi_core.exchange.venue`), the per-market matching engines
(:mod:`kalshi_core.exchange.matching`) and the lifecycle (:mod:`kalshi_core.exchange.lifecycle`)
all read and write one :class:`VenueState`; none of them imports another's module for it.
"""

from __future__ import annotations

import heapq
import logging
import uuid
from collections.abc import Callable
from datetime import datetime

from kalshi_core.exchange.accounts import Account
from kalshi_core.exchange.book import OrderState
from kalshi_core.exchange.changes import Change, LevelChanged, Listener, OrderChanged
from kalshi_core.exchange.order_groups import OrderGroups
from kalshi_core.exchange.reports import order_report
from kalshi_core.exchange.subaccounts import Subaccounts
from kalshi_core.fees import FeeModel
from kalshi_core.models import Settlement
from kalshi_core.money import Count, Money

log = logging.getLogger("kalshi_core.exchange.venue")


class VenueState:
    """Venue-wide state; changed only by the venue's own modules."""

    def __init__(self, fee_model: FeeModel, id_namespace: str) -> None:
        self.fee_model = fee_model
        #: Called with each order as it joins a book (a fill model notes its queue position).
        self.on_rest: Callable[[OrderState], None] | None = None
        #: Told of every change as it happens (see kalshi_core/exchange/changes.py).
        self.listeners: list[Listener] = []
        self.taker: OrderState | None = None  # while matching: it causes the book's changes
        # Ids look like Kalshi's UUIDs and are reproducible: a uuid5 of the namespace whose
        # last 48 bits are a counter (cheaper than hashing a fresh uuid5 per order).
        namespace = uuid.uuid5(uuid.NAMESPACE_URL, id_namespace)
        self.order_prefix = str(uuid.uuid5(namespace, "order"))[:24]
        self.trade_prefix = str(uuid.uuid5(namespace, "trade"))[:24]
        self.accounts: dict[str, Account] = {}
        self.orders: dict[str, OrderState] = {}
        self.settlements: dict[str, list[Settlement]] = {}
        self.expiries: list[tuple[datetime, int, str]] = []
        self.order_seq = 0
        self.trade_seq = 0
        self.fees_collected: Money = 0
        self.rounding: Money = 0
        self.withdrawals: Money = 0
        self.order_groups: OrderGroups  # set by the venue, which owns the cancel it calls
        self.subaccounts = Subaccounts(self.accounts, self.account, id_namespace)

    def account(self, account_id: str) -> Account:
        """The account, opened empty on first use."""
        account = self.accounts.get(account_id)
        if account is None:
            account = self.accounts[account_id] = Account(account_id)
        return account

    def next_sequence(self) -> int:
        self.order_seq += 1
        return self.order_seq

    def next_trade_id(self) -> str:
        self.trade_seq += 1
        return f"{self.trade_prefix}{self.trade_seq:012x}"

    def rested(self, order: OrderState) -> None:
        """``order`` joined its book: index it and watch its expiry."""
        self.accounts[order.account_id].resting[order.order_id] = order
        if self.on_rest is not None:
            self.on_rest(order)
        if order.expiration_time is not None:
            entry = (order.expiration_time, order.sequence, order.order_id)
            heapq.heappush(self.expiries, entry)

    def unrested(self, order: OrderState) -> None:
        self.accounts[order.account_id].resting.pop(order.order_id, None)

    # ---- telling listeners ------------------------------------------------------------------

    def notify(self, change: Change) -> None:
        for listener in self.listeners:
            try:
                listener(change)
            except Exception:  # a listener's bug must not leave a change half made
                log.exception("venue listener %r failed on %s", listener, type(change).__name__)

    def level_changed(self, order: OrderState, delta: Count) -> None:
        if self.listeners:
            cause = self.taker or order
            self.notify(
                LevelChanged(
                    ticker=order.ticker,
                    side=order.side,
                    price=order.price,
                    delta=delta,
                    account_id=cause.account_id,
                    client_order_id=cause.client_order_id,
                )
            )

    def order_changed(self, order: OrderState) -> None:
        if self.listeners:
            self.notify(OrderChanged(order=order_report(order)))
