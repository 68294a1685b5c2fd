"""In-process counters for the HTTP client: calls by endpoint and status, latency, retries.

Endpoints are recorded by template (``GET /markets/{ticker}``), never by concrete path, so the
label set stays small; nothing recorded here can contain a secret. The metrics exporter reads
:meth:`ClientMetrics.snapshot`.
"""

from __future__ import annotations

import bisect
from collections import Counter
from typing import Any

# Upper bounds in seconds; the last bucket is open-ended.
LATENCY_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class LatencyHistogram:
    """Counts of observations per bucket, plus their count and sum."""

    def __init__(self, bounds: tuple[float, ...] = LATENCY_BUCKETS) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.total = 0
        self.sum_seconds = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, seconds)] += 1
        self.total += 1
        self.sum_seconds += seconds

    def snapshot(self) -> dict[str, Any]:
        labels = [f"le_{bound:g}" for bound in self.bounds] + ["le_inf"]
        return {
            "buckets": dict(zip(labels, self.counts, strict=True)),
            "count": self.total,
            "sum_seconds": self.sum_seconds,
        }


class ClientMetrics:
    """What the client did. ``status`` is the HTTP status, or ``timeout`` / ``transport_error``."""

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        self.retries: Counter[tuple[str, str]] = Counter()
        self.latency: dict[str, LatencyHistogram] = {}
        self.coalesced: Counter[str] = Counter()
        self.rate_limit_wait_seconds = 0.0

    def record_call(self, endpoint: str, status: int | str, seconds: float) -> None:
        self.calls[(endpoint, str(status))] += 1
        self.latency.setdefault(endpoint, LatencyHistogram()).observe(seconds)

    def record_retry(self, endpoint: str, reason: str) -> None:
        self.retries[(endpoint, reason)] += 1

    def record_coalesced(self, endpoint: str) -> None:
        self.coalesced[endpoint] += 1

    def record_rate_limit_wait(self, seconds: float) -> None:
        self.rate_limit_wait_seconds += seconds

    def snapshot(self) -> dict[str, Any]:
        """Plain dicts and numbers, safe to serialise."""
        return {
            "calls": [
                {"endpoint": endpoint, "status": status, "count": count}
                for (endpoint, status), count in sorted(self.calls.items())
            ],
            "retries": [
                {"endpoint": endpoint, "reason": reason, "count": count}
                for (endpoint, reason), count in sorted(self.retries.items())
            ],
            "latency": {name: hist.snapshot() for name, hist in sorted(self.latency.items())},
            "coalesced": dict(sorted(self.coalesced.items())),
            "rate_limit_wait_seconds": self.rate_limit_wait_seconds,
        }
