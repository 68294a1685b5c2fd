"""Read-only views across runs for the web dashboard (``kalshi_core.dashboard``).

Every query takes an optional ``run_id``: ``None`` reads every run, which is how one dashboard
follows several workers trading on one PostgreSQL (each worker is a run of its own). Nothing
here writes; each call is one short read transaction, bounded by ``limit``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import attrs
from sqlalchemy import and_, func, select

from kalshi_core.storage.records import LIVE_STATES, AuditEvent, DailyPnl
from kalshi_core.storage.repositories._base import Repository
from kalshi_core.storage.schema import (
    AiSpendRow,
    AuditEventRow,
    DailyPnlRow,
    DecisionRow,
    FillRow,
    ForecastRow,
    MarketSnapshotRow,
    OrderRow,
    RunRow,
    VerdictRow,
)


@attrs.frozen(kw_only=True)
class RunLine:
    run_id: str
    venue: str
    started_time: datetime | None


@attrs.frozen(kw_only=True)
class OrderLine:
    run_id: str
    client_order_id: str
    ticker: str
    side: str
    action: str
    price: int
    count: int
    remaining_count: int
    state: str
    strategy: str
    created_time: datetime


@attrs.frozen(kw_only=True)
class FillLine:
    run_id: str
    fill_id: str
    ticker: str
    side: str
    action: str
    count: int
    price: int
    fee_cost: int
    created_time: datetime | None


@attrs.frozen(kw_only=True)
class VerdictLine:
    validator: str
    accepted: bool
    reason: str


@attrs.frozen(kw_only=True)
class DecisionLine:
    decision_id: str
    ticker: str
    created_time: datetime
    accepted: bool
    probability: int | None
    stderr: int | None
    model: str | None
    yes_bid: int | None
    yes_ask: int | None
    verdicts: tuple[VerdictLine, ...] = ()


@attrs.frozen(kw_only=True)
class ForecastLine:
    ticker: str
    model: str
    probability: int
    stderr: int | None
    created_time: datetime
    yes_bid: int | None
    yes_ask: int | None


def _scoped(query: Any, column: Any, run_id: str | None) -> Any:
    """``query`` limited to ``run_id``'s rows (``None``: every run's). Typed loosely: the
    queries here select several columns, which Select's variadic type cannot follow."""
    return query if run_id is None else query.where(column == run_id)


def _quote_at(ticker: Any, when: Any) -> Any:
    """The snapshot recorded with a decision or forecast: same market, same clock time."""
    return and_(MarketSnapshotRow.ticker == ticker, MarketSnapshotRow.captured_time == when)


class Overview(Repository):
    """What the dashboard shows, read in a few bounded queries."""

    async def runs(self, limit: int) -> list[RunLine]:
        query = select(RunRow).order_by(RunRow.started_time.desc(), RunRow.run_id.desc())
        async with self._sessions() as session:
            rows = (await session.scalars(query.limit(limit))).all()
        return [RunLine(run_id=r.run_id, venue=r.venue, started_time=r.started_time) for r in rows]

    async def resting_orders(self, run_id: str | None, limit: int) -> list[OrderLine]:
        query = select(OrderRow).where(OrderRow.state.in_([str(s) for s in LIVE_STATES]))
        query = _scoped(query, OrderRow.run_id, run_id).order_by(OrderRow.id.desc())
        async with self._sessions() as session:
            rows = (await session.scalars(query.limit(limit))).all()
        return [_order_line(r) for r in rows]

    async def order_count(self, run_id: str | None) -> int:
        query = _scoped(select(func.count()).select_from(OrderRow), OrderRow.run_id, run_id)
        async with self._sessions() as session:
            return int((await session.scalar(query)) or 0)

    async def recent_fills(self, run_id: str | None, limit: int) -> list[FillLine]:
        query = select(FillRow, OrderRow.action).outerjoin(
            OrderRow, OrderRow.order_id == FillRow.order_id
        )
        query = _scoped(query, FillRow.run_id, run_id)
        query = query.order_by(FillRow.created_time.desc(), FillRow.fill_id.desc())
        async with self._sessions() as session:
            rows = (await session.execute(query.limit(limit))).all()
        return [_fill_line(fill, action) for fill, action in rows]

    async def recent_decisions(self, run_id: str | None, limit: int) -> list[DecisionLine]:
        query = (
            select(
                DecisionRow,
                ForecastRow.probability,
                ForecastRow.stderr,
                ForecastRow.model,
                MarketSnapshotRow.yes_bid,
                MarketSnapshotRow.yes_ask,
            )
            .outerjoin(ForecastRow, ForecastRow.id == DecisionRow.forecast_id)
            .outerjoin(MarketSnapshotRow, _quote_at(DecisionRow.ticker, DecisionRow.created_time))
        )
        query = _scoped(query, DecisionRow.run_id, run_id)
        query = query.order_by(DecisionRow.created_time.desc(), DecisionRow.decision_id.desc())
        async with self._sessions() as session:
            rows = (await session.execute(query.limit(limit * 2))).all()
            lines = _unique_decisions(rows, limit)
            verdicts = await _verdicts(session, [line.decision_id for line in lines])
        return [attrs.evolve(line, verdicts=verdicts.get(line.decision_id, ())) for line in lines]

    async def recent_forecasts(self, limit: int) -> list[ForecastLine]:
        query = (
            select(ForecastRow, MarketSnapshotRow.yes_bid, MarketSnapshotRow.yes_ask)
            .outerjoin(MarketSnapshotRow, _quote_at(ForecastRow.ticker, ForecastRow.created_time))
            .order_by(ForecastRow.created_time.desc(), ForecastRow.id.desc())
        )
        async with self._sessions() as session:
            rows = (await session.execute(query.limit(limit * 2))).all()
        seen: dict[int, ForecastLine] = {}
        for row, bid, ask in rows:  # a quote recorded by two runs joins twice: keep one
            seen.setdefault(row.id, _forecast_line(row, bid, ask))
        return list(seen.values())[:limit]

    async def latest_spend_time(self, run_id: str | None) -> datetime | None:
        query = _scoped(select(AiSpendRow.created_time), AiSpendRow.run_id, run_id)
        async with self._sessions() as session:
            latest: datetime | None = await session.scalar(
                query.order_by(AiSpendRow.created_time.desc()).limit(1)
            )
        return latest

    async def spend_since(self, run_id: str | None, since: datetime) -> int:
        query = select(AiSpendRow.cost).where(AiSpendRow.created_time >= since)
        async with self._sessions() as session:
            costs = (await session.scalars(_scoped(query, AiSpendRow.run_id, run_id))).all()
        return sum(costs)

    async def audit_events(self, run_id: str | None, limit: int) -> list[AuditEvent]:
        query = _scoped(select(AuditEventRow), AuditEventRow.run_id, run_id)
        query = query.where(AuditEventRow.kind.not_in(QUIET_KINDS))
        query = query.order_by(AuditEventRow.id.desc()).limit(limit)
        async with self._sessions() as session:
            rows = (await session.scalars(query)).all()
        return [_audit_event(r) for r in rows]

    async def daily_pnl(self, run_id: str | None) -> list[DailyPnl]:
        """P&L per day, the runs' rows of one day added up (several workers: one book)."""
        query = _scoped(select(DailyPnlRow), DailyPnlRow.run_id, run_id)
        async with self._sessions() as session:
            rows = (await session.scalars(query.order_by(DailyPnlRow.day))).all()
        return _sum_days(rows)


#: Audit kinds too frequent for the dashboard's event list (the orders and fills tables show them).
QUIET_KINDS = ("order_placed", "order_filled", "order_canceled")


def _order_line(row: OrderRow) -> OrderLine:
    return OrderLine(
        run_id=row.run_id,
        client_order_id=row.client_order_id,
        ticker=row.ticker,
        side=row.side,
        action=row.action,
        price=row.price,
        count=row.count,
        remaining_count=row.remaining_count,
        state=row.state,
        strategy=row.strategy,
        created_time=row.created_time,
    )


def _fill_line(row: FillRow, action: str | None) -> FillLine:
    price = row.yes_price if row.outcome_side == "yes" else row.no_price
    return FillLine(
        run_id=row.run_id,
        fill_id=row.fill_id,
        ticker=row.ticker,
        side=row.outcome_side,
        action=action or "",
        count=row.count,
        price=price,
        fee_cost=row.fee_cost,
        created_time=row.created_time,
    )


def _unique_decisions(rows: Sequence[Any], limit: int) -> list[DecisionLine]:
    found: dict[str, DecisionLine] = {}
    for decision, probability, stderr, model, bid, ask in rows:
        found.setdefault(
            decision.decision_id,
            DecisionLine(
                decision_id=decision.decision_id,
                ticker=decision.ticker,
                created_time=decision.created_time,
                accepted=decision.accepted,
                probability=probability,
                stderr=stderr,
                model=model,
                yes_bid=bid,
                yes_ask=ask,
            ),
        )
    return list(found.values())[:limit]


async def _verdicts(session: Any, ids: Sequence[str]) -> dict[str, tuple[VerdictLine, ...]]:
    if not ids:
        return {}
    query = (
        select(VerdictRow)
        .where(VerdictRow.decision_id.in_(ids))
        .order_by(VerdictRow.decision_id, VerdictRow.position)
    )
    grouped: dict[str, list[VerdictLine]] = defaultdict(list)
    for row in (await session.scalars(query)).all():
        grouped[row.decision_id].append(
            VerdictLine(validator=row.validator, accepted=row.accepted, reason=row.reason)
        )
    return {key: tuple(lines) for key, lines in grouped.items()}


def _forecast_line(row: ForecastRow, bid: int | None, ask: int | None) -> ForecastLine:
    return ForecastLine(
        ticker=row.ticker,
        model=row.model,
        probability=row.probability,
        stderr=row.stderr,
        created_time=row.created_time,
        yes_bid=bid,
        yes_ask=ask,
    )


def _audit_event(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        created_time=row.created_time,
        kind=row.kind,
        message=row.message,
        ticker=row.ticker,
        payload=json.loads(row.payload),
    )


def _sum_days(rows: Sequence[DailyPnlRow]) -> list[DailyPnl]:
    days: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row in rows:
        total = days[row.day]
        total[0] += row.realized_pnl
        total[1] += row.unrealized_pnl
        total[2] += row.fees
        total[3] += row.ai_cost
    return [
        DailyPnl(day=day, realized_pnl=r, unrealized_pnl=u, fees=f, ai_cost=a)
        for day, (r, u, f, a) in sorted(days.items())
    ]
