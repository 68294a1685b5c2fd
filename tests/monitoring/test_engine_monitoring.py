"""The monitoring endpoint while the engine trades on the in-process venue, scraped over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from kalshi_core.builtin.webhook_alerters import make_slack, make_webhook
from kalshi_core.cache.gateway import CachingGateway
from kalshi_core.cache.wiring import build_cache
from kalshi_core.clock import ManualClock
from kalshi_core.engine.alert_policy import AlertPolicy
from kalshi_core.engine.alerts import AlertRouter
from kalshi_core.engine.cycle import Engine
from kalshi_core.engine.risk import RiskLimits, RiskManager
from kalshi_core.exchange.venue import Venue
from kalshi_core.models import MarketResult, TimeInForce
from kalshi_core.monitoring.session import monitor_session
from kalshi_core.protocols import Alert
from kalshi_core.storage.database import Database
from kalshi_core.venues.simulated import VenueGateway
from tests.engine_cycle.conftest import RISK, TICKERS, TRADER, BuyBelowForecast
from tests.monitoring.conftest import Receiver, make_engine

Labels = Mapping[str, str]


def value(text: str, name: str, labels: Labels | None = None) -> float:
    """The sample ``name`` with exactly ``labels`` (0 when absent, as Prometheus reads it)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == dict(labels or {}):
                return float(sample.value)
    return 0.0


@pytest.fixture
def app(kalshi_app_factory: Any) -> Any:
    return kalshi_app_factory(settings={"monitoring.port": 0})


async def test_metrics_move_with_the_cycles(
    app: Any, venue: Venue, database: Database, clock: ManualClock
) -> None:
    engine = make_engine(venue, database, clock)
    async with monitor_session(app, engine) as monitoring, httpx.AsyncClient() as http:
        assert monitoring.url is not None
        before = (await http.get(f"{monitoring.url}/metrics")).text
        await engine.run_cycle()
        clock.advance(timedelta(minutes=1))
        await engine.run_cycle()
        after = await http.get(f"{monitoring.url}/metrics")
        health = (await http.get(f"{monitoring.url}/healthz")).json()
    assert after.headers["content-type"].startswith("text/plain")
    text = after.text
    assert value(before, "kalshi_cycles_total") == 0
    assert value(text, "kalshi_cycles_total") == 2
    assert value(text, "kalshi_markets_scanned_total") == 2 * len(TICKERS)
    assert value(text, "kalshi_decisions_total", {"outcome": "intent"}) == 2 * len(TICKERS)
    placed = {"strategy": "buy_below", "outcome": "placed"}
    assert value(text, "kalshi_orders_total", placed) == 2 * len(TICKERS)
    assert value(text, "kalshi_fills_total", {"strategy": "buy_below"}) == len(TICKERS)
    assert value(text, "kalshi_filled_contracts_total", {"strategy": "buy_below"}) == 6
    assert value(text, "kalshi_fees_dollars_total", {"strategy": "buy_below"}) > 0
    assert value(text, "kalshi_cycle_duration_seconds_count") == 2
    assert value(text, "kalshi_last_cycle_timestamp_seconds") == clock.now().timestamp()
    assert 990 < value(text, "kalshi_portfolio_value_dollars") <= 1000
    assert value(text, "kalshi_open_positions") == len(TICKERS)
    assert value(text, "kalshi_market_exposure_dollars", {"ticker": TICKERS[0]}) > 0
    assert value(text, "kalshi_kill_switch_engaged") == 0
    assert health == {
        "status": "alive",
        "cycles": 2,
        "last_cycle_time": clock.now().isoformat(),
    }


async def test_nothing_secret_or_account_specific_is_served(
    app: Any, venue: Venue, database: Database, clock: ManualClock
) -> None:
    engine = make_engine(venue, database, clock)
    async with monitor_session(app, engine) as monitoring, httpx.AsyncClient() as http:
        await engine.run_cycle()
        pages = [(await http.get(f"{monitoring.url}{p}")).text for p in ("/metrics", "/healthz")]
        pages.append((await http.get(f"{monitoring.url}/readyz")).text)
    for page in pages:
        assert "trader" not in page  # the account id
        assert engine.worker_id not in page
        assert "test-run" not in page  # the run id


async def test_monitoring_disabled_serves_nothing(
    kalshi_app_factory: Any, venue: Venue, database: Database, clock: ManualClock
) -> None:
    app = kalshi_app_factory(settings={"monitoring.enabled": False})
    engine = make_engine(venue, database, clock)
    async with monitor_session(app, engine) as monitoring:
        await engine.run_cycle()
        assert monitoring.url is None
        assert monitoring.health.cycles == 1  # the monitors still listen


async def _trip_kill_switch(engine: Engine, venue: Venue, clock: ManualClock) -> None:
    """Buy in every market, then two of them settle NO: more than 2% of the day is lost."""
    await engine.run_cycle()
    clock.advance(timedelta(minutes=1))
    for ticker in TICKERS[:2]:
        venue.close_market(ticker)
        venue.determine(ticker, MarketResult.NO)


async def test_the_kill_switch_alerts_each_channel_exactly_once(
    app: Any, venue: Venue, database: Database, clock: ManualClock, receiver: Receiver
) -> None:
    engine = make_engine(venue, database, clock)
    engine.risk = RiskManager(RiskLimits.from_section({**RISK, "max_daily_loss_pct": 0.02}))
    engine.pipeline = type(engine.pipeline)(
        forecasters=engine.pipeline.forecasters,
        strategies=[BuyBelowForecast(contracts=40, tif=TimeInForce.GOOD_TILL_CANCELED)],
    )
    channels = [
        make_slack({"webhook_url": f"{receiver.url}/slack"}),
        make_webhook({"url": f"{receiver.url}/webhook"}),
    ]
    router = AlertRouter(channels, clock, AlertPolicy(dedup_window=timedelta(0)))
    with router:
        async with monitor_session(app, engine, router=router) as monitoring:
            await _trip_kill_switch(engine, venue, clock)
            for _ in range(3):  # the switch stays tripped for the rest of the day
                report = await engine.run_cycle()
                clock.advance(timedelta(minutes=1))
            await router.flush()
            async with httpx.AsyncClient() as http:
                text = (await http.get(f"{monitoring.url}/metrics")).text
    assert report.kill_switch
    kill = [p for p, b, _ in receiver.received if "max_daily_loss" in str(b)]
    assert sorted(kill) == ["/slack", "/webhook"]
    assert value(text, "kalshi_kill_switch_engaged") == 1
    assert value(text, "kalshi_alerts_total", {"channel": "slack", "outcome": "sent"}) >= 1
    assert value(text, "kalshi_risk_limit_hits_total", {"rule": "max_daily_loss"}) == 1


class Hanging:
    """A channel that never answers."""

    name = "hanging"

    def __init__(self) -> None:
        self.started = 0
        self.never = asyncio.Event()

    async def send(self, alert: Alert) -> None:
        self.started += 1
        await self.never.wait()


async def test_a_channel_that_never_answers_does_not_hold_up_trading(
    venue: Venue, database: Database, clock: ManualClock
) -> None:
    engine = make_engine(venue, database, clock)
    engine.risk = RiskManager(RiskLimits.from_section({**RISK, "max_daily_loss_pct": 0.02}))
    engine.pipeline = type(engine.pipeline)(
        forecasters=engine.pipeline.forecasters,
        strategies=[BuyBelowForecast(contracts=40, tif=TimeInForce.GOOD_TILL_CANCELED)],
    )
    channel = Hanging()
    router = AlertRouter([channel], clock, AlertPolicy())
    with router:
        await _trip_kill_switch(engine, venue, clock)
        tripped = await engine.run_cycle()
        after = await engine.run_cycle()  # the cycle after the alert went out
    assert tripped.kill_switch
    assert after.number == tripped.number + 1
    assert channel.started == 1  # the delivery began ...
    pending = list(router._pending)
    assert pending
    assert not any(task.done() for task in pending)  # ... and is still waiting
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


async def test_the_engine_caches_counters_are_scraped(
    app: Any, venue: Venue, database: Database, clock: ManualClock
) -> None:
    """The session's cache (here memory, in front of the venue) is read at scrape time."""
    cache = build_cache(app, clock)
    gateway = CachingGateway(VenueGateway(venue, TRADER), cache)
    engine = make_engine(venue, database, clock, gateway=gateway)  # type: ignore[arg-type]
    async with monitor_session(app, engine) as monitoring, httpx.AsyncClient() as http:
        await engine.run_cycle()
        await engine.run_cycle()
        text = (await http.get(f"{monitoring.url}/metrics")).text
    assert cache.stats.lookups("markets") == 2
    labels = {"cache": "memory", "kind": "markets"}
    assert value(text, "kalshi_cache_requests_total", {**labels, "result": "hit"}) == 1
    assert value(text, "kalshi_cache_requests_total", {**labels, "result": "miss"}) == 1
    assert value(text, "kalshi_cache_loads_total", labels) == 1
