"""A trading session: what ``kalshi-core run`` does.

Paper trading (the default) starts the local exchange in-process on a free loopback port,
replaying the bundled history, and trades it through the real HTTP client. Live trading points
the same client at Kalshi and needs ``mode = "live"``, credentials **and** the explicit
confirmation flag; without it the session refuses to start.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import attrs

from kalshi_core.app import App
from kalshi_core.builtin.exchange_command import build_exchange
from kalshi_core.client import KalshiClient, Signer
from kalshi_core.clock import Clock, SystemClock
from kalshi_core.engine.alert_policy import AlertPolicy
from kalshi_core.engine.alerts import AlertRouter
from kalshi_core.engine.cycle import CycleReport, Engine
from kalshi_core.engine.gateway import ClientGateway
from kalshi_core.engine.pipeline import Pipeline
from kalshi_core.engine.portfolio import AllocationLimits
from kalshi_core.engine.report import SessionReport, check_pnl, ledger_by_market
from kalshi_core.engine.risk import RiskLimits, RiskManager
from kalshi_core.errors import ConfigError
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.monitoring.session import monitor_session
from kalshi_core.storage import migrate
from kalshi_core.storage.database import Database

LIVE_FLAG = "--i-understand-this-is-live-trading"


@attrs.frozen(kw_only=True)
class SessionOptions:
    """Command-line choices; ``None`` means "from settings"."""

    cycles: int | None = None
    duration: float | None = None
    speed: float | None = None
    confirm_live: bool = False


@attrs.frozen(kw_only=True)
class TradingVenue:
    """Where the session trades: a client, the engine's clock, and the local exchange if any."""

    client: KalshiClient
    clock: Clock
    exchange: LocalExchange | None
    description: str


def live_guard(app: App, options: SessionOptions) -> str | None:
    """``None`` for paper trading; the plan of a live session once confirmed; else refuse.

    Refuses before any request is sent: without the confirmation flag, and without the
    credentials live trading needs.
    """
    if app.settings.mode != "live":
        return None
    kalshi = app.section("kalshi")
    url = kalshi.get("base_url") or "(no kalshi.base_url set)"
    plan = f"LIVE trading with real money on {url} as API key {kalshi.get('api_key_id')!r}"
    if not options.confirm_live:
        raise ConfigError(f"refusing to start: mode is 'live' ({plan}); add {LIVE_FLAG} to confirm")
    if not kalshi.get("api_key_id") or not (
        kalshi.get("private_key") or kalshi.get("private_key_path")
    ):
        raise ConfigError(
            "refusing to start live trading: kalshi.api_key_id and kalshi.private_key_path "
            "(or kalshi.private_key, in .secrets.toml) must be set"
        )
    return plan


@contextlib.asynccontextmanager
async def open_venue(app: App, options: SessionOptions) -> AsyncIterator[TradingVenue]:
    kalshi = app.section("kalshi")
    if app.settings.mode == "live" or kalshi.get("base_url"):
        client = app.build("data_sources", app.settings.data.source, allow_remote=True)
        async with client:
            where = f"{client.transport.base_url} (live)"
            yield TradingVenue(client=client, clock=SystemClock(), exchange=None, description=where)
        return
    async with _local_exchange(app, options) as exchange:
        signer = Signer.from_file(exchange.api_key_id, str(exchange.private_key_path))
        client = app.build("data_sources", "kalshi", base_url=exchange.base_url, signer=signer)
        async with client:
            where = f"the local exchange at {exchange.base_url} (paper trading)"
            yield TradingVenue(
                client=client, clock=exchange.clock, exchange=exchange, description=where
            )


def _local_exchange(app: App, options: SessionOptions) -> Any:
    """The ``[exchange]`` section's local exchange (data sets, seed, faults, key folder,
    starting balance) replayed at the run's speed, on a free loopback port."""
    section = app.section("exchange")
    speed = options.speed or float(app.section("run")["speed"])
    exchange = build_exchange(section, {"speed": speed})
    return exchange.serving(section["host"], 0)


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


def build_engine(app: App, venue: TradingVenue, database: Database) -> Engine:
    settings = app.settings
    pipeline = Pipeline(
        validators=[app.build("validators", n) for n in settings.pipeline.validators],
        forecasters=[app.build("forecasters", n) for n in settings.forecast.models],
        strategies=[app.build("strategies", n) for n in settings.strategies.enabled],
    )
    return Engine(
        gateway=ClientGateway(venue.client),
        database=database,
        clock=venue.clock,
        pipeline=pipeline,
        risk=RiskManager(RiskLimits.from_section(app.section("risk"))),
        allocation=AllocationLimits(max_per_event=int(app.section("run")["max_orders_per_event"])),
        run_id=uuid.uuid4().hex,
        worker_id=f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}",
        max_concurrency=int(settings.pipeline.max_concurrency),
        max_markets=int(app.section("run")["max_markets"]),
        rearm_daily=app.section("risk")["kill_switch_rearm"] == "next_day",
    )


@attrs.define
class Tally:
    """Running totals over the cycles of a session."""

    cycles: int = 0
    markets: int = 0
    forecasts: int = 0
    placed: int = 0
    rejected: int = 0
    last: CycleReport | None = None

    def add(self, report: CycleReport) -> None:
        self.cycles += 1
        self.markets += report.markets
        self.forecasts += report.forecasts
        self.placed += report.placed
        self.rejected += report.rejected
        self.last = report


@attrs.define
class Session:
    """Runs cycles until told to stop, the replay ends, or a limit is reached."""

    app: App
    options: SessionOptions
    on_cycle: Callable[[Tally, TradingVenue], None] = lambda tally, venue: None
    stop: asyncio.Event = attrs.field(factory=asyncio.Event)
    tally: Tally = attrs.field(factory=Tally)

    async def run(self) -> SessionReport:
        self.app.check()
        live_guard(self.app, self.options)
        database = await open_database(self.app)
        try:
            await self.app.startup()
            async with open_venue(self.app, self.options) as venue:
                return await self._trade(venue, database)
        finally:
            try:
                await self.app.shutdown()
            finally:
                await database.close()

    async def _trade(self, venue: TradingVenue, database: Database) -> SessionReport:
        engine = build_engine(self.app, venue, database)
        gc.freeze()  # long-lived objects built so far need no more GC scans (fewer pauses)
        start = await _equity(venue.client)
        alerters = [self.app.build("alerters", n) for n in self.app.settings.alerts.channels]
        policy = AlertPolicy.from_section(self.app.section("alerts"))  # monitoring (issue 19)
        router = AlertRouter(alerters, venue.clock, policy)
        with _stop_on_signals(self.stop), router:
            # monitoring (issue 19): /metrics, /healthz, /readyz, anomalies, graded stops
            async with monitor_session(self.app, engine, client=venue.client, router=router):
                try:
                    reason = await self._loop(engine, venue)
                    await engine.final_reconcile()  # settle what is left unknown, leases held
                finally:
                    await engine.release()
        await router.flush()
        return await self._report(venue, database, start, reason)

    async def _loop(self, engine: Engine, venue: TradingVenue) -> str:
        started = time.monotonic()
        while True:
            reason = self._should_stop(venue, started)
            if reason:
                return reason
            self.tally.add(await engine.run_cycle())
            self.on_cycle(self.tally, venue)
            await self._pace(venue)

    def _should_stop(self, venue: TradingVenue, started: float) -> str | None:
        if self.stop.is_set():
            return "interrupted (the current cycle finished first)"
        if self.options.cycles is not None and self.tally.cycles >= self.options.cycles:
            return f"{self.options.cycles} cycles done"
        if (
            self.options.duration is not None
            and time.monotonic() - started >= self.options.duration
        ):
            return f"duration of {self.options.duration:g}s reached"
        replay = venue.exchange.replay if venue.exchange else None
        if replay is not None and replay.finished and self.tally.cycles > 0:
            return "the recorded history has been replayed to its end"
        return None

    async def _pace(self, venue: TradingVenue) -> None:
        """Wait one cycle of simulated time (wall time divided by the replay speed)."""
        run = self.app.section("run")
        speed = self.options.speed or float(run["speed"]) if venue.exchange else 1.0
        wait = float(run["cycle_seconds"]) / speed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), timeout=wait)

    async def _report(
        self, venue: TradingVenue, database: Database, start: int, reason: str
    ) -> SessionReport:
        """This session's figures: our stored copies of the exchange's fills, the exchange's
        settlements (market results), and its account."""
        positions = [p async for p in venue.client.iter_positions(settlement_status="all")]
        venue_fills = [f async for f in venue.client.iter_fills()]
        settlements = [s async for s in venue.client.iter_settlements()]
        ids = {f.fill_id for f in venue_fills}
        tickers = {f.ticker for f in venue_fills}
        stored = [
            f for t in tickers for f in await database.fills.for_market(t) if f.fill_id in ids
        ]
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
            end_equity=await _equity(venue.client),
            pnl_check=check_pnl(ledger_by_market(stored, settlements), positions),
            stopped_because=reason,
        )


async def _equity(client: KalshiClient) -> int:
    """Cash plus open positions at cost, in money units."""
    balance = await client.get_balance()
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
