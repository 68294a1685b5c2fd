"""Idempotent execution: record the intent, then send it; never place an order twice.

Every order is recorded (``pending_submit``) under its deterministic ``client_order_id`` before
it is sent. A definite answer is stored as acknowledged or rejected. An answer that never came
(timeout, dropped connection, 5xx after the write may have happened) is stored as
``pending_unknown`` and **blocks further writes on that market** until reconciliation finds the
order (or its absence) by ``client_order_id``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import attrs

from kalshi_core import signals
from kalshi_core.client import BatchOrderResult, OrderAck, OrderRequest, OrderStateUnknown
from kalshi_core.clock import Clock
from kalshi_core.errors import ExchangeError
from kalshi_core.gateway import Gateway
from kalshi_core.models import (
    BookSide,
    Order,
    OrderIntent,
    OrderStatus,
    Side,
    TimeInForce,
    to_book,
)
from kalshi_core.money import DOLLAR
from kalshi_core.storage.records import OrderState
from kalshi_core.storage.repositories import Orders

log = logging.getLogger(__name__)
BATCH_LIMIT = 20


@attrs.frozen(kw_only=True)
class PlannedOrder:
    """An approved intent with the ids that make it idempotent."""

    intent: OrderIntent
    decision_id: str
    client_order_id: str


@attrs.define
class ExecutionReport:
    placed: list[Order] = attrs.field(factory=list)
    rejected: list[tuple[PlannedOrder, str]] = attrs.field(factory=list)
    unknown: list[PlannedOrder] = attrs.field(factory=list)
    skipped: list[tuple[PlannedOrder, str]] = attrs.field(factory=list)


def order_request(planned: PlannedOrder) -> OrderRequest:
    """The YES-book order for an outcome-side intent (buy NO at n == ask YES at 1 - n)."""
    intent = planned.intent
    book_side, yes_price = to_book(intent.side, intent.action, intent.price)
    return OrderRequest(
        ticker=intent.ticker,
        book_side=book_side,
        price=yes_price,
        count=intent.count,
        client_order_id=planned.client_order_id,
        time_in_force=intent.time_in_force,
        post_only=intent.post_only,
        reduce_only=intent.reduce_only,
    )


def _status_after(request: OrderRequest, filled: int, remaining: int) -> OrderStatus:
    """As the venue reports it: executed only when fully filled; an IOC/FOK remainder (even
    all of it) is canceled, not executed."""
    if filled == request.count:
        return OrderStatus.EXECUTED
    if remaining > 0 and request.time_in_force is TimeInForce.GOOD_TILL_CANCELED:
        return OrderStatus.RESTING
    return OrderStatus.CANCELED


def order_from_ack(request: OrderRequest, ack: OrderAck | BatchOrderResult) -> Order:
    """The order as the ack describes it (saves a read per order)."""
    filled = ack.fill_count or 0
    remaining = request.count - filled if ack.remaining_count is None else ack.remaining_count
    return Order(
        order_id=ack.order_id or "",
        client_order_id=request.client_order_id,
        ticker=request.ticker,
        outcome_side=to_book_outcome(request),
        book_side=request.book_side,
        status=_status_after(request, filled, remaining),
        yes_price=request.price,
        no_price=DOLLAR - request.price,
        initial_count=request.count,
        fill_count=filled,
        remaining_count=remaining,
        time_in_force=request.time_in_force,
        post_only=request.post_only,
        reduce_only=request.reduce_only,
    )


def to_book_outcome(request: OrderRequest) -> Side:
    """Kalshi reports a YES-book bid as outcome side YES, an ask as NO."""
    return Side.YES if request.book_side is BookSide.BID else Side.NO


@attrs.define
class Executor:
    """Sends approved intents; the only code that writes orders to a venue."""

    gateway: Gateway
    orders: Orders
    clock: Clock
    blocked: dict[str, str] = attrs.field(factory=dict)  # ticker -> client_order_id
    strategies: dict[str, str] = attrs.field(factory=dict)  # client_order_id -> strategy

    def strategy_for(self, order: Order) -> str | None:
        """The strategy that placed ``order`` (``None`` for orders not ours)."""
        return self.strategies.get(order.client_order_id)

    async def learn_strategies(self, orders: Iterable[Order]) -> None:
        """Look up, once, which strategy placed resting orders from an earlier session."""
        for order in orders:
            if order.client_order_id not in self.strategies:
                stored = await self.orders.get(order.client_order_id)
                self.strategies[order.client_order_id] = stored.intent.strategy if stored else ""

    async def cancel(self, order: Order, *, reason: str) -> None:
        """Cancel a resting order; one already gone is not an error (the venue wins)."""
        try:
            await self.gateway.cancel(order.order_id)
        except ExchangeError as error:
            log.info("cancel of %s (%s) failed: %s", order.order_id, reason, error)
            return
        signals.order_canceled.send(order, reason=reason)

    async def execute(self, planned: Sequence[PlannedOrder]) -> ExecutionReport:
        report = ExecutionReport()
        if not planned:
            return report
        async with self.orders.unit():  # every intent recorded (committed) before any is sent
            sendable = [p for p in planned if await self._prepare(p, report)]
        for chunk in _chunks(sendable, BATCH_LIMIT):
            await self._send(chunk, report)
        return report

    async def _prepare(self, planned: PlannedOrder, report: ExecutionReport) -> bool:
        ticker = planned.intent.ticker
        if ticker in self.blocked:
            reason = f"order {self.blocked[ticker]} on {ticker} is in an unknown state"
            report.skipped.append((planned, reason))
            return False
        stored = await self.orders.record_intent(
            planned.client_order_id, planned.intent, self.clock.now(), planned.decision_id
        )
        if stored.state is not OrderState.PENDING_SUBMIT or stored.order_id:
            report.skipped.append((planned, f"already recorded as {stored.state}"))
            return False
        self.strategies[planned.client_order_id] = planned.intent.strategy
        return True

    async def _send(self, chunk: Sequence[PlannedOrder], report: ExecutionReport) -> None:
        requests = [order_request(p) for p in chunk]
        try:
            if len(requests) == 1:
                results: list[OrderAck | BatchOrderResult] = [
                    await self.gateway.place_one(requests[0])
                ]
            else:
                results = list(await self.gateway.place(requests))
        except OrderStateUnknown as error:
            await self._unknown(chunk, str(error), report)
            return
        except ExchangeError as error:
            await self._rejected(chunk, str(error), report)
            return
        async with self.orders.unit():
            for planned, request, result in zip(chunk, requests, results, strict=True):
                await self._settle_one(planned, request, result, report)

    async def _settle_one(
        self,
        planned: PlannedOrder,
        request: OrderRequest,
        result: OrderAck | BatchOrderResult,
        report: ExecutionReport,
    ) -> None:
        error = getattr(result, "error", None)
        if error is not None or not result.order_id:
            await self._rejected([planned], str(error or "no order id"), report)
            return
        order = order_from_ack(request, result)
        await self.orders.mark_acknowledged(order, self.clock.now())
        report.placed.append(order)
        signals.order_placed.send(order, intent=planned.intent)

    async def _rejected(
        self, planned: Iterable[PlannedOrder], error: str, report: ExecutionReport
    ) -> None:
        for item in planned:
            await self.orders.mark_rejected(item.client_order_id, self.clock.now(), error)
            report.rejected.append((item, error))
            signals.order_rejected.send(item.intent, reason=error)

    async def _unknown(
        self, planned: Iterable[PlannedOrder], error: str, report: ExecutionReport
    ) -> None:
        for item in planned:
            await self.orders.mark_unknown(item.client_order_id, self.clock.now(), error)
            self.blocked[item.intent.ticker] = item.client_order_id
            report.unknown.append(item)
            signals.order_unknown.send(item.intent, client_order_id=item.client_order_id)
        log.warning("order outcome unknown, markets blocked until reconciled: %s", error)


def _chunks(items: Sequence[PlannedOrder], size: int) -> list[Sequence[PlannedOrder]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
