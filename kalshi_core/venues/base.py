"""What a session trades on: a :class:`VenueRun` (a gateway, the clock the engine reads, and
how time moves from one cycle to the next).

A venue with recorded history steps a shared :class:`~kalshi_core.clock.ManualClock`: the
replay applies every recorded event up to the next cycle's time before the engine looks, so a
run is a pure function of data, settings and seed. A live venue follows the wall clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

import attrs

from kalshi_core.clock import Clock, ManualClock
from kalshi_core.engine.gateway import Gateway


@attrs.frozen(kw_only=True)
class RunSpec:
    """What every venue factory is told about the run: its id (ids on the venue derive from
    it, so a run is reproducible), the seed, the recorded history to replay (empty: the
    ``[exchange]`` settings) and whether the live guard allowed a remote exchange."""

    run_id: str
    seed: int = 0
    data_dir: str = ""
    data_sets: tuple[str, ...] = ()
    allow_remote: bool = False


class Replayable(Protocol):
    """Recorded history as a venue replays it (:class:`kalshi_core.exchange.replay.Replay`)."""

    @property
    def finished(self) -> bool: ...

    def advance(self, until: datetime) -> int: ...

    def idle_until(self, now: datetime) -> datetime | None: ...


class VenueRun(Protocol):
    """An open venue for one session."""

    gateway: Gateway
    clock: Clock
    description: str

    @property
    def stepped(self) -> bool:
        """True when the session moves time (recorded history); False on the wall clock."""

    @property
    def finished(self) -> bool:
        """True once recorded history has been replayed to its end (never on a live venue)."""

    def advance(self, step: timedelta) -> datetime:
        """Move to the next cycle's time, at least ``step`` later, and return it."""


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


@attrs.define
class WallTime:
    """The wall clock: a live venue's time moves by itself."""

    clock: Clock

    @property
    def finished(self) -> bool:
        return False

    def advance(self, step: timedelta) -> datetime:
        return self.clock.now()


@attrs.define
class OpenVenue:
    """A :class:`VenueRun` from its parts; ``exchange`` is the local exchange when there is one
    in this process (the summary shows its progress)."""

    gateway: Gateway
    clock: Clock
    description: str
    time: SimulatedTime | WallTime
    exchange: object | None = None

    @property
    def stepped(self) -> bool:
        return isinstance(self.time, SimulatedTime)

    @property
    def finished(self) -> bool:
        return self.time.finished

    def advance(self, step: timedelta) -> datetime:
        return self.time.advance(step)
