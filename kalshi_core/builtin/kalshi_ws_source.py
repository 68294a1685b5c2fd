"""Built-in data source ``kalshi-ws``: Kalshi's WebSocket feed as a streaming market-data source
(:class:`~kalshi_core.client.stream_feed.StreamingSource`), configured from ``[stream]``.

``kalshi-core run`` builds it when ``run.market_data = "stream"``, from the HTTP client the venue
already has (same URL, same key): the feed of the local exchange in paper trading, Kalshi's own
live. A non-loopback URL needs ``allow_remote=True``, which only the engine passes after the
live-trading confirmation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kalshi_core.client import KalshiClient
from kalshi_core.client.stream import stream_url
from kalshi_core.client.stream_feed import Backoff, StreamingSource
from kalshi_core.errors import ConfigError
from kalshi_core.hookspecs import hookimpl
from kalshi_core.settings_rules import Rule

NAME = "kalshi-ws"
SECTION = "stream"
DEFAULTS: dict[str, Any] = {
    "queue_size": 10_000,
    "heartbeat_seconds": 15.0,
    "reply_timeout_seconds": 5.0,
    "backoff_base_seconds": 0.5,
    "backoff_max_seconds": 30.0,
}
RULES = (
    Rule(
        key="stream.queue_size",
        types=(int,),
        minimum=1,
        maximum=10_000_000,
        description="updates waiting for the engine; beyond it a market resyncs from a snapshot",
    ),
    Rule(
        key="stream.heartbeat_seconds",
        types=(int, float),
        minimum=0,
        maximum=3600,
        description="wall seconds between heartbeats on the feed (0: none)",
    ),
    Rule(
        key="stream.reply_timeout_seconds",
        types=(int, float),
        minimum=0,
        exclusive_minimum=True,
        maximum=600,
        description="wall seconds a command (or heartbeat) may wait for its reply",
    ),
    Rule(
        key="stream.backoff_base_seconds",
        types=(int, float),
        minimum=0,
        exclusive_minimum=True,
        maximum=600,
        description="first reconnect's longest wait; doubles per failed attempt (with jitter)",
    ),
    Rule(
        key="stream.backoff_max_seconds",
        types=(int, float),
        minimum=0,
        exclusive_minimum=True,
        maximum=3600,
        description="longest wait between two reconnect attempts",
    ),
)


def make_stream_source(
    section: Mapping[str, Any],
    *,
    client: KalshiClient,
    allow_remote: bool = False,
    seed: int = 0,
    tick: Callable[[], None] | None = None,
) -> StreamingSource:
    """The feed of the exchange ``client`` talks to, signed with the client's key."""
    transport = client.transport
    if transport.signer is None:
        raise ConfigError("the kalshi-ws data source needs a signed client (kalshi.api_key_id)")
    settings = {**DEFAULTS, **section}
    return StreamingSource(
        stream_url(str(transport.base_url)),
        transport.signer,
        allow_remote=allow_remote,
        queue_size=int(settings["queue_size"]),
        heartbeat_seconds=float(settings["heartbeat_seconds"]),
        reply_timeout=float(settings["reply_timeout_seconds"]),
        backoff=Backoff(
            base=float(settings["backoff_base_seconds"]),
            cap=float(settings["backoff_max_seconds"]),
        ),
        seed=seed,
        tick=tick,
    )


@hookimpl
def register_settings(register: Any) -> None:
    register(SECTION, DEFAULTS, RULES)


@hookimpl
def register_data_sources(register: Any) -> None:
    register(NAME, make_stream_source)
