"""Hit, miss and latency counters of the cache, per kind of value.

Plain numbers a metrics exporter reads (``snapshot()``), so the cache does not depend on any
metrics library: the monitoring code turns them into Prometheus counters.
"""

from __future__ import annotations

from collections import Counter

import attrs


@attrs.define
class CacheStats:
    """Counters since start-up. ``hits`` include reads answered by another worker's refresh
    (``waits``); ``loads`` are reads that went to the exchange (or the model)."""

    hits: Counter[str] = attrs.field(factory=Counter)
    misses: Counter[str] = attrs.field(factory=Counter)
    waits: Counter[str] = attrs.field(factory=Counter)
    loads: Counter[str] = attrs.field(factory=Counter)
    seconds: dict[str, float] = attrs.field(factory=dict)
    invalidations: Counter[str] = attrs.field(factory=Counter)
    backend_errors: int = 0
    fallbacks: int = 0
    recoveries: int = 0

    def record(self, kind: str, *, hit: bool, seconds: float) -> None:
        (self.hits if hit else self.misses)[kind] += 1
        self.seconds[kind] = self.seconds.get(kind, 0.0) + seconds

    def lookups(self, kind: str | None = None) -> int:
        if kind is None:
            return sum(self.hits.values()) + sum(self.misses.values())
        return self.hits[kind] + self.misses[kind]

    def hit_rate(self, kind: str | None = None) -> float:
        """Share of lookups answered from the cache; 0.0 before the first lookup."""
        total = self.lookups(kind)
        hits = sum(self.hits.values()) if kind is None else self.hits[kind]
        return hits / total if total else 0.0

    def mean_seconds(self, kind: str) -> float:
        """Average time one lookup of ``kind`` took, hit or miss (loading included)."""
        total = self.lookups(kind)
        return self.seconds.get(kind, 0.0) / total if total else 0.0

    def snapshot(self) -> dict[str, float]:
        """Flat ``name -> value`` pairs, e.g. ``hits.markets``, ``backend_errors``."""
        flat: dict[str, float] = {}
        for name in ("hits", "misses", "waits", "loads", "seconds", "invalidations"):
            counter: dict[str, float] = getattr(self, name)
            flat.update({f"{name}.{kind}": float(n) for kind, n in sorted(counter.items())})
        flat["backend_errors"] = float(self.backend_errors)
        flat["fallbacks"] = float(self.fallbacks)
        flat["recoveries"] = float(self.recoveries)
        return flat
