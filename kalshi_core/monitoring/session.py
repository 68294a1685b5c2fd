"""Everything monitoring does for one trading session, switched on by one ``async with``.

``kalshi-core run`` wraps its loop in :func:`monitor_session`: metrics, health, the anomaly
watch, the graded stop controller, cycle correlation ids and the audit log listen to signals
for the block, and the endpoint serves ``/metrics``, ``/healthz`` and ``/readyz``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import timedelta
from typing import Any

import attrs

from kalshi_core.cache.store import SharedCache
from kalshi_core.client.metrics import ClientMetrics
from kalshi_core.clock import Clock
from kalshi_core.engine.alerts import AlertRouter
from kalshi_core.forecasting.budget import dollars_setting
from kalshi_core.money import Money
from kalshi_core.monitoring.cache_collector import CacheReader, CacheSource
from kalshi_core.monitoring.health import Health, Probe
from kalshi_core.monitoring.logs import AuditLog, CycleCorrelation
from kalshi_core.monitoring.metrics import KalshiMetrics
from kalshi_core.monitoring.server import MonitoringState, serve_monitoring
from kalshi_core.monitoring.stops import StopController
from kalshi_core.monitoring.stream_collector import engine_stream_stats
from kalshi_core.monitoring.watch import AnomalyWatch, Detectors
from kalshi_core.storage.database import ping

CACHE_PROBE_KEY = "kalshi_core:readyz"


@attrs.define(eq=False)
class Monitoring:
    """The session's monitors; ``stops`` is what the engine consults, ``url`` the endpoint."""

    metrics: KalshiMetrics
    health: Health
    watch: AnomalyWatch
    stops: StopController
    url: str | None = None


def model_budget(app: Any) -> Money:
    """The LLM forecaster's daily budget when it is one of ``forecast.models``, else 0."""
    if "llm" not in list(app.settings.forecast.models):
        return 0
    value = app.section("forecasters.llm").get("daily_budget_dollars", 0)
    return dollars_setting(value, "forecasters.llm.daily_budget_dollars")


def probes(engine: Any, cache: SharedCache | None = None) -> dict[str, Probe]:
    """Database, venue and (when the session has one) cache reachability checks. The cache's
    is its primary backend answering: with Redis down the engine trades on from memory, but
    workers no longer share one view, which is what not-ready then says."""

    async def database() -> None:
        await ping(engine.database.engine)

    async def venue() -> None:
        await engine.gateway.balance()

    found: dict[str, Probe] = {"database": database, "venue": venue}
    if cache is not None:

        async def cache_probe() -> None:
            await cache.backends.primary.exists(CACHE_PROBE_KEY)

        found["cache"] = cache_probe
    return found


def cache_reader(cache: SharedCache | None) -> CacheReader:
    if cache is None:
        return lambda: None
    return lambda: CacheSource(cache.backends.primary.name, cache.stats)


def build_monitoring(
    section: Mapping[str, Any],
    anomalies: Mapping[str, Any],
    *,
    clock: Clock,
    probes: dict[str, Probe],
    client: Callable[[], ClientMetrics | None] = lambda: None,
    cache: CacheReader = lambda: None,
    budget: Money = 0,
) -> Monitoring:
    """The monitors from the ``[monitoring]`` and ``[anomalies]`` sections."""
    metrics = KalshiMetrics(
        clock, client=client, cache=cache, ticker_cap=int(section.get("market_label_cap", 50))
    )
    metrics.set_model_budget(budget)
    health = Health(
        clock,
        timedelta(seconds=float(section.get("max_cycle_age_seconds", 900))),
        probes,
        probe_timeout=float(section.get("probe_timeout_seconds", 2.0)),
    )
    watch = AnomalyWatch(Detectors.from_section(anomalies, budget), clock, client)
    stops = StopController(flatten_concession=int(section.get("flatten_concession_cents", 5)) * 100)
    return Monitoring(metrics=metrics, health=health, watch=watch, stops=stops)


def _subscribers(monitoring: Monitoring) -> tuple[Any, ...]:
    return (monitoring.metrics, monitoring.health, monitoring.watch, monitoring.stops)


@contextlib.asynccontextmanager
async def monitor_session(
    app: Any,
    engine: Any,
    *,
    client: Any = None,
    cache: SharedCache | None = None,
    router: AlertRouter | None = None,
) -> AsyncIterator[Monitoring]:
    """Monitor ``engine`` for the block (see the module docstring). ``client`` (whose call
    counters are exported) defaults to the engine gateway's client, and ``cache`` (whose
    counters are exported) to the engine gateway's cache, when it has them."""
    client = client if client is not None else getattr(engine.gateway, "client", None)
    cache = cache if cache is not None else getattr(engine.gateway, "cache", None)
    monitoring = build_monitoring(
        app.section("monitoring"),
        app.section("anomalies"),
        clock=engine.clock,
        probes=probes(engine, cache),
        client=(lambda: client.metrics) if client is not None else (lambda: None),
        cache=cache_reader(cache),
        budget=model_budget(app),
    )
    # streaming market data (issue 21): the feed's reconnects, gaps, overflows and resyncs
    monitoring.metrics.stream.source = engine_stream_stats(engine)
    if router is not None:
        router.observer = monitoring.metrics.record_alert
    state = MonitoringState(metrics=monitoring.metrics, health=monitoring.health)
    listeners = (*_subscribers(monitoring), CycleCorrelation(engine.run_id), AuditLog())
    with contextlib.ExitStack() as stack:
        for listener in listeners:
            stack.enter_context(listener)
        async with serve_monitoring(app.section("monitoring"), state) as url:
            monitoring.url = url
            yield monitoring
