"""The injected clocks."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from kalshi_core.clock import Clock, ManualClock, SystemClock

from .support import START


def test_manual_clock_moves_only_forward() -> None:
    clock = ManualClock(START)
    assert clock.now() == START
    assert clock.advance(timedelta(seconds=5)) == START + timedelta(seconds=5)
    clock.set(START + timedelta(hours=1))
    with pytest.raises(ValueError, match="cannot go back"):
        clock.set(START)
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.set(datetime(2030, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        ManualClock(datetime(2030, 1, 1))


def test_clocks_satisfy_the_protocol() -> None:
    assert isinstance(ManualClock(), Clock)
    assert isinstance(SystemClock(), Clock)
    assert SystemClock().now().tzinfo is not None
