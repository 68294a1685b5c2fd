"""ReplayClock arithmetic with an injected monotonic source (no sleeping, no wall clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import hypothesis.strategies as st
import pytest
from hypothesis import given

from kalshi_core.clock import Clock, ReplayClock

START = datetime(2026, 8, 15, 10, 0, tzinfo=UTC)


class FakeMonotonic:
    """A monotonic() stand-in that tests move by hand."""

    def __init__(self, value: float = 1000.0) -> None:
        self.value = value

    def __call__(self) -> float:
        return self.value


def test_now_is_start_plus_scaled_elapsed() -> None:
    mono = FakeMonotonic()
    clock = ReplayClock(START, 60.0, monotonic=mono)
    assert isinstance(clock, Clock)
    assert clock.now() == START
    mono.value += 2.5
    assert clock.now() == START + timedelta(seconds=150)


def test_skip_to_jumps_forward_and_time_keeps_running() -> None:
    mono = FakeMonotonic()
    clock = ReplayClock(START, 10.0, monotonic=mono)
    mono.value += 1
    target = START + timedelta(hours=3)
    assert clock.skip_to(target) == target
    assert clock.now() == target
    assert clock.skipped == target - (START + timedelta(seconds=10))
    mono.value += 1
    assert clock.now() == target + timedelta(seconds=10)


def test_skip_to_the_past_changes_nothing() -> None:
    mono = FakeMonotonic()
    clock = ReplayClock(START, 1.0, monotonic=mono)
    mono.value += 100
    assert clock.skip_to(START) == START + timedelta(seconds=100)
    assert clock.skipped == timedelta(0)


def test_speed_change_keeps_now_continuous() -> None:
    mono = FakeMonotonic()
    clock = ReplayClock(START, 2.0, monotonic=mono)
    mono.value += 10
    before = clock.now()
    assert before == START + timedelta(seconds=20)
    clock.speed = 100.0
    assert clock.speed == 100.0
    assert clock.now() == before
    mono.value += 1
    assert clock.now() == before + timedelta(seconds=100)
    clock.speed = 0.0
    mono.value += 50
    assert clock.now() == before + timedelta(seconds=100)


def test_monotonic_going_back_does_not_move_time_back() -> None:
    mono = FakeMonotonic()
    clock = ReplayClock(START, 1.0, monotonic=mono)
    mono.value += 5
    seen = clock.now()
    mono.value -= 3
    assert clock.now() == seen


@pytest.mark.parametrize("speed", [-1.0, float("nan"), float("inf")])
def test_bad_speed_is_rejected(speed: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        ReplayClock(START, speed, monotonic=FakeMonotonic())
    clock = ReplayClock(START, 1.0, monotonic=FakeMonotonic())
    with pytest.raises(ValueError, match="speed"):
        clock.speed = speed


def test_naive_times_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ReplayClock(datetime(2026, 1, 1), 1.0)
    clock = ReplayClock(START, 1.0, monotonic=FakeMonotonic())
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.skip_to(datetime(2027, 1, 1))


steps = st.lists(
    st.one_of(
        st.tuples(st.just("tick"), st.floats(min_value=-5, max_value=1e4)),
        st.tuples(st.just("speed"), st.floats(min_value=0, max_value=1e4)),
        st.tuples(st.just("skip"), st.floats(min_value=-1e6, max_value=1e6)),
    ),
    max_size=40,
)


@given(steps)
def test_never_goes_backwards(operations: list[tuple[str, float]]) -> None:
    mono = FakeMonotonic()
    clock = ReplayClock(START, 1.0, monotonic=mono)
    last = clock.now()
    for kind, value in operations:
        if kind == "tick":
            mono.value += value
        elif kind == "speed":
            clock.speed = value
        else:
            target = last + timedelta(seconds=value)
            clock.skip_to(target)
            assert clock.now() >= target
        now = clock.now()
        assert now >= last
        last = now
