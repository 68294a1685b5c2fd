"""Token-bucket arithmetic, driven by a fake monotonic clock (the time source, not a mock)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kalshi_core.client import TIERS, RateLimiter, TokenBucket
from kalshi_core.errors import ConfigError


class FakeClock:
    """A monotonic clock that moves only when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_a_full_bucket_serves_its_capacity_without_waiting() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        assert await bucket.acquire() == 0
    assert clock.slept == []
    assert bucket.tokens == pytest.approx(0)


async def test_an_empty_bucket_waits_for_the_refill() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, clock=clock, sleep=clock.sleep)
    await bucket.acquire(10)
    assert await bucket.acquire() == pytest.approx(0.1)
    assert await bucket.acquire(5) == pytest.approx(0.5)
    assert clock.slept == [pytest.approx(0.1), pytest.approx(0.5)]
    assert bucket.waited_seconds == pytest.approx(0.6)


async def test_refill_stops_at_capacity() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, capacity=20, clock=clock, sleep=clock.sleep)
    await bucket.acquire(20)
    clock.now += 60  # a long idle spell does not bank more than the capacity
    assert bucket.tokens == pytest.approx(20)
    await bucket.acquire(20)
    assert await bucket.acquire(1) == pytest.approx(0.1)


def test_concurrent_reservations_queue_in_order() -> None:
    clock = FakeClock()
    bucket = TokenBucket(4, clock=clock, sleep=clock.sleep)
    waits = [bucket.reserve() for _ in range(8)]
    assert waits == [pytest.approx(w) for w in (0, 0, 0, 0, 0.25, 0.5, 0.75, 1.0)]


async def test_fractional_costs_batch_cancel_style() -> None:
    clock = FakeClock()
    bucket = TokenBucket(1, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        assert await bucket.acquire(0.2) == 0
    assert await bucket.acquire(0.2) == pytest.approx(0.2)


@given(
    rate=st.integers(1, 500),
    costs=st.lists(st.integers(1, 50), min_size=1, max_size=30),
)
def test_never_exceeds_rate_plus_burst(rate: int, costs: list[int]) -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate, clock=clock, sleep=clock.sleep)
    start = clock.now
    for cost in costs:
        clock.now += bucket.reserve(cost)  # the caller proceeds when its wait is over
    elapsed = clock.now - start
    assert sum(costs) <= bucket.capacity + rate * elapsed + 1e-6


def test_tier_presets() -> None:
    assert {name: (t.read_rps, t.write_rps) for name, t in TIERS.items()} == {
        "basic": (20, 10),
        "advanced": (30, 30),
        "premier": (100, 100),
        "prime": (400, 400),
    }
    limiter = RateLimiter.for_tier("Premier")
    assert (limiter.read.rate, limiter.write.rate) == (100, 100)
    with pytest.raises(ConfigError, match="unknown Kalshi rate-limit tier 'gold'"):
        RateLimiter.for_tier("gold")
    with pytest.raises(ConfigError):
        TokenBucket(0)


async def test_reads_and_writes_use_separate_buckets() -> None:
    clock = FakeClock()
    limiter = RateLimiter.for_rates(2, 1, clock=clock, sleep=clock.sleep)
    await limiter.acquire_write()
    assert await limiter.acquire_read() == 0
    assert await limiter.acquire_read() == 0
    assert await limiter.acquire_write() == pytest.approx(1.0)
