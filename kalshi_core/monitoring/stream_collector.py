"""Exports the streaming market-data source's counters (``kalshi_core.client.stream_feed``) at
scrape time: reconnects, gaps, overflows and resyncs, so a dropped update is never silent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from kalshi_core.client.stream_feed import FeedStats

StreamStatsSource = Callable[[], FeedStats | None]
EVENTS = (
    "connects",
    "disconnects",
    "failed_connects",
    "heartbeat_failures",
    "gaps",
    "overflows",
    "superseded",
    "resyncs",
    "bad_messages",
)


def engine_stream_stats(engine: Any) -> StreamStatsSource:
    """The counters of ``engine``'s market feed, if it streams (None while it polls)."""

    def read() -> FeedStats | None:
        feed = getattr(getattr(engine, "market_data", None), "feed", None)
        stats = getattr(feed, "stats", None)
        return stats if isinstance(stats, FeedStats) else None

    return read


class StreamCollector(Collector):
    """``kalshi_stream_events_total{event=...}``: what the stream source did."""

    def __init__(self, source: StreamStatsSource) -> None:
        self.source = source

    def describe(self) -> Iterator[Metric]:
        return self._families(FeedStats())

    def collect(self) -> Iterator[Metric]:
        return self._families(self.source() or FeedStats())

    @staticmethod
    def _families(stats: FeedStats) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "kalshi_stream_events",
            "What the streaming market-data source did: connects, disconnects, sequence gaps, "
            "queue overflows, deltas superseded by a snapshot, resyncs, unreadable messages.",
            labels=("event",),
        )
        for event in EVENTS:
            family.add_metric((event,), getattr(stats, event))
        yield family
