"""Positions, settlements, daily P&L, AI spend and the audit trail."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, delete, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from kalshi_core.models import MarketResult, Position, Settlement
from kalshi_core.money import Money
from kalshi_core.storage.records import AiSpend, AuditEvent, DailyPnl
from kalshi_core.storage.repositories._base import (
    Repository,
    insert_ignore,
    upsert,
    upsert_many,
)
from kalshi_core.storage.schema import (
    AiSpendRow,
    AuditEventRow,
    DailyPnlRow,
    PositionRow,
    SettlementRow,
)

ROWS_PER_STATEMENT = 500  # 7 columns each: under every backend's bind-parameter limit


def _chunks(rows: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def open_positions_query() -> Select[Any]:
    """Hot query: positions that are not flat. A literal 0 (not a bind parameter) lets both
    SQLite and PostgreSQL prove the partial index ``ix_positions_open`` applies."""
    return (
        select(PositionRow)
        .where(PositionRow.position != literal_column("0"))
        .order_by(PositionRow.ticker)
    )


def ai_spend_since_query(since: datetime) -> Select[Any]:
    """Hot query: AI spend since ``since``, answered from the covering index alone."""
    return select(func.coalesce(func.sum(AiSpendRow.cost), 0)).where(
        AiSpendRow.created_time >= since
    )


def _to_position(row: PositionRow) -> Position:
    return Position(
        ticker=row.ticker,
        position=row.position,
        market_exposure=row.market_exposure,
        total_traded=row.total_traded,
        realized_pnl=row.realized_pnl,
        fees_paid=row.fees_paid,
        last_updated_ts=row.last_updated_ts,
    )


class Positions(Repository):
    """Netted positions as last reconciled with the venue (the venue always wins)."""

    async def save(self, positions: Iterable[Position]) -> None:
        """Insert or replace each position (a flat one is kept with ``position == 0``)."""
        async with self._writing() as session:
            await self._save(session, positions)

    async def replace_all(self, positions: Iterable[Position]) -> None:
        """The venue's complete list: markets it no longer reports (settled, or traded on an
        exchange that is gone) are not open positions any more."""
        listed = list(positions)
        async with self._writing() as session:
            gone = delete(PositionRow).where(PositionRow.ticker.not_in([p.ticker for p in listed]))
            await session.execute(gone)
            await self._save(session, listed)

    @staticmethod
    async def _save(session: AsyncSession, positions: Iterable[Position]) -> None:
        rows = [
            {
                "ticker": p.ticker,
                "position": p.position,
                "market_exposure": p.market_exposure,
                "total_traded": p.total_traded,
                "realized_pnl": p.realized_pnl,
                "fees_paid": p.fees_paid,
                "last_updated_ts": p.last_updated_ts,
            }
            for p in positions
        ]
        for chunk in _chunks(rows, ROWS_PER_STATEMENT):  # bound the bind parameters
            await session.execute(upsert_many(session, PositionRow, chunk, ["ticker"]))

    async def get(self, ticker: str) -> Position | None:
        async with self._reading() as session:
            row = await session.get(PositionRow, ticker)
        return None if row is None else _to_position(row)

    async def open(self) -> list[Position]:
        """Every position that is not flat, by ticker."""
        async with self._reading() as session:
            rows = (await session.scalars(open_positions_query())).all()
        return [_to_position(r) for r in rows]


def _to_settlement(row: SettlementRow) -> Settlement:
    return Settlement(
        ticker=row.ticker,
        event_ticker=row.event_ticker,
        market_result=MarketResult(row.market_result),
        yes_count=row.yes_count,
        no_count=row.no_count,
        yes_total_cost=row.yes_total_cost,
        no_total_cost=row.no_total_cost,
        revenue=row.revenue,
        fee_cost=row.fee_cost,
        settled_time=row.settled_time,
    )


class Settlements(Repository):
    """Final results of markets we held; one per market, recorded once."""

    async def record(self, settlement: Settlement) -> bool:
        """Store ``settlement``; ``False`` (a no-op) when that market is already settled."""
        values = {
            "run_id": self.run_id,
            "ticker": settlement.ticker,
            "event_ticker": settlement.event_ticker,
            "market_result": str(settlement.market_result),
            "yes_count": settlement.yes_count,
            "no_count": settlement.no_count,
            "yes_total_cost": settlement.yes_total_cost,
            "no_total_cost": settlement.no_total_cost,
            "revenue": settlement.revenue,
            "fee_cost": settlement.fee_cost,
            "settled_time": settlement.settled_time,
        }
        async with self._writing() as session:
            statement = insert_ignore(session, SettlementRow, [values], ["run_id", "ticker"])
            inserted = await session.execute(statement.returning(SettlementRow.ticker))
            return inserted.first() is not None

    async def get(self, ticker: str) -> Settlement | None:
        async with self._reading() as session:
            row = await session.get(SettlementRow, (self.run_id, ticker))
        return None if row is None else _to_settlement(row)

    async def between(self, since: datetime, until: datetime) -> list[Settlement]:
        query = (
            select(SettlementRow)
            .where(SettlementRow.settled_time >= since, SettlementRow.settled_time < until)
            .order_by(SettlementRow.settled_time)
        )
        async with self._reading() as session:
            rows = (await session.scalars(query)).all()
        return [_to_settlement(r) for r in rows]


def _to_daily(row: DailyPnlRow) -> DailyPnl:
    return DailyPnl(
        day=row.day,
        realized_pnl=row.realized_pnl,
        unrealized_pnl=row.unrealized_pnl,
        fees=row.fees,
        ai_cost=row.ai_cost,
    )


class DailyPnls(Repository):
    """One P&L row per UTC day, overwritten as the day goes on."""

    async def save(self, pnl: DailyPnl, at: datetime) -> None:
        row = {
            "run_id": self.run_id,
            "day": pnl.day,
            "realized_pnl": pnl.realized_pnl,
            "unrealized_pnl": pnl.unrealized_pnl,
            "fees": pnl.fees,
            "ai_cost": pnl.ai_cost,
            "updated_time": at,
        }
        async with self._writing() as session:
            await session.execute(upsert(session, DailyPnlRow, row, ["run_id", "day"]))

    async def get(self, day: date) -> DailyPnl | None:
        async with self._reading() as session:
            row = await session.get(DailyPnlRow, (self.run_id, day))
        return None if row is None else _to_daily(row)

    async def between(self, first: date, last: date) -> list[DailyPnl]:
        """Days from ``first`` to ``last`` inclusive, oldest first."""
        query = (
            select(DailyPnlRow)
            .where(DailyPnlRow.run_id == self.run_id)
            .where(DailyPnlRow.day >= first, DailyPnlRow.day <= last)
            .order_by(DailyPnlRow.day)
        )
        async with self._reading() as session:
            rows = (await session.scalars(query)).all()
        return [_to_daily(r) for r in rows]


class AiSpends(Repository):
    """Money spent on model calls; the daily budget check reads :meth:`total_since`."""

    async def record(self, spend: AiSpend) -> None:
        row = AiSpendRow(
            run_id=self.run_id,
            created_time=spend.created_time,
            model=spend.model,
            purpose=spend.purpose,
            ticker=spend.ticker,
            input_tokens=spend.input_tokens,
            output_tokens=spend.output_tokens,
            cost=spend.cost,
        )
        async with self._writing() as session:
            session.add(row)

    async def total_since(self, since: datetime) -> Money:
        """Total cost of calls made at or after ``since`` (pass the start of today)."""
        async with self._reading() as session:
            return int((await session.scalar(ai_spend_since_query(since))) or 0)

    async def between(self, since: datetime, until: datetime) -> list[AiSpend]:
        query = (
            select(AiSpendRow)
            .where(AiSpendRow.created_time >= since, AiSpendRow.created_time < until)
            .order_by(AiSpendRow.created_time)
        )
        async with self._reading() as session:
            rows = (await session.scalars(query)).all()
        return [
            AiSpend(
                created_time=r.created_time,
                model=r.model,
                cost=r.cost,
                purpose=r.purpose,
                ticker=r.ticker,
                input_tokens=r.input_tokens,
                output_tokens=r.output_tokens,
            )
            for r in rows
        ]


class AuditEvents(Repository):
    """The audit trail: what happened, when, to which market."""

    async def record(self, event: AuditEvent) -> None:
        await self.record_many([event])

    async def record_many(self, events: Sequence[AuditEvent]) -> None:
        """Store ``events`` in order, in one transaction."""
        if not events:
            return
        async with self._writing() as session:
            session.add_all([self._row(event) for event in events])

    def _row(self, event: AuditEvent) -> AuditEventRow:
        return AuditEventRow(
            run_id=self.run_id,
            created_time=event.created_time,
            kind=event.kind,
            ticker=event.ticker,
            message=event.message,
            payload=json.dumps(event.payload, sort_keys=True, separators=(",", ":")),
        )

    async def between(
        self, since: datetime, until: datetime, kind: str | None = None
    ) -> list[AuditEvent]:
        query = select(AuditEventRow).where(
            AuditEventRow.created_time >= since, AuditEventRow.created_time < until
        )
        if kind is not None:
            query = query.where(AuditEventRow.kind == kind)
        async with self._reading() as session:
            rows = (await session.scalars(query.order_by(AuditEventRow.id))).all()
        return [
            AuditEvent(
                created_time=r.created_time,
                kind=r.kind,
                message=r.message,
                ticker=r.ticker,
                payload=json.loads(r.payload),
            )
            for r in rows
        ]
