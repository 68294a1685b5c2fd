"""A trading session: what ``kalshi-core run`` does.

The session opens the venue ``run.venue`` names (a plugin: ``paper``, the default, is the local
exchange over HTTP replaying recorded history; ``simulated`` the same venue in-process;
``kalshi`` Kalshi itself) and runs the engine's cycles on it. On recorded history the session
steps simulated time by ``run.cycle_seconds`` before each cycle, so a run is a pure function of
data, settings and seed. Live trading needs ``mode = "live"``, credentials **and** the explicit
confirmation flag (:mod:`kalshi_core.venues.guard`); without them the session refuses to start.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import json
import logging
import os
import signal
import socket
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import attrs
from sqlalchemy.exc import SQLAlchemyError

from kalshi_core import signals
from kalshi_core.app import App
from kalshi_core.cache.wiring import build_cache, cache_engine_parts
from kalshi_core.engine.alert_policy import AlertPolicy
from kalshi_core.engine.alerts import AlertRouter
from kalshi_core.engine.cycle import CycleReport, Engine
from kalshi_core.engine.explain import Explanation, explain_run
from kalshi_core.engine.lookahead import LookaheadGuard
from kalshi_core.engine.market_data import MarketData, MarketFeed
from kalshi_core.engine.pipeline import Pipeline
from kalshi_core.engine.portfolio import AllocationLimits
from kalshi_core.engine.report import SessionReport, check_pnl, ledger_by_market
from kalshi_core.engine.risk import RiskLimits, RiskManager
from kalshi_core.errors import ExchangeError, StorageError
from kalshi_core.gateway import Gateway
from kalshi_core.models import Fill
from kalshi_core.monitoring.session import monitor_session
from kalshi_core.storage import migrate
from kalshi_core.storage.database import Database
from kalshi_core.venues.base import ExchangeTime, LocalTime, RunSpec, VenueRun
from kalshi_core.venues.guard import LiveDecision, LiveRequest, decide
from kalshi_core.venues.streaming import open_market_feed

log = logging.getLogger(__name__)
STOP_CHECK_SECONDS = 0.5  # while reacting between cycles, how often a stop request is checked


@attrs.frozen(kw_only=True)
class SessionOptions:
    """Command-line choices; ``None`` / empty means "from settings"."""

    cycles: int | None = None
    duration: float | None = None
    speed: float | None = None
    confirm_live: bool = False
    data_dir: str = ""
    data_sets: tuple[str, ...] = ()
    run_id: str = ""
    start: datetime | None = None
    end: datetime | None = None


def live_guard(app: App, options: SessionOptions) -> LiveDecision:
    """The guard's decision for these settings and flags (see :mod:`kalshi_core.venues.guard`):
    refuses before any request is sent unless it is paper trading on loopback or fully
    confirmed live trading."""
    kalshi = app.section("kalshi")
    credentials = bool(kalshi.get("api_key_id")) and bool(
        kalshi.get("private_key") or kalshi.get("private_key_path")
    )
    return decide(
        LiveRequest(
            env=str(app.settings.current_env).lower(),
            mode=str(app.settings.mode),
            base_url=_venue_url(app),
            confirmed=options.confirm_live,
            has_credentials=credentials,
            api_key_id=str(kalshi.get("api_key_id") or ""),
        )
    )


def _venue_url(app: App) -> str:
    """The URL the chosen venue will talk to ("" for an in-process venue)."""
    if app.section("run").get("venue") == "simulated":
        return ""
    return str(app.section("kalshi").get("base_url") or "")


def fingerprint(app: App, options: SessionOptions) -> str:
    """A short hash of what a run is a function of: settings (less storage, logging and
    secrets), the data and the seed. Same command, same fingerprint."""
    settings = {
        key: value
        for key, value in app.settings.as_dict().items()
        if key.lower() not in ("database", "logging", "kalshi", "alerts", "alerters")
    }
    material = {
        "settings": settings,
        "data": options.data_dir,
        "sets": options.data_sets,
        "window": [options.start, options.end],
    }
    text = json.dumps(material, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


async def begin_run(app: App, options: SessionOptions, database: Database) -> str:
    """This run's id: ``--run-id`` if given (never reused), else numbered by fingerprint."""
    venue = str(app.section("run")["venue"])
    if options.run_id:
        return await database.runs.claim(options.run_id, venue)
    return await database.runs.begin(fingerprint(app, options), venue)


async def open_database(app: App) -> Database:
    """The configured database; an empty one is created, an outdated one is refused."""
    backends = {e.name: e.factory for e in app.registry("storage_backends")}
    section = app.section("database")
    lease = timedelta(seconds=float(app.section("run")["lease_seconds"]))
    database = await Database.open(
        section.get("url", ""), backends, section, check=False, lease_ttl=lease
    )
    if await migrate.current(database.engine) is None:
        await migrate.upgrade(database.engine)
    await migrate.check_schema(database.engine)
    return database


def build_engine(
    app: App, venue: VenueRun, database: Database, run_id: str, feed: MarketFeed | None = None
) -> Engine:
    settings = app.settings
    forecasters = [app.build("forecasters", n) for n in settings.forecast.models]
    # --- cache (kalshi_core/cache, docs/cache.md): market data and forecasts via [cache] ---
    cache = build_cache(app, venue.clock)
    cached = cache_engine_parts(cache, app.section("cache"), venue.gateway, forecasters)
    # --- end cache ---
    gateway = guarded(venue, cached.gateway)
    market_data = MarketData(gateway, feed)  # books streamed or polled (docs/engine.md)
    pipeline = Pipeline(
        validators=[app.build("validators", n) for n in settings.pipeline.validators],
        forecasters=cached.forecasters,
        strategies=[app.build("strategies", n) for n in settings.strategies.enabled],
        book_loader=market_data.orderbook,
    )
    return Engine(
        gateway=gateway,
        database=database,
        clock=venue.clock,
        pipeline=pipeline,
        risk=RiskManager(RiskLimits.from_section(app.section("risk"))),
        allocation=AllocationLimits(max_per_event=int(app.section("run")["max_orders_per_event"])),
        run_id=run_id,
        worker_id=run_id if in_process(venue) else worker_id(app),
        shared_venue=not in_process(venue),
        max_concurrency=int(settings.pipeline.max_concurrency),
        max_markets=int(app.section("run")["max_markets"]),
        rearm_daily=app.section("risk")["kill_switch_rearm"] == "next_day",
        market_data=market_data,
    )


def guarded(venue: VenueRun, gateway: Gateway) -> LookaheadGuard:
    """The engine's gateway behind the look-ahead guard. Records are checked against the clock
    where the venue's time is the engine's (simulated, or a stepped served exchange); a live
    venue or a free-running exchange stamps them on a clock of its own."""
    time = getattr(venue, "time", None)
    stepped = isinstance(time, LocalTime) or (isinstance(time, ExchangeTime) and time.state.stepped)
    return LookaheadGuard(gateway, venue.clock, check_records=stepped)


def in_process(venue: VenueRun) -> bool:
    """A venue in this process (recorded history on simulated time: ``simulated``, or
    ``paper`` with its embedded exchange): no other run trades its account, so its markets
    are not leased in the database and its results never depend on other runs sharing it."""
    return isinstance(getattr(venue, "time", None), LocalTime)


def worker_id(app: App) -> str:
    """``run.worker_id``, else one unique to this process. A worker restarted under the same
    id takes its own market leases back at once; another id waits for them to expire, unless
    they are this host's default ``host:pid`` of a process that is gone (engine/ownership.py).
    Used only on a shared venue: an in-process one takes no lease (its worker id is the run id)."""
    chosen = str(app.section("run").get("worker_id") or "")
    return chosen or f"{socket.gethostname()}:{os.getpid()}"


@attrs.define
class Tally:
    """Running totals over the cycles of a session."""

    cycles: int = 0
    markets: int = 0
    forecasts: int = 0
    placed: int = 0
    rejected: int = 0
    failed: int = 0  # cycles skipped because the venue failed a read past its retries
    leased_elsewhere: int = 0  # most markets one cycle skipped: other workers' leases
    last: CycleReport | None = None

    def add(self, report: CycleReport) -> None:
        self.cycles += 1
        self.markets += report.markets
        self.forecasts += report.forecasts
        self.placed += report.placed
        self.rejected += report.rejected
        self.leased_elsewhere = max(self.leased_elsewhere, report.leased_elsewhere)
        self.last = report


Companion = Callable[[App, "Engine", Any], contextlib.AbstractAsyncContextManager[object]]


@contextlib.asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield


@attrs.define
class Session:
    """Runs cycles until told to stop, the replay ends, or a limit is reached."""

    app: App
    options: SessionOptions
    on_cycle: Callable[[Tally, VenueRun], None] = lambda tally, venue: None
    stop: asyncio.Event = attrs.field(factory=asyncio.Event)
    tally: Tally = attrs.field(factory=Tally)
    run_id: str = ""
    storage_failure: str = ""  # set when the database failed: the run stops and reports
    # what serves beside the loop with the engine attached (`run` passes the web dashboard)
    companion: Companion = attrs.field(default=lambda app, engine, monitoring: _nothing())

    async def run(self) -> SessionReport:
        self.app.check()
        decision = live_guard(self.app, self.options)
        database = await open_database(self.app)
        try:
            self.run_id = await begin_run(self.app, self.options, database)
            database.scope.run_id = self.run_id
            await self.app.startup()
            async with (
                self._open_venue(decision) as venue,
                open_market_feed(
                    self.app,
                    venue,
                    seed=int(self.app.section("run").get("seed", 0)),
                    allow_remote=decision.allow_remote,
                ) as feed,
            ):
                return await self._trade(venue, database, feed)
        finally:
            try:
                await self.app.shutdown()
            finally:
                await database.close()

    def _open_venue(self, decision: LiveDecision) -> Any:
        run = self.app.section("run")
        spec = RunSpec(
            run_id=self.run_id,
            seed=int(run.get("seed", 0)),
            data_dir=self.options.data_dir,
            data_sets=self.options.data_sets,
            allow_remote=decision.allow_remote,
            start=self.options.start,
            end=self.options.end,
        )
        return self.app.build("venues", str(run["venue"]), app=self.app, run=spec)

    async def _trade(
        self, venue: VenueRun, database: Database, feed: MarketFeed | None = None
    ) -> SessionReport:
        engine = build_engine(self.app, venue, database, self.run_id, feed)
        await database.runs.started(self.run_id, venue.clock.now())
        settle_gc()
        start = await _equity(venue.gateway)
        alerters = [self.app.build("alerters", n) for n in self.app.settings.alerts.channels]
        policy = AlertPolicy.from_section(self.app.section("alerts"))  # monitoring (issue 19)
        router = AlertRouter(alerters, venue.clock, policy)
        with _stop_on_signals(self.stop), router:
            # monitoring (issue 19): /metrics, /healthz, /readyz, anomalies, graded stops
            async with monitor_session(self.app, engine, router=router) as monitoring:
                engine.stops = monitoring.stops
                try:
                    # served beside the loop (the web dashboard, issue 22, from `run`)
                    async with self.companion(self.app, engine, monitoring):
                        reason = await self._loop(engine, venue)
                    await self._finish(engine)
                finally:
                    await self._release(engine)
        await router.flush()
        return await self._report(venue, database, start, reason)

    async def _finish(self, engine: Engine) -> None:
        """Settle what is left unknown, leases still held; skipped when storage failed (the
        next run reconciles: the venue wins). Caches stop answering for the venue first."""
        signals.run_finishing.send(engine)
        if not self.storage_failure:
            await engine.final_reconcile()

    async def _release(self, engine: Engine) -> None:
        try:
            await engine.release()
        except (StorageError, SQLAlchemyError, OSError) as error:
            log.error("could not release the market leases (%s): they expire", _one_line(error))
        finally:
            await _close_cache(engine)

    async def _loop(self, engine: Engine, venue: VenueRun) -> str:
        started = time.monotonic()  # --duration is wall time: an operator's limit, not data
        step = timedelta(seconds=float(self.app.section("run")["cycle_seconds"]))
        while True:
            reason = self._should_stop(venue, started) or _stopped(engine)
            if reason:
                return reason
            await venue.advance(step)
            await self._cycle(engine)
            self.on_cycle(self.tally, venue)
            await self._pace(venue, step, engine)

    async def _cycle(self, engine: Engine) -> None:
        """One cycle; a venue that fails a read past its retries costs that cycle, not the run
        (the next cycle reconciles from scratch: the venue wins). A database that fails (a full
        disk, a lost server) stops the run: nothing more can be recorded before it is sent."""
        try:
            self.tally.add(await engine.run_cycle())
        except ExchangeError as error:
            self.tally.failed += 1
            log.warning("cycle skipped: the venue failed a read (%s)", error)
            signals.cycle_failed.send(self, error=str(error))
        except (StorageError, SQLAlchemyError, OSError) as error:
            self.storage_failure = _one_line(error)
            log.error("stopping: the database failed (%s)", self.storage_failure)

    def _should_stop(self, venue: VenueRun, started: float) -> str | None:
        if self.storage_failure:
            return f"the database failed: {self.storage_failure}"
        if self.stop.is_set():
            return "interrupted (the current cycle finished first)"
        if self.options.cycles is not None and self.tally.cycles >= self.options.cycles:
            return f"{self.options.cycles} cycles done"
        if (
            self.options.duration is not None
            and time.monotonic() - started >= self.options.duration
        ):
            return f"duration of {self.options.duration:g}s reached"
        if venue.finished:
            return "the recorded history has been replayed to its end"
        return None

    async def _pace(self, venue: VenueRun, step: timedelta, engine: Engine) -> None:
        """Wait between cycles as the venue's time needs (a cycle of wall time on a live
        venue, reacting to streamed updates meanwhile); on stepped time only what
        ``run.speed`` asks for the display (0: no wait)."""
        wait = venue.wall_wait(step)
        if wait > 0 and engine.market_data is not None and engine.market_data.feed is not None:
            await self._react_until(engine, time.monotonic() + wait)
            return
        if wait == 0:
            speed = self.options.speed  # --speed 0 (as fast as possible) beats run.speed
            if speed is None:
                speed = float(self.app.section("run")["speed"])
            wait = step.total_seconds() / speed if speed > 0 else 0.0
        if wait <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), timeout=wait)

    async def _react_until(self, engine: Engine, deadline: float) -> None:
        """Wall time between two cycles on a streamed venue: each update that moves a market
        gives the strategies with ``reacts_to_updates`` a turn on it (``Engine.react``)."""
        market_data = engine.market_data
        assert market_data is not None
        while not self.stop.is_set() and (left := deadline - time.monotonic()) > 0:
            # in slices, so that Ctrl-C is noticed within one
            if not await market_data.wait_update(min(left, STOP_CHECK_SECONDS)):
                if not market_data.streaming:  # polling: nothing to react to until the cycle
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.stop.wait(), timeout=left)
                continue
            try:
                await engine.react(await market_data.refresh(sorted(engine.owned)))
            except ExchangeError as error:
                log.warning("reaction skipped: the venue failed a read (%s)", error)

    async def _stored_fills(self, database: Database, venue_fills: list[Fill]) -> list[Fill]:
        """Our stored copies of ``venue_fills`` (none readable when the database failed)."""
        ids = {f.fill_id for f in venue_fills}
        try:
            return [
                f
                for t in sorted({f.ticker for f in venue_fills})
                for f in await database.fills.for_market(t)
                if f.fill_id in ids
            ]
        except (StorageError, SQLAlchemyError, OSError):
            return []

    async def _report(
        self, venue: VenueRun, database: Database, start: int, reason: str
    ) -> SessionReport:
        """This session's figures: our stored copies of the exchange's fills, the exchange's
        settlements (market results), and its account."""
        gateway = venue.gateway
        positions = await gateway.all_positions()
        venue_fills = await gateway.fills()
        settlements = await gateway.settlements()
        stored = await self._stored_fills(database, venue_fills)
        return SessionReport(
            cycles=self.tally.cycles,
            markets_scanned=self.tally.markets,
            decisions=self.tally.markets,
            forecasts=self.tally.forecasts,
            orders_placed=self.tally.placed,
            orders_rejected=self.tally.rejected,
            fills_venue=len(venue_fills),
            fills_stored=len(stored),
            start_equity=start,
            end_equity=await _equity(gateway),
            pnl_check=check_pnl(ledger_by_market(stored, settlements), positions),
            stopped_because=reason,
            caveats=tuple(getattr(venue, "caveats", ())),
            leased_elsewhere=self.tally.leased_elsewhere,
            explanation=await self._explanation(database),
        )

    async def _explanation(self, database: Database) -> Explanation | None:
        """Why markets were not traded, from this run's stored decisions (None when the
        database failed: the report must still print)."""
        try:
            section = self.app.section("validators.min_edge")
            return await explain_run(database, self.run_id, section)
        except (StorageError, SQLAlchemyError, OSError, KeyError):
            return None


async def _close_cache(engine: Engine) -> None:
    """Close the cache's connections (a Redis pool): a cache that fails to close loses
    nothing, so it is logged, never raised."""
    cache = getattr(engine.gateway, "cache", None)
    if cache is None:
        return
    try:
        await cache.close()
    except (OSError, TimeoutError) as error:
        log.warning("could not close the cache cleanly (%s)", _one_line(error))


def _one_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


def _stopped(engine: Engine) -> str | None:
    if engine.stops is not None and engine.stops.stops:
        return "stopped by the graded stops (the audit trail says why)"
    return None


async def _equity(gateway: Gateway) -> int:
    """Cash plus open positions at cost, in money units."""
    balance = await gateway.balance()
    return balance.balance + balance.portfolio_value


@contextlib.contextmanager
def _stop_on_signals(stop: asyncio.Event) -> Any:
    """Ctrl-C / SIGTERM ask the session to stop after the current step."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


#: The youngest generation's allocation threshold while trading (CPython's default is 700):
#: a cycle over thousands of markets allocates far more than that, and each collection of a
#: young generation that survives into the older ones costs a scan of them.
GC_GEN0_THRESHOLD = 50_000


def settle_gc() -> None:
    """Once the engine's long-lived objects are built: freeze them (no collection scans them
    again) and collect the youngest generation less often. ``kalshi-core run`` and the
    benchmarks call it at the same point."""
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, older, oldest)
