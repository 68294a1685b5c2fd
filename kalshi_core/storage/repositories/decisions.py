"""Market snapshots, forecasts and decisions (with every verdict and intent)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import attrs
from sqlalchemy import Select, Table, and_, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from kalshi_core.models import (
    Action,
    Decision,
    Forecast,
    Market,
    OrderIntent,
    Side,
    TimeInForce,
    Verdict,
)
from kalshi_core.storage.records import MarketSnapshot
from kalshi_core.storage.repositories._base import (
    Repository,
    dump_json,
    insert_ignore_each,
    load_json,
)
from kalshi_core.storage.schema import (
    DecisionRow,
    ForecastRow,
    MarketSnapshotRow,
    OrderIntentRow,
    VerdictRow,
)


def _snapshot_values(market: Market, captured_time: datetime) -> dict[str, object]:
    return {
        "ticker": market.ticker,
        "event_ticker": market.event_ticker,
        "status": str(market.status),
        "captured_time": captured_time,
        "yes_bid": market.yes_bid,
        "yes_ask": market.yes_ask,
        "last_price": market.last_price,
        "volume": market.volume,
        "open_interest": market.open_interest,
        "payload": dump_json(market),
    }


class MarketSnapshots(Repository):
    """Quotes as seen by the engine, for replay and post-mortems."""

    async def record(self, market: Market, captured_time: datetime) -> None:
        await self.record_many([market], captured_time)

    async def record_many(self, markets: Sequence[Market], captured_time: datetime) -> None:
        """Snapshot ``markets`` as of ``captured_time`` in one transaction."""
        if not markets:
            return
        rows = [_snapshot_values(m, captured_time) for m in markets]
        async with self._writing() as session:
            # a Core executemany on the session's connection: no ORM object per row
            connection = await session.connection()
            await connection.execute(insert(cast(Table, MarketSnapshotRow.__table__)), rows)

    async def latest(self, ticker: str) -> MarketSnapshot | None:
        query = (
            select(MarketSnapshotRow)
            .where(MarketSnapshotRow.ticker == ticker)
            .order_by(MarketSnapshotRow.captured_time.desc())
            .limit(1)
        )
        found = await self._snapshots(query)
        return found[0] if found else None

    async def history(self, ticker: str, since: datetime, until: datetime) -> list[MarketSnapshot]:
        """Snapshots of ``ticker`` with ``since <= captured_time < until``, oldest first."""
        query = (
            select(MarketSnapshotRow)
            .where(
                MarketSnapshotRow.ticker == ticker,
                MarketSnapshotRow.captured_time >= since,
                MarketSnapshotRow.captured_time < until,
            )
            .order_by(MarketSnapshotRow.captured_time)
        )
        return await self._snapshots(query)

    async def _snapshots(self, query: Select[Any]) -> list[MarketSnapshot]:
        async with self._reading() as session:
            rows = (await session.scalars(query)).all()
        return [
            MarketSnapshot(market=load_json(r.payload, Market), captured_time=r.captured_time)
            for r in rows
        ]


def forecast_values(forecast: Forecast) -> dict[str, Any]:
    return {
        "ticker": forecast.ticker,
        "model": forecast.model,
        "probability": forecast.probability,
        "confidence": forecast.confidence,
        "stderr": forecast.stderr,
        "reasoning": forecast.reasoning,
        "prompt_hash": forecast.prompt_hash,
        "input_tokens": forecast.input_tokens,
        "output_tokens": forecast.output_tokens,
        "cost": forecast.cost,
        "created_time": forecast.created_time,
    }


def forecast_row(forecast: Forecast) -> ForecastRow:
    return ForecastRow(**forecast_values(forecast))


def to_forecast(row: ForecastRow) -> Forecast:
    return Forecast(
        ticker=row.ticker,
        probability=row.probability,
        model=row.model,
        created_time=row.created_time,
        confidence=row.confidence,
        stderr=row.stderr,
        reasoning=row.reasoning,
        prompt_hash=row.prompt_hash,
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        cost=row.cost,
    )


class Forecasts(Repository):
    """Every forecast with its model, prompt hash, token counts and cost."""

    async def record(self, forecast: Forecast) -> int:
        """Store ``forecast``; returns its id."""
        row = forecast_row(forecast)
        async with self._writing() as session:
            session.add(row)
            await session.flush()
            return row.id

    async def for_market(self, ticker: str, since: datetime | None = None) -> list[Forecast]:
        """Forecasts of ``ticker`` (optionally from ``since``), oldest first."""
        query = select(ForecastRow).where(ForecastRow.ticker == ticker)
        if since is not None:
            query = query.where(ForecastRow.created_time >= since)
        async with self._reading() as session:
            rows = (await session.scalars(query.order_by(ForecastRow.created_time))).all()
        return [to_forecast(r) for r in rows]


def intent_values(intent: OrderIntent) -> dict[str, Any]:
    """The columns an order intent shares between ``order_intents`` and ``orders``."""
    return {
        "ticker": intent.ticker,
        "side": str(intent.side),
        "action": str(intent.action),
        "price": intent.price,
        "count": intent.count,
        "strategy": intent.strategy,
        "time_in_force": str(intent.time_in_force),
        "post_only": intent.post_only,
        "reduce_only": intent.reduce_only,
        "reason": intent.reason,
        "expected_value": intent.expected_value,
    }


def to_intent(row: Any) -> OrderIntent:
    """An OrderIntent from any row carrying the :func:`intent_values` columns."""
    return OrderIntent(
        ticker=row.ticker,
        side=Side(row.side),
        action=Action(row.action),
        price=row.price,
        count=row.count,
        strategy=row.strategy,
        time_in_force=TimeInForce(row.time_in_force),
        post_only=row.post_only,
        reduce_only=row.reduce_only,
        reason=row.reason,
        expected_value=row.expected_value,
    )


def decisions_query(
    ticker: str, since: datetime, until: datetime, limit: int | None = None
) -> Select[Any]:
    """Hot query: decisions on a market in a time window (``ix_decisions_ticker_created``)."""
    return (
        select(DecisionRow)
        .where(
            DecisionRow.ticker == ticker,
            DecisionRow.created_time >= since,
            DecisionRow.created_time < until,
        )
        .order_by(DecisionRow.created_time.desc())
        .limit(limit)
    )


def _decision_values(decision: Decision, forecast_id: int | None) -> dict[str, object]:
    return {
        "decision_id": decision.decision_id,
        "ticker": decision.ticker,
        "created_time": decision.created_time,
        "accepted": decision.accepted,
        "forecast_id": forecast_id,
    }


async def _insert_children(session: AsyncSession, decisions: Sequence[Decision]) -> None:
    """Verdicts and intents of many decisions as two executemany INSERTs."""
    verdicts = [
        {
            "decision_id": d.decision_id,
            "position": i,
            "validator": v.validator,
            "accepted": v.accepted,
            "reason": v.reason,
        }
        for d in decisions
        for i, v in enumerate(d.verdicts)
    ]
    intents = [
        {"decision_id": d.decision_id, "position": i, **intent_values(intent)}
        for d in decisions
        for i, intent in enumerate(d.intents)
    ]
    # Core inserts on the session's connection: the ORM's bulk path costs ~10x as much here.
    connection = await session.connection()
    if verdicts:
        await connection.execute(insert(cast(Table, VerdictRow.__table__)), verdicts)
    if intents:
        await connection.execute(insert(cast(Table, OrderIntentRow.__table__)), intents)


class Decisions(Repository):
    """Pipeline decisions with every validator's verdict, the forecast and the intents."""

    async def record(self, decision: Decision) -> bool:
        """Store ``decision``; ``False`` (and nothing written) if its id is already stored."""
        return await self.record_many([decision]) == 1

    async def record_many(self, decisions: Sequence[Decision]) -> int:
        """Store many decisions in one transaction; those already stored are skipped.
        Returns how many were new. (One cycle over thousands of markets stores them at once.)"""
        if not decisions:
            return 0
        async with self._writing() as session:
            ids = [d.decision_id for d in decisions]
            query = select(DecisionRow.decision_id).where(DecisionRow.decision_id.in_(ids))
            stored = set((await session.scalars(query)).all())
            decisions = [d for d in decisions if d.decision_id not in stored]
            forecast_ids = await self._insert_forecasts(session, decisions)
            rows = [
                {**_decision_values(d, forecast_ids.get(d.decision_id)), "run_id": self.run_id}
                for d in decisions
            ]
            if not rows:
                return 0
            statement = insert_ignore_each(session, DecisionRow, ["decision_id"])
            connection = await session.connection()
            returned = await connection.execute(statement.returning(DecisionRow.decision_id), rows)
            new_ids = set(returned.scalars().all())
            fresh = [d for d in decisions if d.decision_id in new_ids]
            await _insert_children(session, fresh)
        return len(fresh)

    @staticmethod
    async def _insert_forecasts(
        session: AsyncSession, decisions: Sequence[Decision]
    ) -> dict[str, int]:
        """One multi-row INSERT ... RETURNING for every forecast (ids in input order)."""
        with_forecast = [d for d in decisions if d.forecast is not None]
        if not with_forecast:
            return {}
        rows = [forecast_values(d.forecast) for d in with_forecast if d.forecast is not None]
        table = cast(Table, ForecastRow.__table__)
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        connection = await session.connection()
        ids = (await connection.execute(statement, rows)).scalars().all()
        return dict(zip((d.decision_id for d in with_forecast), ids, strict=True))

    async def get(self, decision_id: str) -> Decision | None:
        query = select(DecisionRow).where(DecisionRow.decision_id == decision_id)
        found = await self._decisions(query)
        return found[0] if found else None

    async def for_market(
        self, ticker: str, since: datetime, until: datetime, limit: int | None = None
    ) -> list[Decision]:
        """Decisions on ``ticker`` with ``since <= created_time < until``, newest first."""
        return await self._decisions(decisions_query(ticker, since, until, limit))

    async def _decisions(self, query: Select[Any]) -> list[Decision]:
        async with self._reading() as session:
            rows = (await session.scalars(query)).all()
            ids = [r.decision_id for r in rows]
            verdicts = await _grouped(session, VerdictRow, ids)
            intents = await _grouped(session, OrderIntentRow, ids)
            forecast_ids = [r.forecast_id for r in rows if r.forecast_id is not None]
            forecasts = await _forecasts(session, forecast_ids)
        return [
            Decision(
                decision_id=r.decision_id,
                ticker=r.ticker,
                created_time=r.created_time,
                verdicts=tuple(_verdict(v) for v in verdicts[r.decision_id]),
                forecast=forecasts.get(r.forecast_id) if r.forecast_id is not None else None,
                intents=tuple(to_intent(i) for i in intents[r.decision_id]),
            )
            for r in rows
        ]


def _verdict(row: Any) -> Verdict:
    return Verdict(validator=row.validator, accepted=row.accepted, reason=row.reason)


async def _grouped(session: AsyncSession, model: Any, ids: Sequence[str]) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = defaultdict(list)
    if not ids:
        return groups
    query = select(model).where(model.decision_id.in_(ids)).order_by(model.position)
    for row in (await session.scalars(query)).all():
        groups[row.decision_id].append(row)
    return groups


async def _forecasts(session: AsyncSession, ids: Sequence[int]) -> dict[int, Forecast]:
    if not ids:
        return {}
    rows = (await session.scalars(select(ForecastRow).where(ForecastRow.id.in_(ids)))).all()
    return {r.id: to_forecast(r) for r in rows}


@attrs.frozen(kw_only=True)
class DecisionFacts:
    """What the explanation of one stored decision needs: its first rejecting verdict, how
    many intents it kept, its forecast and the quote the forecast saw (when recorded)."""

    decision_id: str
    ticker: str
    intents: int
    rejection: Verdict | None
    forecast: Forecast | None
    yes_bid: int | None = None
    yes_ask: int | None = None


def _first_rejections(rows: Sequence[Any]) -> dict[str, Verdict]:
    first: dict[str, Verdict] = {}
    for row in rows:
        first.setdefault(row.decision_id, _verdict(row))
    return first


class RunDecisions(Repository):
    """Read-only view of one run's decisions, for ``kalshi-core decisions`` and the report."""

    async def latest_run_id(self) -> str | None:
        """The run that stored the newest verdict (insertion order, not any clock)."""
        query = (
            select(DecisionRow.run_id)
            .join(VerdictRow, VerdictRow.decision_id == DecisionRow.decision_id)
            .order_by(VerdictRow.id.desc())
            .limit(1)
        )
        async with self._sessions() as session:
            return (await session.scalars(query)).first()

    async def facts(self, run_id: str) -> list[DecisionFacts]:
        """Every stored decision of ``run_id``, in id order."""
        async with self._sessions() as session:
            decided = (await session.execute(_run_decisions_query(run_id))).all()
            rejected = (await session.execute(_rejections_query(run_id))).all()
            counts = {d: n for d, n in (await session.execute(_intent_counts_query(run_id))).all()}
        first = _first_rejections(rejected)
        facts: dict[str, DecisionFacts] = {}
        for row in decided:  # a quote recorded twice (two runs, one history) counts once
            facts.setdefault(row.decision_id, _facts(row, first, counts))
        return list(facts.values())


def _facts(row: Any, first: dict[str, Verdict], counts: dict[str, int]) -> DecisionFacts:
    forecast = None
    if row.probability is not None:
        forecast = Forecast(
            ticker=row.ticker,
            probability=row.probability,
            model=row.model,
            created_time=row.created_time,
            stderr=row.stderr,
        )
    return DecisionFacts(
        decision_id=row.decision_id,
        ticker=row.ticker,
        intents=counts.get(row.decision_id, 0),
        rejection=first.get(row.decision_id),
        forecast=forecast,
        yes_bid=row.yes_bid,
        yes_ask=row.yes_ask,
    )


def _run_decisions_query(run_id: str) -> Select[*tuple[Any, ...]]:
    snapshot = and_(
        MarketSnapshotRow.ticker == DecisionRow.ticker,
        MarketSnapshotRow.captured_time == DecisionRow.created_time,
    )
    return (
        select(
            DecisionRow.decision_id,
            DecisionRow.ticker,
            DecisionRow.created_time,
            ForecastRow.probability,
            ForecastRow.stderr,
            ForecastRow.model,
            MarketSnapshotRow.yes_bid,
            MarketSnapshotRow.yes_ask,
        )
        .outerjoin(ForecastRow, ForecastRow.id == DecisionRow.forecast_id)
        .outerjoin(MarketSnapshotRow, snapshot)
        .where(DecisionRow.run_id == run_id)
        .order_by(DecisionRow.decision_id)
    )


def _rejections_query(run_id: str) -> Select[*tuple[Any, ...]]:
    return (
        select(VerdictRow.decision_id, VerdictRow.validator, VerdictRow.accepted, VerdictRow.reason)
        .join(DecisionRow, DecisionRow.decision_id == VerdictRow.decision_id)
        .where(DecisionRow.run_id == run_id, VerdictRow.accepted.is_(False))
        .order_by(VerdictRow.decision_id, VerdictRow.position)
    )


def _intent_counts_query(run_id: str) -> Select[*tuple[Any, ...]]:
    return (
        select(OrderIntentRow.decision_id, func.count())
        .join(DecisionRow, DecisionRow.decision_id == OrderIntentRow.decision_id)
        .where(DecisionRow.run_id == run_id)
        .group_by(OrderIntentRow.decision_id)
    )
