"""The streamed market data of a run (``run.market_data = "stream"``): the ``kalshi-ws`` data
source on the venue's own exchange, signed with the venue client's key.

An in-process paper exchange is stepped by the session, so its feed is ticked by the source on
each catch-up (not on wall time): what a cycle sees is everything up to that cycle's time, as
with polling, and a run stays a pure function of data, settings and seed.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from kalshi_core.client import KalshiClient
from kalshi_core.engine.market_data import MarketFeed
from kalshi_core.errors import ConfigError
from kalshi_core.venues.base import VenueRun

SOURCE = "kalshi-ws"


def _stepped_tick(venue: VenueRun) -> Callable[[], None] | None:
    """The feed's tick of an exchange served in this process (its wall-time ticking off)."""
    feed = getattr(getattr(getattr(venue, "exchange", None), "app", None), "feed", None)
    if feed is None:
        return None
    feed.tick_seconds = None
    tick: Callable[[], None] = feed.tick
    return tick


@contextlib.asynccontextmanager
async def open_market_feed(
    app: Any, venue: VenueRun, *, seed: int = 0, allow_remote: bool = False
) -> AsyncIterator[MarketFeed | None]:
    """The run's market feed, connected (None when ``run.market_data`` is ``poll``)."""
    run = app.section("run")
    if run.get("market_data", "poll") != "stream":
        yield None
        return
    client = getattr(venue.gateway, "client", None)
    if not isinstance(client, KalshiClient):
        raise ConfigError(
            f"run.market_data = 'stream' needs a venue over HTTP (paper or kalshi), but "
            f"run.venue = {run.get('venue')!r} has no WebSocket feed; use market_data = 'poll'"
        )
    section = app.section("stream")
    source = app.registry("data_sources").create(
        SOURCE,
        section,
        client=client,
        allow_remote=allow_remote,
        seed=seed,
        tick=_stepped_tick(venue),
    )
    async with source:
        await source.wait_live(float(section.get("reply_timeout_seconds", 5.0)))
        yield source
