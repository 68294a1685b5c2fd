"""The ``paper`` venue: the local exchange over HTTP through the real client.

With an empty ``kalshi.base_url`` it starts the local exchange in this process on a free
loopback port, replaying recorded history on simulated time that the session steps cycle by
cycle (reproducible: ids derive from the run id, randomness from the seed, and the client
applies no rate limit the local exchange does not have). With ``kalshi.base_url`` pointing at a
``kalshi-core exchange serve`` on loopback it trades that exchange on its own clock.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from kalshi_core.client import RateLimiter, Signer
from kalshi_core.client.transport import is_loopback
from kalshi_core.clock import Clock, ManualClock, SimulatedTime, SystemClock
from kalshi_core.errors import ConfigError
from kalshi_core.exchange.config import build_exchange
from kalshi_core.venues.base import ExchangeTime, LocalTime, OpenVenue, RunSpec, WallTime
from kalshi_core.venues.client_gateway import ClientGateway
from kalshi_core.venues.simulated import fill_model_of, history_dir, history_sets, latency_of


@contextlib.asynccontextmanager
async def open_paper(
    section: Mapping[str, Any], *, app: Any, run: RunSpec
) -> AsyncIterator[OpenVenue]:
    if app.section("kalshi").get("base_url"):
        async with _served_exchange(app, run) as venue:
            yield venue
        return
    exchange_section = app.section("exchange")
    exchange = build_exchange(exchange_section, _stepped_options(app, exchange_section, run))
    if exchange.replay is None or not isinstance(exchange.clock, ManualClock):
        raise ConfigError("the paper venue needs recorded history: set exchange.data_sets")
    async with exchange.serving(exchange_section.get("host", "127.0.0.1"), 0):
        assert exchange.private_key_path is not None  # the dev account was just added
        signer = Signer.from_file(exchange.api_key_id, str(exchange.private_key_path))
        client = app.build(
            "data_sources",
            "kalshi",
            base_url=exchange.base_url,
            signer=signer,
            rate_limiter=RateLimiter.unthrottled(),
        )
        async with client:
            yield OpenVenue(
                gateway=listing_gateway(app, client, exchange.clock),
                clock=exchange.clock,
                description=f"the local exchange at {exchange.base_url} (paper trading)",
                time=LocalTime(SimulatedTime(exchange.clock, exchange.replay)),
                exchange=exchange,
                fill_model=exchange.replay.provider.describe(),
                caveats=exchange.replay.history.caveats,
            )


def _stepped_options(app: Any, section: Mapping[str, Any], run: RunSpec) -> dict[str, Any]:
    """The in-process exchange of this run: stepped, its ids from the run, its history."""
    return {
        "stepped": True,
        "id_namespace": f"kalshi-core-run/{run.run_id}",
        "seed": run.seed,
        "data": str(history_dir(section, run)),
        "data_sets": history_sets(section, run),
        "window": (run.start, run.end),
        "fill_model": fill_model_of(app, section),
        "latency": latency_of(section),
    }


@contextlib.asynccontextmanager
async def _served_exchange(app: Any, run: RunSpec) -> AsyncIterator[OpenVenue]:
    """An exchange already serving at ``kalshi.base_url``: on its own clock when it publishes
    one (a ``kalshi-core exchange serve``: no rate limit but its own), else the wall clock."""
    url = str(app.section("kalshi").get("base_url") or "")
    local = {"rate_limiter": RateLimiter.unthrottled()} if _on_loopback(url) else {}
    source = app.settings.data.source
    client = app.build("data_sources", source, allow_remote=run.allow_remote, **local)
    async with client:
        published = await client.get_local_clock() if local else None
        time: WallTime | ExchangeTime
        if published is None:
            clock: Clock = SystemClock()
            time = WallTime(clock)
        else:
            clock = ManualClock(published.now)
            time = ExchangeTime(client, clock, published)
        yield OpenVenue(
            gateway=listing_gateway(app, client, clock),
            clock=clock,
            description=f"{client.transport.base_url} (paper)",
            time=time,
        )


def _on_loopback(url: str) -> bool:
    try:
        return bool(is_loopback(httpx.URL(url).host))
    except httpx.InvalidURL:
        return False


@contextlib.asynccontextmanager
async def open_kalshi(
    section: Mapping[str, Any], *, app: Any, run: RunSpec
) -> AsyncIterator[OpenVenue]:
    """Kalshi itself (or any exchange at ``kalshi.base_url``), on the wall clock. A remote URL
    is reachable only when the live guard allowed it (``run.allow_remote``)."""
    if not app.section("kalshi").get("base_url"):
        raise ConfigError("run.venue = 'kalshi' needs kalshi.base_url (Kalshi's API URL)")
    async with _served_exchange(app, run) as venue:
        kind = "live" if run.allow_remote else "paper"
        venue.description = venue.description.replace("(paper)", f"({kind})")
        yield venue


def listing_gateway(app: Any, client: Any, clock: Clock) -> ClientGateway:
    """The client's gateway with the run's ``full_listing_every`` (incremental listing, asked
    from the exchange's ``clock``)."""
    every = int(app.section("run").get("full_listing_every", 1))
    return ClientGateway(client, full_listing_every=every, clock=clock)
