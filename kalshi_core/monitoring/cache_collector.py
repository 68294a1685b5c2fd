"""Exports the cache's own counters (:class:`~kalshi_core.cache.stats.CacheStats`) at scrape
time, as the client collector does for the HTTP client: the cache keeps plain numbers and
depends on no metrics library."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import attrs
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from kalshi_core.cache.stats import CacheStats


@attrs.frozen
class CacheSource:
    """The cache to read: its backend's name (a label) and its live counters."""

    backend: str
    stats: CacheStats


CacheReader = Callable[[], CacheSource | None]
_BACKEND_EVENTS = (
    ("backend_errors", "Shared cache backend calls that failed (each answered from memory)."),
    ("fallbacks", "Times the cache fell back to memory because its shared backend was down."),
    ("recoveries", "Times the shared cache backend came back after a fallback."),
)


class CacheCollector(Collector):
    """Look-ups by kind and result, loads, waits on another worker's refresh, invalidations,
    time spent, and the shared backend's outages."""

    def __init__(self, source: CacheReader) -> None:
        self.source = source

    def describe(self) -> Iterator[Metric]:
        return self._families(CacheSource("memory", CacheStats()))

    def collect(self) -> Iterator[Metric]:
        return self._families(self.source() or CacheSource("memory", CacheStats()))

    @staticmethod
    def _families(source: CacheSource) -> Iterator[Metric]:
        stats, cache = source.stats, source.backend
        lookups = CounterMetricFamily(
            "kalshi_cache_requests",
            "Cache look-ups by backend, kind of value and result (hit, miss).",
            labels=("cache", "kind", "result"),
        )
        for result, counter in (("hit", stats.hits), ("miss", stats.misses)):
            for kind, count in sorted(counter.items()):
                lookups.add_metric((cache, kind, result), count)
        yield lookups
        yield from _per_kind(cache, stats)
        for name, text in _BACKEND_EVENTS:
            family = CounterMetricFamily(f"kalshi_cache_{name}", text, labels=("cache",))
            family.add_metric((cache,), float(getattr(stats, name)))
            yield family


def _per_kind(cache: str, stats: CacheStats) -> Iterator[Metric]:
    described = (
        (
            "loads",
            stats.loads,
            "Reads that went to the exchange or the model (cache misses loaded).",
        ),
        ("waits", stats.waits, "Reads answered by another worker's refresh (stampede protection)."),
        ("invalidations", stats.invalidations, "Entries dropped after our own orders and fills."),
        ("lookup_seconds", stats.seconds, "Seconds spent in cache look-ups, loading included."),
    )
    for name, counter, text in described:
        family = CounterMetricFamily(f"kalshi_cache_{name}", text, labels=("cache", "kind"))
        for kind, value in sorted(counter.items()):
            family.add_metric((cache, kind), float(value))
        yield family
