"""The injected clock: nothing in the engine or the local exchange reads the wall clock directly.

Backtests and tests drive a :class:`ManualClock`; paper and live trading use
:class:`SystemClock`; the local exchange replaying recorded history runs on a
:class:`ReplayClock` (recorded time, played at a chosen speed). Every clock returns
timezone-aware UTC datetimes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

import attrs


@runtime_checkable
class Clock(Protocol):
    """A source of the current time."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to, and never backwards."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 1, 1, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError(f"ManualClock needs a timezone-aware start time, got {start!r}")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        """Move the clock to ``when``; moving backwards raises ``ValueError``."""
        if when.tzinfo is None:
            raise ValueError(f"ManualClock.set needs a timezone-aware time, got {when!r}")
        if when < self._now:
            raise ValueError(f"ManualClock cannot go back from {self._now} to {when}")
        self._now = when

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta`` and return the new time."""
        self.set(self._now + delta)
        return self._now


class ReplayClock:
    """Recorded time played back at ``speed`` x real time, with jumps over idle gaps.

    ``now() == start + (monotonic() - monotonic at start) * speed + skipped``. Changing
    ``speed`` re-anchors at the current reading, so ``now()`` stays continuous; ``skip_to``
    jumps forward only. The clock never goes backwards, whatever ``monotonic`` does.
    """

    def __init__(
        self,
        start: datetime,
        speed: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if start.tzinfo is None:
            raise ValueError(f"ReplayClock needs a timezone-aware start time, got {start!r}")
        _check_speed(speed)
        self._monotonic = monotonic
        self._anchor = start
        self._anchor_reading = monotonic()
        self._speed = float(speed)
        self._skipped = timedelta(0)
        self._latest = start

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, speed: float) -> None:
        _check_speed(speed)
        reading = self._monotonic()
        current = self._at(reading)
        self._anchor, self._anchor_reading, self._skipped = current, reading, timedelta(0)
        self._speed = float(speed)

    @property
    def skipped(self) -> timedelta:
        """Total time jumped over by ``skip_to`` since the last speed change."""
        return self._skipped

    def now(self) -> datetime:
        return self._at(self._monotonic())

    def skip_to(self, when: datetime) -> datetime:
        """Jump forward to ``when`` (an earlier ``when`` changes nothing); returns now()."""
        if when.tzinfo is None:
            raise ValueError(f"ReplayClock.skip_to needs a timezone-aware time, got {when!r}")
        current = self.now()
        if when > current:
            self._skipped += when - current
            self._latest = when
        return self._latest

    def _at(self, reading: float) -> datetime:
        # A monotonic source that stalls or steps back must not move recorded time back.
        elapsed = max(0.0, reading - self._anchor_reading) * self._speed
        candidate = self._anchor + timedelta(seconds=elapsed) + self._skipped
        self._latest = max(self._latest, candidate)
        return self._latest


class PacedClock:
    """Recorded time that a replay sets event by event, paced by a running clock.

    ``pace`` is a :class:`ReplayClock` (recorded time at a speed, jumping over idle gaps) or,
    when the history has been shifted to the present, the wall clock itself. ``now()`` is the
    time the replay has reached, not the pace's reading: when the pace has run ahead (a fast
    ``speed``, a slow request), :meth:`catch_up` applies every recorded event at its own time
    before moving on, so a market's close never overtakes the prints recorded before it. The
    venue of a running local exchange reads this clock.
    """

    def __init__(self, pace: Clock) -> None:
        self.pace = pace
        self._now = pace.now()

    @property
    def speed(self) -> float:
        return float(getattr(self.pace, "speed", 1.0))

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        """Move to ``when``; an earlier ``when`` changes nothing (the replay only moves on)."""
        if when.tzinfo is None:
            raise ValueError(f"PacedClock.set needs a timezone-aware time, got {when!r}")
        self._now = max(self._now, when)

    def catch_up(self, replay: Replayable) -> datetime:
        """Apply ``replay`` up to the pace's time and move there; a pace that can
        (``skip_to``) first jumps over a gap in which no market trades."""
        target = self.pace.now()
        skip_to: Callable[[datetime], datetime] | None = getattr(self.pace, "skip_to", None)
        idle = replay.idle_until(target) if skip_to is not None else None
        if skip_to is not None and idle is not None:
            target = skip_to(idle)
        replay.advance(target)
        self.set(target)
        return self._now


def _check_speed(speed: float) -> None:
    if not (math.isfinite(speed) and speed >= 0):
        raise ValueError(f"ReplayClock speed must be a finite number >= 0, got {speed!r}")


class Replayable(Protocol):
    """Recorded history as a venue replays it (:class:`kalshi_core.exchange.replay.Replay`)."""

    events_applied: int
    events_total: int

    @property
    def finished(self) -> bool: ...

    def advance(self, until: datetime) -> int: ...

    def idle_until(self, now: datetime) -> datetime | None: ...


@attrs.define
class SimulatedTime:
    """Recorded time, stepped by the session.

    Each :meth:`advance` moves ``step`` forward, applying every recorded event up to that time
    (so prints land before a close at the same instant), and jumps straight to the next event
    while no market is trading. Nothing here reads the wall clock.
    """

    clock: ManualClock
    replay: Replayable

    @property
    def finished(self) -> bool:
        return self.replay.finished

    @property
    def progress(self) -> tuple[int, int]:
        """Recorded events applied so far, and how many the history holds."""
        return self.replay.events_applied, self.replay.events_total

    def advance(self, step: timedelta) -> datetime:
        target = self.clock.now() + step
        self._apply(target)
        while (idle := self.replay.idle_until(target)) is not None:
            target = idle
            self._apply(target)
        return target

    def _apply(self, until: datetime) -> None:
        self.replay.advance(until)
        self.clock.set(max(until, self.clock.now()))
