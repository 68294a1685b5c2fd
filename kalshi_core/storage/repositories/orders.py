"""Orders (recorded before they are sent, idempotently) and fills (recorded once each)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kalshi_core.errors import StorageError
from kalshi_core.models import BookSide, Fill, Order, OrderIntent, OrderStatus, Side
from kalshi_core.storage.records import LIVE_STATES, OrderState, StoredOrder
from kalshi_core.storage.repositories._base import Repository, dump_json, insert_ignore, load_json
from kalshi_core.storage.repositories.decisions import intent_values, to_intent
from kalshi_core.storage.schema import FillRow, OrderRow

_STATE_OF_STATUS = {
    OrderStatus.RESTING: OrderState.RESTING,
    OrderStatus.EXECUTED: OrderState.EXECUTED,
    OrderStatus.CANCELED: OrderState.CANCELED,
}


def live_orders_query(ticker: str) -> Select[Any]:
    """Hot query: orders of ``ticker`` resting or possibly resting (``ix_orders_ticker_state``)."""
    states = [str(s) for s in LIVE_STATES]
    return (
        select(OrderRow)
        .where(OrderRow.ticker == ticker, OrderRow.state.in_(states))
        .order_by(OrderRow.id)
    )


def _to_stored(row: OrderRow) -> StoredOrder:
    exchange = None if row.exchange_payload is None else load_json(row.exchange_payload, Order)
    return StoredOrder(
        client_order_id=row.client_order_id,
        intent=to_intent(row),
        state=OrderState(row.state),
        created_time=row.created_time,
        updated_time=row.updated_time,
        decision_id=row.decision_id,
        order_id=row.order_id,
        fill_count=row.fill_count,
        remaining_count=row.remaining_count,
        error=row.error,
        exchange_order=exchange,
    )


class Orders(Repository):
    """Our orders. Record the intent *before* sending it; nothing here ever duplicates one.

    ``writes`` counts the state changes made through this object (not :meth:`touch`): a
    caller holding orders it read can tell whether it wrote any since."""

    writes: int = 0

    async def record_intent(
        self,
        client_order_id: str,
        intent: OrderIntent,
        at: datetime,
        decision_id: str | None = None,
    ) -> StoredOrder:
        """Record ``intent`` as ``pending_submit`` under ``client_order_id``.

        If that id is already recorded (a retry, a restart, another instance) nothing is
        written and the existing order is returned, whatever its state: the caller compares
        ``state`` before sending anything.
        """
        values = {
            "run_id": self.run_id,
            "client_order_id": client_order_id,
            "decision_id": decision_id,
            "state": str(OrderState.PENDING_SUBMIT),
            "order_id": None,
            "fill_count": 0,
            "remaining_count": intent.count,
            "error": "",
            "exchange_payload": None,
            "created_time": at,
            "updated_time": at,
            **intent_values(intent),
        }
        self.writes += 1
        async with self._writing() as session:
            statement = insert_ignore(session, OrderRow, [values], ["client_order_id"])
            await session.execute(statement)
            return await self._require(session, client_order_id)

    async def mark_acknowledged(self, order: Order, at: datetime) -> StoredOrder:
        """The exchange accepted (or later reported) ``order``: store its id, state and counts.

        Matched by ``order.client_order_id``; also used when reconciling with the venue, whose
        report always wins.
        """
        values = {
            "order_id": order.order_id,
            "state": str(_STATE_OF_STATUS[order.status]),
            "fill_count": order.fill_count,
            "remaining_count": order.remaining_count,
            "exchange_payload": dump_json(order),
            "error": "",
        }
        return await self._update(order.client_order_id, at, values)

    async def mark_unknown(self, client_order_id: str, at: datetime, error: str) -> StoredOrder:
        """A write's outcome is unknown: block the market until a lookup settles it.

        Only a still-pending order changes: the exchange's word, once stored, is never undone.
        """
        values = {"state": str(OrderState.PENDING_UNKNOWN), "error": error}
        return await self._update(client_order_id, at, values, only_pending=True)

    async def mark_rejected(self, client_order_id: str, at: datetime, error: str) -> StoredOrder:
        """The exchange (or risk) refused the order; it never reached the book.

        Only a still-pending order changes (another worker may have acknowledged it since).
        """
        values = {"state": str(OrderState.REJECTED), "error": error, "remaining_count": 0}
        return await self._update(client_order_id, at, values, only_pending=True)

    async def _update(
        self,
        client_order_id: str,
        at: datetime,
        values: dict[str, Any],
        *,
        only_pending: bool = False,
    ) -> StoredOrder:
        statement = (
            update(OrderRow)
            .where(OrderRow.client_order_id == client_order_id)
            .values(updated_time=at, **values)
        )
        if only_pending:
            pending = [str(OrderState.PENDING_SUBMIT), str(OrderState.PENDING_UNKNOWN)]
            statement = statement.where(OrderRow.state.in_(pending))
        self.writes += 1
        async with self._writing() as session:
            await session.execute(statement)
            return await self._require(session, client_order_id)

    async def touch(self, client_order_ids: Sequence[str], at: datetime) -> None:
        """Stamp ``updated_time`` on orders the venue reported again unchanged (one UPDATE)."""
        if not client_order_ids:
            return
        statement = (
            update(OrderRow)
            .where(OrderRow.client_order_id.in_(list(client_order_ids)))
            .values(updated_time=at)
        )
        async with self._writing() as session:
            await session.execute(statement, execution_options={"synchronize_session": False})

    @staticmethod
    async def _require(session: AsyncSession, client_order_id: str) -> StoredOrder:
        query = select(OrderRow).where(OrderRow.client_order_id == client_order_id)
        row = (await session.scalars(query)).one_or_none()
        if row is None:
            raise StorageError(f"no order recorded with client_order_id {client_order_id!r}")
        return _to_stored(row)

    async def get(self, client_order_id: str) -> StoredOrder | None:
        query = select(OrderRow).where(OrderRow.client_order_id == client_order_id)
        async with self._reading() as session:
            row = (await session.scalars(query)).one_or_none()
        return None if row is None else _to_stored(row)

    async def live_for_market(self, ticker: str) -> list[StoredOrder]:
        """Orders of ``ticker`` that rest or may rest on the book (pending ones included)."""
        async with self._reading() as session:
            rows = (await session.scalars(live_orders_query(ticker))).all()
        return [_to_stored(r) for r in rows]

    async def in_states(
        self, states: Iterable[OrderState], run_id: str | None = None
    ) -> list[StoredOrder]:
        """Every order in any of ``states`` (of run ``run_id`` only, when given), oldest
        first (one query)."""
        wanted = [str(state) for state in states]
        query = select(OrderRow).where(OrderRow.state.in_(wanted)).order_by(OrderRow.id)
        if run_id is not None:
            query = query.where(OrderRow.run_id == run_id)
        async with self._reading() as session:
            rows = (await session.scalars(query)).all()
        return [_to_stored(r) for r in rows]

    async def in_state(self, state: OrderState) -> list[StoredOrder]:
        """Every order in ``state`` (e.g. ``pending_unknown`` to resolve at start-up)."""
        query = select(OrderRow).where(OrderRow.state == str(state)).order_by(OrderRow.id)
        async with self._reading() as session:
            rows = (await session.scalars(query)).all()
        return [_to_stored(r) for r in rows]

    async def mark_gone(self, client_order_id: str, at: datetime, error: str) -> StoredOrder:
        """A resting order the venue no longer knows (its exchange is gone, or it aged out of
        the venue's records): it can never fill again, so it is final as canceled."""
        values = {"state": str(OrderState.CANCELED), "error": error, "remaining_count": 0}
        return await self._update(client_order_id, at, values)

    async def count(self) -> int:
        async with self._reading() as session:
            return int((await session.scalar(select(func.count()).select_from(OrderRow))) or 0)


def _to_fill(row: FillRow) -> Fill:
    return Fill(
        fill_id=row.fill_id,
        order_id=row.order_id,
        ticker=row.ticker,
        outcome_side=Side(row.outcome_side),
        book_side=BookSide(row.book_side),
        count=row.count,
        yes_price=row.yes_price,
        no_price=row.no_price,
        is_taker=row.is_taker,
        fee_cost=row.fee_cost,
        created_time=row.created_time,
        client_order_id=row.client_order_id,
    )


class Fills(Repository):
    """Executions of our orders, keyed by the exchange's ``fill_id``."""

    async def record(self, fill: Fill) -> bool:
        """Store ``fill``; ``False`` (a no-op) when that ``fill_id`` is already stored."""
        values = {
            "run_id": self.run_id,
            "fill_id": fill.fill_id,
            "order_id": fill.order_id,
            "client_order_id": fill.client_order_id,
            "ticker": fill.ticker,
            "outcome_side": str(fill.outcome_side),
            "book_side": str(fill.book_side),
            "count": fill.count,
            "yes_price": fill.yes_price,
            "no_price": fill.no_price,
            "is_taker": fill.is_taker,
            "fee_cost": fill.fee_cost,
            "created_time": fill.created_time,
        }
        async with self._writing() as session:
            statement = insert_ignore(session, FillRow, [values], ["fill_id"])
            inserted = await session.execute(statement.returning(FillRow.fill_id))
            return inserted.first() is not None

    async def for_order(self, order_id: str) -> list[Fill]:
        query = select(FillRow).where(FillRow.order_id == order_id).order_by(FillRow.created_time)
        async with self._reading() as session:
            rows = (await session.scalars(query)).all()
        return [_to_fill(r) for r in rows]

    async def for_market(self, ticker: str, since: datetime | None = None) -> list[Fill]:
        query = select(FillRow).where(FillRow.ticker == ticker)
        if since is not None:
            query = query.where(FillRow.created_time >= since)
        async with self._reading() as session:
            rows = (await session.scalars(query.order_by(FillRow.created_time))).all()
        return [_to_fill(r) for r in rows]
