"""Timing shims for ``bench_cycle.py``: subclasses that time the engine's steps, same behaviour.

:class:`TimedEngine` runs :meth:`Engine.run_cycle` unchanged; it only overrides the steps that
``run_cycle`` calls on ``self`` (and swaps in a timed reconciler, executor and gateway) so
each step's wall time is added to a :class:`PhaseClock`:

* ``reconcile``: :meth:`Reconciler.reconcile` (settle unknown orders, balance, positions,
  resting orders, fills, settlements, and storing them);
* ``ingest: list markets``: :meth:`ClientGateway.open_markets` (HTTP pages + conversion);
* ``ingest: claim leases``: :meth:`Engine._claim` (the market-lease SQL);
* ``decide``: :meth:`Engine._decide_all` (the pipeline for every market);
* ``allocate + risk``: :meth:`Engine._approve`;
* ``execute``: :meth:`Executor.execute`;
* ``store``: :meth:`Engine._store`.

Per-market pipeline latency: :class:`TimedPipeline` times each market's candidate stage
(:meth:`Pipeline.screen`) and, for a candidate, its analysis (:meth:`Pipeline.analyse`), and
subtracts the time spent awaiting the forecasters, which :class:`TimedForecaster` records in
a context variable private to that market's task.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections import Counter, defaultdict
from collections.abc import Collection, Iterator, Sequence
from contextvars import ContextVar
from typing import Any

import attrs

from kalshi_core.client import KalshiClient
from kalshi_core.clock import SystemClock
from kalshi_core.engine.cycle import CycleReport, Engine
from kalshi_core.engine.execution import ExecutionReport, Executor, PlannedOrder
from kalshi_core.engine.pipeline import MarketDecision, Pipeline
from kalshi_core.engine.reconcile import Reconciler, ReconcileResult
from kalshi_core.engine.risk import RiskResult
from kalshi_core.models import Forecast, Market, Verdict
from kalshi_core.protocols import Forecaster, PipelineContext
from kalshi_core.venues.client_gateway import ClientGateway

RECONCILE = "reconcile"
INGEST_LIST = "ingest: list markets (HTTP)"
INGEST_LEASES = "ingest: claim leases (SQL)"
DECIDE = "decide (pipeline, all markets)"
APPROVE = "allocate + risk"
EXECUTE = "execute (orders)"
STORE = "store (decisions, SQL)"
PHASES = (RECONCILE, INGEST_LIST, INGEST_LEASES, DECIDE, APPROVE, EXECUTE, STORE)

_FORECAST_SECONDS: ContextVar[list[float] | None] = ContextVar(
    "bench_forecast_seconds", default=None
)


class PhaseClock:
    """Wall seconds per named step, accumulated until :meth:`take`."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - started

    def take(self) -> dict[str, float]:
        taken = dict(self.seconds)
        self.seconds.clear()
        return taken


class GcPauses:
    """Wall seconds the cyclic garbage collector stopped the program, via ``gc.callbacks``."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.longest = 0.0
        self.collections = 0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        pause = time.perf_counter() - self._started
        self.seconds += pause
        self.longest = max(self.longest, pause)
        self.collections += 1

    @contextlib.contextmanager
    def installed(self) -> Iterator[GcPauses]:
        gc.callbacks.append(self)
        try:
            yield self
        finally:
            gc.callbacks.remove(self)

    def take(self) -> tuple[float, float, int]:
        taken = (self.seconds, self.longest, self.collections)
        self.seconds, self.longest, self.collections = 0.0, 0.0, 0
        return taken


@attrs.define
class Latencies:
    """Per-market seconds: pipeline without the forecast (screened out / analysed), forecast."""

    screened_out: list[float] = attrs.field(factory=list)
    analysed: list[float] = attrs.field(factory=list)
    forecast: list[float] = attrs.field(factory=list)

    @property
    def pipeline(self) -> list[float]:
        return self.screened_out + self.analysed

    def take(self) -> Latencies:
        taken = Latencies(list(self.screened_out), list(self.analysed), list(self.forecast))
        self.screened_out.clear()
        self.analysed.clear()
        self.forecast.clear()
        return taken


@attrs.frozen(kw_only=True)
class CycleResult:
    """What one measured cycle cost."""

    report: CycleReport
    seconds: float
    phases: dict[str, float]
    calls: Counter[str]
    rate_limit_wait: float
    latencies: Latencies
    decisions_stored: int
    gc_pauses: tuple[float, float, int]  # total seconds, longest pause, collections


def is_write(endpoint: str) -> bool:
    return not endpoint.startswith("GET ")


def api_calls(before: dict[str, Any], after: dict[str, Any]) -> Counter[str]:
    """Calls per endpoint between two ``ClientMetrics.snapshot()``s (non-2xx labelled)."""
    counts: Counter[str] = Counter()
    for sign, snapshot in ((-1, before), (1, after)):
        for row in snapshot["calls"]:
            status = str(row["status"])
            label = row["endpoint"] if status.startswith("2") else f"{row['endpoint']} [{status}]"
            counts[label] += sign * int(row["count"])
    return Counter({label: n for label, n in counts.items() if n})


class TimedForecaster:
    """Passes through to ``inner``; adds the await's wall time to the market's tally."""

    def __init__(self, inner: Forecaster) -> None:
        self.inner = inner
        self.name = inner.name

    async def forecast(self, market: Market, context: PipelineContext) -> Forecast | None:
        started = time.perf_counter()
        try:
            return await self.inner.forecast(market, context)
        finally:
            tally = _FORECAST_SECONDS.get()
            if tally is not None:
                tally[0] += time.perf_counter() - started


@attrs.frozen(kw_only=True)
class TimedPipeline(Pipeline):
    """:meth:`Pipeline.screen` and :meth:`Pipeline.analyse` timed per market, less the
    forecasters' await (the engine calls :meth:`Pipeline.decide`, which calls both, only when
    a candidate validator wants the order book)."""

    latencies: Latencies = attrs.field(factory=Latencies)
    screening: dict[str, float] = attrs.field(factory=dict)  # a candidate's, until analysed

    def screen(
        self, market: Market, context: PipelineContext, decision_id: str
    ) -> tuple[tuple[Verdict, ...], MarketDecision | None]:
        started = time.perf_counter()
        verdicts, made = super().screen(market, context, decision_id)
        elapsed = time.perf_counter() - started
        if made is None:
            self.screening[decision_id] = elapsed
        else:
            self.latencies.screened_out.append(elapsed)
        return verdicts, made

    async def analyse(
        self,
        market: Market,
        context: PipelineContext,
        decision_id: str,
        verdicts: tuple[Verdict, ...],
    ) -> MarketDecision:
        tally = [0.0]
        token = _FORECAST_SECONDS.set(tally)
        started = time.perf_counter()
        try:
            made = await super().analyse(market, context, decision_id, verdicts)
        finally:
            elapsed = time.perf_counter() - started
            _FORECAST_SECONDS.reset(token)
        own = elapsed - tally[0] + self.screening.pop(decision_id, 0.0)
        (self.latencies.screened_out if made.screened_out else self.latencies.analysed).append(own)
        if not made.screened_out:
            self.latencies.forecast.append(tally[0])
        return made


class TimedGateway(ClientGateway):
    """The real gateway; the market listing is timed as the ingest step."""

    def __init__(
        self, client: KalshiClient, phases: PhaseClock, full_listing_every: int = 1
    ) -> None:
        super().__init__(client, full_listing_every=full_listing_every, clock=SystemClock())
        self.phases = phases

    async def open_markets(self) -> list[Market]:
        with self.phases.phase(INGEST_LIST):
            return await super().open_markets()


@attrs.define
class TimedReconciler(Reconciler):
    phases: PhaseClock = attrs.field(factory=PhaseClock, kw_only=True)

    async def reconcile(self, owned: Collection[str] | None = None) -> ReconcileResult:
        with self.phases.phase(RECONCILE):
            return await super().reconcile(owned)


@attrs.define
class TimedExecutor(Executor):
    phases: PhaseClock = attrs.field(factory=PhaseClock, kw_only=True)

    async def execute(self, planned: Sequence[PlannedOrder]) -> ExecutionReport:
        with self.phases.phase(EXECUTE):
            return await super().execute(planned)


@attrs.define
class TimedEngine(Engine):
    """:class:`Engine` with each step of ``run_cycle`` timed (see the module docstring)."""

    phases: PhaseClock = attrs.field(factory=PhaseClock, kw_only=True)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        # Engine builds these the same way; only the timed subclasses differ.
        self.executor = TimedExecutor(
            self.gateway, self.database.orders, self.clock, phases=self.phases
        )
        self.reconciler = TimedReconciler(
            self.gateway, self.database, self.executor, self.clock, phases=self.phases
        )

    @property
    def pipeline_latencies(self) -> Latencies:
        pipeline = self.pipeline
        return pipeline.latencies if isinstance(pipeline, TimedPipeline) else Latencies()

    async def _claim(self, tickers: Sequence[str]) -> frozenset[str]:
        with self.phases.phase(INGEST_LEASES):
            return await super()._claim(tickers)

    async def _decide_all(
        self, markets: Sequence[Market], context: PipelineContext
    ) -> list[MarketDecision]:
        with self.phases.phase(DECIDE):
            return await super()._decide_all(markets, context)

    def _approve(self, decisions: Sequence[MarketDecision], context: PipelineContext) -> RiskResult:
        with self.phases.phase(APPROVE):
            return super()._approve(decisions, context)

    async def _store(self, decisions: Sequence[MarketDecision]) -> None:
        with self.phases.phase(STORE):
            await super()._store(decisions)
