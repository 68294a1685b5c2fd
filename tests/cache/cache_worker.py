"""A trading worker process with the Redis cache: one Engine over a CachingGateway.

Like ``tests/multiworker/engine_worker.py`` (same stdin/stdout protocol), plus the shared
cache: ``--redis-url`` and ``--namespace`` name the Redis keys every worker shares. The JSON
report adds the exchange calls this worker made, by endpoint, and its cache counters. Run
from the repository root::

    MULTIWORKER_DATABASE_URL=URL python -m tests.cache.cache_worker --base-url URL \\
        --key-id ID --key-file PATH --worker-id W --cycles N --redis-url URL --namespace NS
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections import Counter
from pathlib import Path

import attrs
from kalshi_plugin_redis.plugin import redis_cache

from kalshi_core.cache.gateway import CachingGateway
from kalshi_core.cache.wiring import cache_from_section
from kalshi_core.clock import SystemClock
from kalshi_core.plugins import Registry
from tests.multiworker.engine_worker import RecordingGateway, expect, say, trade
from tests.multiworker.support import (
    DATABASE_URL_ENV,
    GO,
    READY,
    RELEASE,
    RELEASED,
    AlwaysTrade,
    make_client,
    make_engine,
    open_database,
)


def calls_by_endpoint(snapshot: dict[str, object]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for row in snapshot["calls"]:  # type: ignore[attr-defined]
        counts[row["endpoint"]] += int(row["count"])
    return dict(counts)


async def main(options: argparse.Namespace) -> None:
    database = open_database(os.environ[DATABASE_URL_ENV])
    client = make_client(options.base_url, options.key_id, Path(options.key_file))
    backends: Registry[object] = Registry("cache backend")
    backends.add("redis", redis_cache, "redis")
    section = {
        "backend": "redis",
        "url": options.redis_url,
        "namespace": options.namespace,
        "markets_ttl_seconds": 600,
    }
    cache = cache_from_section(section, backends)
    recording = RecordingGateway(client)
    engine = make_engine(
        CachingGateway(recording, cache),
        database,
        SystemClock(),
        worker_id=options.worker_id,
        strategies=[AlwaysTrade()],
    )
    try:
        say(READY)
        expect(GO)
        tally = await trade(engine, options.cycles)
        report = {
            "worker_id": options.worker_id,
            "tickers": sorted(recording.tickers),
            "sent": recording.sent,
            "calls": calls_by_endpoint(client.metrics.snapshot()),
            "cache": cache.stats.snapshot(),
            **attrs.asdict(tally),
        }
        say(json.dumps(report))
        expect(RELEASE)
        await engine.release()
        say(RELEASED)
    finally:
        await cache.close()
        await client.aclose()
        await database.close()


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    for name in ("--base-url", "--key-id", "--key-file", "--worker-id", "--redis-url"):
        parser.add_argument(name, required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--cycles", type=int, required=True)
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse(sys.argv[1:])))
