"""Serving the dashboard: on its own (``kalshi-core dashboard``) or inside a trading session.

Both bind ``dashboard.host:dashboard.port`` (loopback unless ``dashboard.allow_remote``) and
run uvicorn inside the caller's event loop, as the monitoring endpoint does.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from kalshi_core.dashboard.app import Dashboard, dashboard_app
from kalshi_core.dashboard.live import EngineLink, LiveFeed
from kalshi_core.dashboard.settings import DashboardOptions
from kalshi_core.errors import ConfigError
from kalshi_core.monitoring.server import bind, serve_app
from kalshi_core.monitoring.session import model_budget

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def serve_dashboard(dashboard: Dashboard, *, required: bool) -> AsyncIterator[str | None]:
    """Serve ``dashboard`` for the block; yields its base URL. A port that cannot be bound is a
    :class:`ConfigError` when ``required``, else a warning and ``None`` (trading goes on)."""
    options = dashboard.options
    try:
        sock = bind(options.host, options.port)
    except OSError as error:
        message = f"dashboard not started on {options.host}:{options.port}: {error}"
        if required:
            raise ConfigError(message) from None
        log.warning("%s", message)
        yield None
        return
    async with serve_app(dashboard_app(dashboard), sock) as url:
        log.info("dashboard at %s/", url)
        try:
            yield url
        finally:
            dashboard.closing.set()


@contextlib.asynccontextmanager
async def serve_for_run(app: Any, engine: Any, monitoring: Any) -> AsyncIterator[str | None]:
    """The dashboard with the session's engine attached, when ``dashboard.enabled``: its
    controls raise ``monitoring.stops``, the session's graded stops."""
    if not app.section("dashboard").get("enabled", False):
        yield None
        return
    options = DashboardOptions.from_app(app, model_budget=model_budget(app))
    feed = LiveFeed(engine.clock)
    link = EngineLink(
        stops=monitoring.stops,
        health=monitoring.health,
        clock=engine.clock,
        feed=feed,
        run_id=engine.run_id,
    )
    with feed:
        dashboard = Dashboard(database=engine.database, options=options, link=link)
        async with serve_dashboard(dashboard, required=False) as url:
            yield url
