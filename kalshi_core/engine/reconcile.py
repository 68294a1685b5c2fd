"""Reconciliation: the venue wins. Balance, positions, resting orders, fills and settlements
are read from the venue, stored, and turned into the :class:`Portfolio` the pipeline sees.

It also settles every order whose fate we do not know — ``pending_unknown`` (a write without a
definite answer) and ``pending_submit`` (recorded, then the process died before or while
sending) — by looking it up on the venue by ``client_order_id``. Until that lookup answers, the
market stays blocked for new orders.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from datetime import datetime
from functools import partial

import attrs

from kalshi_core import signals
from kalshi_core.clock import Clock
from kalshi_core.engine.execution import Executor
from kalshi_core.gateway import Gateway
from kalshi_core.models import Fill, Market, Order, Position, Settlement
from kalshi_core.money import Money, Price, notional
from kalshi_core.protocols import Portfolio
from kalshi_core.storage.database import Database
from kalshi_core.storage.records import OrderState, StoredOrder

log = logging.getLogger(__name__)
UNSETTLED = (OrderState.PENDING_SUBMIT, OrderState.PENDING_UNKNOWN)
RESTING = OrderState.RESTING
NOT_FOUND = "not on the venue after an unknown outcome: never placed"
GONE = "no longer on the venue's books: final, can never fill"


@attrs.frozen(kw_only=True)
class ReconcileResult:
    portfolio: Portfolio
    resting: tuple[Order, ...]
    new_fills: tuple[Fill, ...]
    new_settlements: tuple[Settlement, ...]


def resting_exposure(orders: Iterable[Order]) -> dict[str, Money]:
    """Money each ticker's resting orders would lock if they filled."""
    exposure: dict[str, Money] = {}
    for order in orders:
        price = order.yes_price if order.outcome_side.value == "yes" else order.no_price
        cost = notional(price, order.remaining_count, round_up=True)
        exposure[order.ticker] = exposure.get(order.ticker, 0) + cost
    return exposure


@attrs.define
class Reconciler:
    gateway: Gateway
    database: Database
    executor: Executor
    clock: Clock
    event_of: dict[str, str] = attrs.field(factory=dict)
    open_tickers: set[str] | None = None  # the engine's last view of open markets
    marks: dict[str, Price] = attrs.field(factory=dict)  # their YES mids, for unrealised P&L
    settlements_every: int = 20
    # a run whose venue is its own (in-process): other runs' stored orders rest on other
    # exchanges, so only this run's are settled here (None: every stored order)
    only_run: str | None = None
    _last_fill_time: datetime | None = None
    _seen_fills: set[str] = attrs.field(factory=set)
    _rounds: int = 0
    _held: frozenset[str] = frozenset()
    _stored_positions: list[Position] | None = None
    _open_orders: list[StoredOrder] | None = None  # held between rounds (see _stored_open_orders)
    _orders_read: tuple[int, int] = (-1, -1)  # (order writes, round) when last read
    _deferred: list[Callable[[], Awaitable[object]]] = attrs.field(factory=list)

    async def reconcile(
        self, owned: Collection[str] | None = None, *, read_settlements: bool = False
    ) -> ReconcileResult:
        """Read the venue's view; settle unknown orders in ``owned`` markets (all if None).

        Fills and settlements are stored at once; what the venue reports again every round
        (positions, our resting orders' states) waits for :meth:`store_deferred`, which the
        engine calls in its end-of-cycle transaction (lost in a crash, it is read again)."""
        try:
            return await self._reconcile(owned, read_settlements)
        except BaseException:
            self.forget()
            raise

    def forget(self) -> None:
        """Drop what is held in memory of the database (after an error): read it afresh."""
        self._open_orders = None
        self._stored_positions = None
        self._deferred.clear()

    async def store_deferred(self) -> None:
        """Store what :meth:`reconcile` left for the end of the cycle (call inside a unit)."""
        writes, self._deferred = self._deferred, []
        for write in writes:
            await write()

    async def _reconcile(
        self, owned: Collection[str] | None, read_settlements: bool
    ) -> ReconcileResult:
        await self.settle_unknown_orders(owned)
        balance = await self.gateway.balance()
        positions = await self.gateway.positions()
        resting = await self.gateway.resting_orders()
        listed_fills = await self.gateway.fills(since=self._last_fill_time)
        due = self._settlements_due(positions) or read_settlements
        listed_settlements = await self.gateway.settlements() if due else []
        async with self.database.unit():  # the venue read first: no lock held across a call
            fills = await self._new_fills(listed_fills)
            settlements = await self._new_settlements(listed_settlements)
        self._store_positions(positions)
        await self._refresh_orders(resting)
        await self._settle_departed(resting, owned)
        portfolio = self._portfolio(balance.balance, positions, resting)
        return ReconcileResult(
            portfolio=portfolio,
            resting=tuple(resting),
            new_fills=tuple(fills),
            new_settlements=tuple(settlements),
        )

    def see_listed(self, listed: Sequence[Market]) -> None:
        """The engine's view of the open markets this cycle, and their marks."""
        self.open_tickers = {m.ticker for m in listed}
        self.marks = {m.ticker: mid for m in listed if (mid := m.mid) is not None}

    def _store_positions(self, positions: list[Position]) -> None:
        if positions != self._stored_positions:
            self._deferred.append(partial(self.database.positions.replace_all, positions))
            self._stored_positions = positions
        self._announce_closed(positions)

    def _portfolio(self, cash: Money, positions: list[Position], resting: list[Order]) -> Portfolio:
        held = {p.ticker: p for p in positions if p.position != 0}
        return Portfolio(
            cash=cash,
            positions=held,
            resting_exposure=resting_exposure(resting),
            event_of={t: e for t, e in self.event_of.items() if t in held},
            marks={t: mark for t, mark in self.marks.items() if t in held},
        )

    def _announce_closed(self, positions: list[Position]) -> None:
        """``position_closed`` for every market we held last round and hold no more."""
        held = frozenset(p.ticker for p in positions if p.position)
        for ticker in sorted(self._held - held):
            signals.position_closed.send(ticker)
        self._held = held

    def _settlements_due(self, positions: list[Position]) -> bool:
        """Read settlements when a held market is no longer open (it closed or settled), on the
        first round, and every ``settlements_every`` rounds: a steady cycle saves the call."""
        self._rounds += 1
        if self.open_tickers is None or self._rounds % self.settlements_every == 1:
            return True
        return any(p.position and p.ticker not in self.open_tickers for p in positions)

    async def pending_tickers(self) -> list[str]:
        """Markets with an order of unknown fate: they must be leased to be settled."""
        return sorted({o.intent.ticker for o in await self._unsettled()})

    async def tickers_to_settle(self) -> list[str]:
        """Markets with an order of unknown fate or one stored as resting: they must be leased
        to be settled (a closed market's resting orders end canceled on the venue)."""
        return sorted({o.intent.ticker for o in await self._stored_open_orders()})

    async def _stored_open_orders(self) -> list[StoredOrder]:
        """Our orders of unknown fate or stored as resting. Held between rounds while no order
        was written through this database object since the read; read afresh after an error,
        and every ``settlements_every`` rounds for what another worker sharing the database
        wrote (an order of unknown fate it left in a market we now hold)."""
        writes, rounds = self.database.orders.writes, self._rounds
        aged = rounds - self._orders_read[1] >= self.settlements_every
        stale = self._orders_read[0] != writes or aged
        if self._open_orders is None or stale:
            states = (*UNSETTLED, RESTING)
            self._open_orders = await self.database.orders.in_states(states, self.only_run)
            self._orders_read = (writes, rounds)
        return self._open_orders

    async def _unsettled(self) -> list[StoredOrder]:
        return [o for o in await self._stored_open_orders() if o.state in UNSETTLED]

    async def settle_unknown_orders(self, owned: Collection[str] | None = None) -> None:
        """Look every order of unknown fate up by ``client_order_id``; unblock its market.

        Only in ``owned`` markets: another live worker's just-recorded order (not sent yet) in
        a market it holds must not be judged "never placed" from here."""
        for stored in await self._unsettled():
            if owned is None or stored.intent.ticker in owned:
                await self._settle(stored)

    async def _settle(self, stored: StoredOrder) -> None:
        ticker = stored.intent.ticker
        found = await self.gateway.find_order(stored.client_order_id, ticker)
        now = self.clock.now()
        if found is None:
            await self.database.orders.mark_rejected(stored.client_order_id, now, NOT_FOUND)
        else:
            await self.database.orders.mark_acknowledged(found, now)
            log.info("order %s found on the venue: %s", stored.client_order_id, found.status)
        if self.executor.blocked.get(ticker) == stored.client_order_id:
            del self.executor.blocked[ticker]

    async def _new_fills(self, listed: list[Fill]) -> list[Fill]:
        """Store the fills of ``listed`` not stored yet; return them."""
        fresh = []
        for fill in listed:
            if fill.fill_id in self._seen_fills:  # the time filter is inclusive, in seconds
                continue
            self._seen_fills.add(fill.fill_id)
            if await self.database.fills.record(fill):
                fresh.append(fill)
                signals.order_filled.send(fill)
        times = [f.created_time for f in fresh if f.created_time is not None]
        if times:
            self._last_fill_time = max(times)
        return fresh

    async def _new_settlements(self, listed: list[Settlement]) -> list[Settlement]:
        fresh = []
        for settlement in listed:
            if await self.database.settlements.record(settlement):
                fresh.append(settlement)
                signals.market_settled.send(settlement)
        return fresh

    async def _settle_departed(self, resting: list[Order], owned: Collection[str] | None) -> None:
        """Our stored resting orders the venue no longer rests (filled, canceled, expired, or
        their market closed) get the venue's final word; one it no longer knows is final as
        canceled (it can never fill)."""
        on_book = {o.client_order_id for o in resting}
        now = self.clock.now()
        for stored in await self._stored_open_orders():
            ticker = stored.intent.ticker
            if stored.state is not RESTING:
                continue
            if stored.client_order_id in on_book or (owned is not None and ticker not in owned):
                continue
            found = await self.gateway.find_order(stored.client_order_id, ticker)
            if found is None:
                await self.database.orders.mark_gone(stored.client_order_id, now, GONE)
            else:
                await self.database.orders.mark_acknowledged(found, now)

    async def _refresh_orders(self, resting: list[Order]) -> None:
        """Store the venue's view of our resting orders; ours only (by client_order_id). Those
        stored as resting exactly as the venue reports them only get this round's
        ``updated_time``, all in one statement."""
        now = self.clock.now()
        stored = {o.client_order_id: o for o in await self._stored_open_orders()}
        unchanged = []
        for order in resting:
            known = stored.get(order.client_order_id)
            if known is not None and known.state is RESTING and known.exchange_order == order:
                unchanged.append(order.client_order_id)
            elif known is not None or await self.database.orders.get(order.client_order_id):
                self._deferred.append(partial(self.database.orders.mark_acknowledged, order, now))
        if unchanged:
            self._deferred.append(partial(self.database.orders.touch, unchanged, now))
