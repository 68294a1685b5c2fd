"""What each part of the dashboard shows, read from the database and (under ``run``) the engine.

:func:`gather` returns one :class:`View`; the templates render its parts. Money stays integer
money units here; the templates' filters format it at the edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from fractions import Fraction
from typing import Any

import attrs

from kalshi_core.backtest import svg
from kalshi_core.dashboard.live import EngineLink
from kalshi_core.dashboard.settings import DashboardOptions
from kalshi_core.engine.explain import edge_sample, threshold_from
from kalshi_core.models import Forecast, Position
from kalshi_core.money import format_dollars
from kalshi_core.storage.database import Database
from kalshi_core.storage.records import AuditEvent
from kalshi_core.storage.repositories import DecisionFacts
from kalshi_core.storage.repositories.overview import (
    DecisionLine,
    FillLine,
    ForecastLine,
    OrderLine,
    Overview,
    RunLine,
)


@attrs.frozen(kw_only=True)
class DecisionView:
    line: DecisionLine
    edge: Fraction | None  # best side's edge after the taker fee, money units per contract
    required: Fraction | None  # min_edge + k x stderr; None: unproven (no stderr)


@attrs.frozen(kw_only=True)
class Status:
    attached: bool
    level: str = "running"
    reason: str = ""
    cycles: int = 0
    clock: datetime | None = None
    readiness: dict[str, str] = attrs.field(factory=dict)
    cash: int | None = None
    equity: int | None = None


@attrs.frozen(kw_only=True)
class View:
    run_id: str | None
    runs: Sequence[RunLine]
    status: Status
    positions: Sequence[tuple[Position, int]]  # position, its exposure (resting orders too)
    resting: Sequence[OrderLine]
    fills: Sequence[FillLine]
    order_count: int
    chart: str
    decisions: Sequence[DecisionView]
    forecasts: Sequence[ForecastLine]
    spend: int
    budget: int
    events: Sequence[AuditEvent]
    alerts: Sequence[Any]
    min_edge: int


async def gather(
    database: Database, options: DashboardOptions, link: EngineLink | None, run_id: str | None
) -> View:
    overview = Overview(database.sessions)
    rows = options.rows
    min_edge, _ = threshold_from(options.min_edge)
    return View(
        run_id=run_id,
        runs=await overview.runs(20),
        status=await _status(link),
        positions=await _positions(database, link),
        resting=await overview.resting_orders(run_id, rows),
        fills=await overview.recent_fills(run_id, rows),
        order_count=await overview.order_count(run_id),
        chart=await _chart(overview, link, run_id),
        decisions=_decisions(await overview.recent_decisions(run_id, rows), options),
        forecasts=await overview.recent_forecasts(rows),
        spend=await _spend_today(overview, run_id),
        budget=options.model_budget,
        events=await overview.audit_events(run_id, rows),
        alerts=list(link.feed.alerts) if link else [],
        min_edge=min_edge,
    )


async def _status(link: EngineLink | None) -> Status:
    if link is None:
        return Status(attached=False)
    readiness = await link.health.readiness()
    portfolio = link.feed.portfolio
    return Status(
        attached=True,
        level=link.stops.level,
        reason=link.stops.reason,
        cycles=link.feed.cycles,
        clock=link.clock.now(),
        readiness=dict(readiness.failures),
        cash=portfolio.cash if portfolio else None,
        equity=portfolio.value + portfolio.unrealized_pnl if portfolio else None,
    )


async def _positions(database: Database, link: EngineLink | None) -> list[tuple[Position, int]]:
    """The engine's last reconciled portfolio under ``run``, else the stored positions."""
    portfolio = link.feed.portfolio if link else None
    if portfolio is not None:
        held = [p for p in portfolio.positions.values() if p.position != 0]
        return [(p, portfolio.exposure(p.ticker)) for p in sorted(held, key=lambda p: p.ticker)]
    return [(p, p.market_exposure) for p in await database.positions.open()]


async def _chart(overview: Overview, link: EngineLink | None, run_id: str | None) -> str:
    """Equity at each cycle under ``run``; else P&L by day from the stored daily rows."""
    if link is not None and link.feed.points:
        points = [(p.at.timestamp(), p.equity / 10_000) for p in link.feed.points]
        first, last = link.feed.points[0].at, link.feed.points[-1].at
        return _line("Equity (cash + positions at marks), $", points, first, last)
    days = await overview.daily_pnl(run_id)
    total, points = 0, []
    for day in days:
        total += day.realized_pnl + day.unrealized_pnl - day.fees - day.ai_cost
        points.append((datetime.combine(day.day, time()).timestamp(), total / 10_000))
    if not days:
        return svg.line_chart("P&L: nothing stored yet", [], y_format=str, x_labels=("", ""))
    start, end = (datetime.combine(d.day, time()) for d in (days[0], days[-1]))
    return _line("Cumulative P&L by day (all stored runs), $", points, start, end)


def _line(title: str, points: list[tuple[float, float]], first: datetime, last: datetime) -> str:
    labels = (f"{first:%Y-%m-%d %H:%M}", f"{last:%Y-%m-%d %H:%M}")
    return svg.line_chart(title, points, y_format="{:,.2f}".format, x_labels=labels, step=False)


def _decisions(lines: Sequence[DecisionLine], options: DashboardOptions) -> list[DecisionView]:
    min_edge, rule = threshold_from(options.min_edge)
    views = []
    for line in lines:
        sample = edge_sample(_facts(line), min_edge, rule)
        views.append(
            DecisionView(
                line=line,
                edge=sample.edge if sample else None,
                required=sample.required if sample else None,
            )
        )
    return views


def _facts(line: DecisionLine) -> DecisionFacts:
    forecast = None
    if line.probability is not None:
        forecast = Forecast(
            ticker=line.ticker,
            probability=line.probability,
            model=line.model or "",
            created_time=line.created_time,
            stderr=line.stderr,
        )
    return DecisionFacts(
        decision_id=line.decision_id,
        ticker=line.ticker,
        intents=0,
        rejection=None,
        forecast=forecast,
        yes_bid=line.yes_bid,
        yes_ask=line.yes_ask,
    )


async def _spend_today(overview: Overview, run_id: str | None) -> int:
    """Model spend on the day of the latest spend (recorded time in a replay, not the wall's)."""
    latest = await overview.latest_spend_time(run_id)
    if latest is None:
        return 0
    start = latest.replace(hour=0, minute=0, second=0, microsecond=0)
    return await overview.spend_since(run_id, start)


def money_text(amount: int | None) -> str:
    return "-" if amount is None else f"${format_dollars(amount)}"
