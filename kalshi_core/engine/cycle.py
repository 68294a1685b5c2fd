"""The trading cycle: reconcile -> ingest -> pipeline per market -> allocate -> risk ->
execute -> store -> signals.

Markets are decided concurrently (bounded by a semaphore) because forecasters wait on I/O;
everything that changes money runs sequentially in one place afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

import attrs

from kalshi_core import signals
from kalshi_core.clock import Clock
from kalshi_core.engine import ids
from kalshi_core.engine.audit import AuditTrail
from kalshi_core.engine.execution import ExecutionReport, Executor, PlannedOrder
from kalshi_core.engine.market_data import MarketData
from kalshi_core.engine.ownership import describe_owners, free_dead_owners
from kalshi_core.engine.pipeline import MarketDecision, Pipeline
from kalshi_core.engine.portfolio import AllocationLimits, Candidate, allocate
from kalshi_core.engine.quotes import plan_quotes
from kalshi_core.engine.reconcile import Reconciler, ReconcileResult
from kalshi_core.engine.risk import RiskManager, RiskResult
from kalshi_core.fees import FeeSchedule
from kalshi_core.gateway import Gateway
from kalshi_core.models import Fill, Market, OrderIntent, Position, Series
from kalshi_core.money import Money
from kalshi_core.protocols import AnalysisRecord, PipelineContext, Portfolio
from kalshi_core.storage.database import Database
from kalshi_core.storage.records import AiSpend, DailyPnl

log = logging.getLogger(__name__)


class StopGate(Protocol):
    """Graded stops the engine obeys each cycle (``kalshi_core.monitoring.stops``)."""

    @property
    def cancels_resting(self) -> bool: ...

    @property
    def flattens(self) -> bool: ...

    @property
    def stops(self) -> bool: ...

    def admit(self, intents: Iterable[OrderIntent]) -> Sequence[OrderIntent]: ...

    def flatten_intents(
        self, positions: Mapping[str, Position], markets: Mapping[str, Market]
    ) -> Sequence[OrderIntent]: ...


@attrs.frozen(kw_only=True)
class CycleReport:
    """What one cycle saw and did (the live summary and the session report read this)."""

    number: int
    markets: int
    candidates: int
    forecasts: int
    intents: int
    approved: int
    placed: int
    rejected: int
    unknown: int
    fills: int
    portfolio: Portfolio
    kill_switch: bool
    leased_elsewhere: int = 0  # markets skipped: other live workers hold their leases


@attrs.define
class Engine:
    """One engine for backtest, paper and live: only the gateway and clock differ."""

    gateway: Gateway
    database: Database
    clock: Clock
    pipeline: Pipeline
    risk: RiskManager
    allocation: AllocationLimits
    run_id: str
    worker_id: str = "worker-1"
    max_concurrency: int = 32
    max_markets: int = 0  # 0: lease every open market
    # another run may trade this venue's account (live, a served exchange): markets are
    # leased in the database and others' stored orders may be this venue's. Off for a venue
    # in this process: no lease, and only this run's stored orders are reconciled.
    shared_venue: bool = True
    leased_elsewhere: dict[str, int] = attrs.field(factory=dict)  # live owner: markets held
    rearm_daily: bool = True  # a tripped daily-loss kill switch re-arms on the next day
    stops: StopGate | None = None  # graded stops (monitoring's StopController), if any
    market_data: MarketData | None = None  # streamed books (run.market_data = "stream")
    owned: frozenset[str] = frozenset()
    executor: Executor = attrs.field(init=False)
    audit: AuditTrail = attrs.field(init=False)
    reconciler: Reconciler = attrs.field(init=False)
    last_analysis: dict[str, AnalysisRecord] = attrs.field(factory=dict)
    _last_reason: dict[str, str] = attrs.field(factory=dict)
    cycles: int = 0

    _spend: list[AiSpend] = attrs.field(factory=list)
    _shuffle: random.Random = attrs.field(init=False)
    _day: date | None = None
    _day_start: Money = 0
    _last_value: Money = 0
    _day_fees: Money = 0
    _series: dict[str, Series | None] = attrs.field(factory=dict)
    _saved_pnl: DailyPnl | None = None
    _pnl_due: tuple[DailyPnl, datetime] | None = None  # stored with the cycle's other rows
    _spent_day: tuple[date, Money] | None = None  # today's AI spend, as stored
    _listed: list[Market] = attrs.field(factory=list)
    _decided_at: datetime | None = None

    def __attrs_post_init__(self) -> None:
        self.executor = Executor(self.gateway, self.database.orders, self.clock)
        self.reconciler = Reconciler(self.gateway, self.database, self.executor, self.clock)
        self.reconciler.only_run = None if self.shared_venue else self.run_id
        signals.ai_spend.connect(self._on_spend)  # weak: goes away with the engine
        self.audit = AuditTrail(self.database.audit, self.clock)
        self._shuffle = random.Random(self.worker_id)  # a claiming order, not a secret

    def _on_spend(self, sender: object, **call: Any) -> None:
        """Buffer each model call's cost; stored at the end of the cycle that made it."""
        self._spend.append(
            AiSpend(
                created_time=self.clock.now(),
                model=str(call.get("model", "")),
                cost=int(call.get("cost", 0)),
                ticker=call.get("ticker"),
                input_tokens=int(call.get("input_tokens", 0)),
                output_tokens=int(call.get("output_tokens", 0)),
            )
        )

    def _with_day_start(
        self, portfolio: Portfolio, spent: Money, fills: Sequence[Fill] = ()
    ) -> Portfolio:
        """Stamp the start-of-day value the daily-loss kill switch measures from, and keep this
        run's P&L row for the day current. A day starts where the previous one ended, so the
        days of a run add up to the run's P&L."""
        today = self.clock.now().date()
        if today != self._day:
            if self._day is not None and self.rearm_daily and self.risk.kill_switch_tripped:
                log.warning("new day %s: the daily-loss kill switch re-arms", today)
                self.risk.reset()
            first = self._day is None
            self._day, self._day_fees = today, 0
            self._day_start = portfolio.value if first else self._last_value
        self._day_fees += sum(fill.fee_cost for fill in fills)
        self._last_value = portfolio.value
        pnl = DailyPnl(
            day=today,
            realized_pnl=portfolio.value - self._day_start,
            fees=self._day_fees,
            ai_cost=spent,
        )
        self._pnl_due = None if pnl == self._saved_pnl else (pnl, self.clock.now())
        return attrs.evolve(portfolio, start_of_day_value=self._day_start)

    async def _store_pnl(self) -> None:
        """The daily P&L row, when it changed since the last one stored."""
        if self._pnl_due is not None:
            pnl, at = self._pnl_due
            await self.database.daily_pnl.save(pnl, at)
            self._saved_pnl, self._pnl_due = pnl, None

    async def _spent_today(self) -> int:
        """Today's AI spend: read from the database on the first cycle of a day (and after an
        error), then kept up to date with what this engine stores (:meth:`_store_spend`)."""
        today = self.clock.now().date()
        if self._spent_day is None or self._spent_day[0] != today:
            now = self.clock.now()
            midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
            self._spent_day = (today, await self.database.ai_spend.total_since(midnight))
        return self._spent_day[1]

    async def _store_cycle(self, decisions: Sequence[MarketDecision]) -> None:
        """What the cycle stores, in the caller's unit: reconcile's deferred rows, the daily
        P&L, decisions and forecasts, AI spend and audit events."""
        await self.reconciler.store_deferred()
        await self._store_pnl()
        await self._store(decisions)
        await self._store_spend()
        await self.audit.flush()

    async def react(self, moved: Collection[str]) -> CycleReport | None:
        """Between cycles, on streamed updates: a cycle over the markets that ``moved`` for
        the strategies that set ``reacts_to_updates = True`` (None when there is nothing to
        react to). Reconcile, risk and storage run as in any cycle."""
        reacting = [s for s in self.pipeline.strategies if getattr(s, "reacts_to_updates", False)]
        tickers = frozenset(moved) & self.owned
        if not reacting or not tickers or self.clock.now() == self._decided_at:
            return None  # (a clock that has not moved would repeat the cycle's decision ids)
        full = self.pipeline
        self.pipeline = attrs.evolve(full, strategies=reacting)
        try:
            return await self.run_cycle(only=tickers)
        finally:
            self.pipeline = full

    async def run_cycle(self, *, only: Collection[str] | None = None) -> CycleReport:
        """One cycle; after an error, what it holds in memory of the database is read again."""
        try:
            return await self._run_cycle(only)
        except BaseException:
            self.forget()
            raise

    def forget(self) -> None:
        """Drop what is held in memory of the database: today's AI spend, the last daily P&L
        row stored, reconcile's stored open orders and positions (read again next cycle)."""
        self._spent_day = None
        self._saved_pnl = None
        self._pnl_due = None
        self.reconciler.forget()

    async def _run_cycle(self, only: Collection[str] | None) -> CycleReport:
        self.cycles += 1
        signals.cycle_started.send(self)  # monitoring: cycle duration, log correlation id
        markets, state = await self._ingest(only)
        await self._learn_series(markets)
        self.reconciler.event_of.update({m.ticker: m.event_ticker for m in markets})
        spent = await self._spent_today()
        portfolio = self._with_day_start(state.portfolio, spent, state.new_fills)
        context = self._context(portfolio, spent)
        self._decided_at = context.now
        decisions = await self._decide_all(markets, context)
        risk = self._approve(decisions, context)
        if self.risk.kill_switch_tripped or (self.stops and self.stops.cancels_resting):
            await self._stand_down(state)
        admitted = self._admit(risk.approved, portfolio, markets)
        to_place = await self._replace_quotes(admitted, state, markets)
        owner = self._owners(decisions, to_place, context.now)
        execution = await self.executor.execute(_plan(to_place, owner))
        async with self.database.unit():  # the one transaction of a quiet cycle
            await self._store_cycle(decisions)
        report = self._report(
            markets=markets,
            decisions=decisions,
            risk=risk,
            execution=execution,
            state=state,
            portfolio=portfolio,
        )
        signals.cycle_completed.send(self, report=report)
        return report

    async def _listing(self, only: Collection[str] | None) -> list[Market]:
        """The open markets: read from the venue each cycle; a reaction reuses the last
        cycle's listing (the stream brings its quotes, so it costs no market-data call)."""
        if only is None or not self._listed:
            self._listed = await self.gateway.open_markets()
        return self._listed

    async def _ingest(self, only: Collection[str] | None) -> tuple[list[Market], ReconcileResult]:
        """List and lease the markets, reconcile with the venue: the markets to decide on (of
        ``only``, when reacting) and the venue's state."""
        listed = await self._listing(only)
        self.reconciler.see_listed(listed)
        pending = await self.reconciler.tickers_to_settle()  # held in memory between cycles
        self.owned = await self._claim([m.ticker for m in listed] + pending)
        if self.market_data is not None and only is None:
            await self.market_data.refresh(sorted(self.owned))
        state = await self.reconciler.reconcile(self.owned)
        if self.market_data is not None:  # what the stream reported, against REST's record
            reconciled = (fill.fill_id for fill in state.new_fills)
            self.market_data.confirm_fills(reconciled, cycle=only is None)
            self.market_data.confirm_orders(state.resting, cycle=only is None)
        markets = [
            m for m in listed if m.ticker in self.owned and (only is None or m.ticker in only)
        ]
        if self.market_data is not None:
            markets = self.market_data.quoted(markets)
        return markets, state

    async def _claim(self, tickers: Sequence[str]) -> frozenset[str]:
        """Lease the markets this worker will trade on a shared venue: two workers sharing one
        database and one account never trade one market at once (docs/adr/0001-market-ownership.md;
        a venue in this process takes every market, no lease). With ``max_markets``
        a worker keeps what it holds, takes free markets up to the cap (in its own random
        order) and gives back the rest at once, so several workers share the work."""
        granted = await self._lease(tickers) if self.shared_venue else frozenset(tickers)
        if not self.max_markets or len(granted) <= self.max_markets:
            return granted
        kept = sorted(granted & self.owned)
        fresh = sorted(granted - self.owned)
        self._shuffle.shuffle(fresh)
        chosen = (kept + fresh)[: self.max_markets]
        if self.shared_venue:
            await self.database.leases.release(self.worker_id, sorted(granted.difference(chosen)))
        return frozenset(chosen)

    async def _lease(self, tickers: Sequence[str]) -> frozenset[str]:
        """Claim ``tickers`` in the database. Markets another worker holds: a provably dead
        one's leases are taken over at once, a live one's markets skipped and reported."""
        leases = self.database.leases
        granted = await leases.claim(tickers, self.worker_id)
        missing = sorted(set(tickers) - granted)
        holders = await free_dead_owners(leases, missing, self.worker_id) if missing else None
        if holders is not None and holders.freed:
            granted = await leases.claim(tickers, self.worker_id)
        self._note_elsewhere(dict(holders.live) if holders else {})
        return granted

    def _note_elsewhere(self, live: dict[str, int]) -> None:
        """Warn when the markets other live workers hold change (not every cycle)."""
        if live and live != self.leased_elsewhere:
            log.warning(
                "%d market(s) skipped: leased by other worker(s) %s until their leases "
                "expire (run.lease_seconds) unless renewed",
                sum(live.values()),
                describe_owners(live),
            )
        elif self.leased_elsewhere and not live:
            log.info("no market is leased by another worker any more")
        self.leased_elsewhere = live

    async def final_reconcile(self) -> None:
        """Settle what is left at the end of a run: orders of unknown fate and orders that
        left the book in this worker's markets, every settlement, the day's P&L row, and the
        audit events signalled since the last cycle (a stop pressed between cycles)."""
        try:
            state = await self.reconciler.reconcile(self.owned, read_settlements=True)
            self._with_day_start(state.portfolio, await self._spent_today(), state.new_fills)
            async with self.database.unit():
                await self.reconciler.store_deferred()
                await self._store_pnl()
                await self.audit.flush()
        except BaseException:
            self.forget()
            raise

    async def release(self) -> None:
        """Give up every market lease (at the end of a session)."""
        if self.shared_venue:
            await self.database.leases.release(self.worker_id)

    async def _learn_series(self, markets: Sequence[Market]) -> None:
        """Each series' terms (category, fee type, multiplier), asked once per run."""
        for ticker in sorted({m.series_ticker for m in markets} - self._series.keys()):
            self._series[ticker] = await self.gateway.series(ticker)

    def _context(self, portfolio: Portfolio, spent_today: int) -> PipelineContext:
        categories = {t: s.category for t, s in self._series.items() if s and s.category}
        return PipelineContext(
            now=self.clock.now(),
            portfolio=portfolio,
            last_analysis=dict(self.last_analysis),
            ai_spend_today=spent_today,
            category_of=categories,
        )

    def _market_contexts(
        self, markets: Sequence[Market], context: PipelineContext
    ) -> list[PipelineContext]:
        """The cycle's context with each market's fee terms (its series'): one context per
        series, shared by its markets (building one per market cost more than screening)."""
        by_series: dict[str, PipelineContext] = {}
        contexts = []
        for market in markets:
            ticker = market.series_ticker
            own = by_series.get(ticker)
            if own is None:
                series = self._series.get(ticker)
                fees = None if series is None else FeeSchedule.from_series(series)
                own = context if fees is None else attrs.evolve(context, fee_schedule=fees)
                by_series[ticker] = own
            contexts.append(own)
        return contexts

    async def _decide_all(
        self, markets: Sequence[Market], context: PipelineContext
    ) -> list[MarketDecision]:
        """Every market's decision, in market order. When the candidate stage awaits nothing,
        every market is screened first and only the candidates wait their turn to be analysed
        concurrently: a task per market cost more than screening it."""
        id_of = ids.decision_ids(context.now, self.run_id)
        contexts = self._market_contexts(markets, context)
        pairs = zip(markets, contexts, strict=True)
        if self.pipeline.screens_at_once:
            decisions = await self._screen_then_analyse(pairs, id_of)
        else:
            decide = self.pipeline.decide
            decisions = await self._bounded([decide(m, c, id_of(m.ticker)) for m, c in pairs])
        for made in decisions:
            if made.decision.forecast is not None and made.market.mid is not None:
                self.last_analysis[made.market.ticker] = AnalysisRecord(
                    at=context.now, price=made.market.mid
                )
        return decisions

    async def _screen_then_analyse(
        self, pairs: Iterable[tuple[Market, PipelineContext]], id_of: Callable[[str], str]
    ) -> list[MarketDecision]:
        """The candidate stage over every market, then the candidates analysed (bounded)."""
        screened: list[MarketDecision | None] = []
        waiting: list[Awaitable[MarketDecision]] = []
        for market, own in pairs:
            decision_id = id_of(market.ticker)
            verdicts, made = self.pipeline.screen(market, own, decision_id)
            screened.append(made)
            if made is None:
                waiting.append(self.pipeline.analyse(market, own, decision_id, verdicts))
        analysed = iter(await self._bounded(waiting))
        return [made if made is not None else next(analysed) for made in screened]

    async def _bounded(self, work: Sequence[Awaitable[MarketDecision]]) -> list[MarketDecision]:
        """``work`` run concurrently, at most ``max_concurrency`` at once; results in order."""
        gate = asyncio.Semaphore(self.max_concurrency)

        async def bounded(one: Awaitable[MarketDecision]) -> MarketDecision:
            async with gate:
                return await one

        return list(await asyncio.gather(*(bounded(one) for one in work)))

    def _approve(self, decisions: Sequence[MarketDecision], context: PipelineContext) -> RiskResult:
        candidates = [
            Candidate(intent=intent, event_ticker=made.market.event_ticker)
            for made in decisions
            for intent in made.decision.intents
        ]
        allocated = allocate(candidates, context.portfolio, self.allocation)
        result = self.risk.review(allocated, context)
        for rejection in result.rejections:
            signals.order_rejected.send(rejection.intent, reason=rejection.reason)
        return result

    def _owners(
        self, decisions: Sequence[MarketDecision], orders: Sequence[OrderIntent], now: datetime
    ) -> dict[str, str]:
        """Each order's decision id; a flatten order for a market nobody decided on this cycle
        gets that market's decision id for this cycle all the same (deterministic)."""
        wanted = {intent.ticker for intent in orders}
        if not wanted:  # the usual steady cycle: no walk over every market's decision
            return {}
        owner = {
            made.market.ticker: made.decision.decision_id
            for made in decisions
            if made.market.ticker in wanted
        }
        for intent in orders:
            owner.setdefault(intent.ticker, ids.decision_id(intent.ticker, now, self.run_id))
        return owner

    def _admit(
        self, approved: Sequence[OrderIntent], portfolio: Portfolio, markets: Sequence[Market]
    ) -> tuple[OrderIntent, ...]:
        """What the graded stops let through (all, without a controller), plus the orders that
        flatten our positions once the level asks for it."""
        if self.stops is None:
            return tuple(approved)
        admitted = tuple(self.stops.admit(approved))
        if not self.stops.flattens or self.stops.stops:
            return admitted
        by_ticker = {m.ticker: m for m in markets}
        flatten = self.stops.flatten_intents(portfolio.positions, by_ticker)
        return admitted + tuple(flatten)

    @property
    def quoting(self) -> frozenset[str]:
        """Strategies that manage their resting quotes (see :mod:`kalshi_core.engine.quotes`)."""
        return frozenset(
            s.name for s in self.pipeline.strategies if getattr(s, "manages_quotes", False)
        )

    async def _replace_quotes(
        self, approved: Sequence[OrderIntent], state: ReconcileResult, markets: Sequence[Market]
    ) -> tuple[OrderIntent, ...]:
        """Cancel quotes no longer wanted, keep identical ones; return what to place."""
        quoting = self.quoting
        if not quoting:
            return tuple(approved)
        await self.executor.learn_strategies(state.resting)
        tickers = {m.ticker for m in markets}
        plan = plan_quotes(approved, state.resting, self.executor.strategy_for, quoting, tickers)
        for order in plan.cancel:
            await self.executor.cancel(order, reason="quote no longer wanted")
        return plan.place

    async def _stand_down(self, state: ReconcileResult) -> None:
        """Kill switch: cancel every resting order of ours; stop opening new ones."""
        for order in state.resting:
            await self.executor.cancel(order, reason="kill switch")

    async def _store(self, decisions: Sequence[MarketDecision]) -> None:
        """Store every decision that got past the candidate stage, and a screened-out one only
        when the validators rejecting it changed since the last one stored for that market
        (no bloat per cycle, nothing lost). Forecasts are stored with their decisions."""
        chosen = []
        for made in decisions:
            rejecting = ",".join(v.validator for v in made.decision.verdicts if not v.accepted)
            ticker = made.market.ticker
            if made.screened_out and self._last_reason.get(ticker) == rejecting:
                continue
            self._last_reason[ticker] = rejecting
            chosen.append(made.decision)
        await self.database.decisions.record_many(chosen)
        seen = [made for made in decisions if made.decision.forecast is not None]
        if seen:  # what a forecast saw (at decision time), for later analysis and backtests
            markets = [made.market for made in seen]
            await self.database.market_snapshots.record_many(markets, seen[0].decision.created_time)

    async def _store_spend(self) -> None:
        spent, self._spend = self._spend, []
        for record in spent:
            await self.database.ai_spend.record(record)
            if self._spent_day is not None and record.created_time.date() == self._spent_day[0]:
                self._spent_day = (self._spent_day[0], self._spent_day[1] + record.cost)

    def _report(
        self,
        *,
        markets: Sequence[Market],
        decisions: Sequence[MarketDecision],
        risk: RiskResult,
        execution: ExecutionReport,
        state: ReconcileResult,
        portfolio: Portfolio,
    ) -> CycleReport:
        return CycleReport(
            number=self.cycles,
            markets=len(markets),
            candidates=sum(not d.screened_out for d in decisions),
            forecasts=sum(d.decision.forecast is not None for d in decisions),
            intents=sum(len(d.decision.intents) for d in decisions),
            approved=len(risk.approved),
            placed=len(execution.placed),
            rejected=len(execution.rejected) + len(risk.rejections),
            unknown=len(execution.unknown),
            fills=len(state.new_fills),
            portfolio=portfolio,
            kill_switch=self.risk.kill_switch_tripped,
            leased_elsewhere=sum(self.leased_elsewhere.values()),
        )


def _plan(approved: Sequence[OrderIntent], owner: dict[str, str]) -> list[PlannedOrder]:
    """Give each approved intent its decision (one per market per cycle) and a deterministic
    ``client_order_id`` (its position among that decision's approved intents)."""
    planned = []
    seen: dict[str, int] = {}
    for intent in approved:
        decision_id = owner[intent.ticker]
        index = seen[decision_id] = seen.get(decision_id, -1) + 1
        order_id = ids.client_order_id(decision_id, index, intent.strategy)
        planned.append(
            PlannedOrder(intent=intent, decision_id=decision_id, client_order_id=order_id)
        )
    return planned
