"""Exports the HTTP client's own call counters (:mod:`kalshi_core.client.metrics`) at scrape
time: the client keeps counting as it always did, the exporter only reads them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import accumulate

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from kalshi_core.client.metrics import ClientMetrics, LatencyHistogram

ClientSource = Callable[[], ClientMetrics | None]


def _buckets(histogram: LatencyHistogram) -> list[tuple[str, float]]:
    cumulative = list(accumulate(histogram.counts))
    bounds = [f"{bound:g}" for bound in histogram.bounds] + ["+Inf"]
    return list(zip(bounds, (float(c) for c in cumulative), strict=True))


class ClientCollector(Collector):
    """Calls by endpoint template and status, latency, retries and rate-limit waits."""

    def __init__(self, source: ClientSource) -> None:
        self.source = source

    def describe(self) -> Iterator[Metric]:
        return self._families(ClientMetrics())

    def collect(self) -> Iterator[Metric]:
        return self._families(self.source() or ClientMetrics())

    @staticmethod
    def _families(metrics: ClientMetrics) -> Iterator[Metric]:
        calls = CounterMetricFamily(
            "kalshi_api_calls",
            "Exchange API calls by endpoint template and HTTP status.",
            labels=("endpoint", "status"),
        )
        for (endpoint, status), count in sorted(metrics.calls.items()):
            calls.add_metric((endpoint, status), count)
        retries = CounterMetricFamily(
            "kalshi_api_retries",
            "Exchange API retries by endpoint template and reason.",
            labels=("endpoint", "reason"),
        )
        for (endpoint, reason), count in sorted(metrics.retries.items()):
            retries.add_metric((endpoint, reason), count)
        latency = HistogramMetricFamily(
            "kalshi_api_request_duration_seconds",
            "Exchange API call latency in seconds, by endpoint template.",
            labels=("endpoint",),
        )
        for endpoint, histogram in sorted(metrics.latency.items()):
            latency.add_metric((endpoint,), _buckets(histogram), histogram.sum_seconds)
        waits = CounterMetricFamily(
            "kalshi_api_rate_limit_wait_seconds",
            "Seconds the client waited for its rate limiter.",
            value=metrics.rate_limit_wait_seconds,
        )
        yield from (calls, retries, latency, waits)
