"""What a session trades on: a :class:`VenueRun` (a gateway, the clock the engine reads, and
how time moves from one cycle to the next).

Three kinds of time, one interface (:class:`VenueTime`):

* :class:`~kalshi_core.clock.SimulatedTime`: recorded history in this process. The session
  steps a shared :class:`~kalshi_core.clock.ManualClock`; the replay applies every recorded
  event up to the next cycle's time before the engine looks. A run is then a pure function of
  data, settings and seed.
* :class:`ExchangeTime`: a local exchange served by another process, which publishes its clock.
  A *stepped* one is stepped by the session exactly like simulated time (reproducible); one
  whose clock runs by itself is followed.
* :class:`WallTime`: a live venue; cycles are ``run.cycle_seconds`` of wall time apart.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

import attrs

from kalshi_core.client import KalshiClient, LocalClock
from kalshi_core.clock import Clock, ManualClock, SimulatedTime
from kalshi_core.errors import KalshiCoreError
from kalshi_core.gateway import Gateway


@attrs.frozen(kw_only=True)
class RunSpec:
    """What every venue factory is told about the run: its id (ids on the venue derive from
    it, so a run is reproducible), the seed, the recorded history to replay (empty: the
    ``[exchange]`` settings), its recorded-time window (``start``/``end``: ``None`` for the
    whole history) and whether the live guard allowed a remote exchange."""

    run_id: str
    seed: int = 0
    data_dir: str = ""
    data_sets: tuple[str, ...] = ()
    allow_remote: bool = False
    start: datetime | None = None
    end: datetime | None = None


class VenueRun(Protocol):
    """An open venue for one session."""

    gateway: Gateway
    clock: Clock
    description: str

    @property
    def finished(self) -> bool:
        """True once recorded history has been replayed to its end (never on a live venue)."""

    async def advance(self, step: timedelta) -> datetime:
        """Move to the next cycle's time, ``step`` after the last one, and return it."""

    def wall_wait(self, step: timedelta) -> float:
        """Wall seconds to wait after a cycle before the next (0: time is stepped)."""


@attrs.define
class WallTime:
    """The wall clock: a live venue's time moves by itself."""

    clock: Clock

    @property
    def finished(self) -> bool:
        return False

    async def advance(self, step: timedelta) -> datetime:
        return self.clock.now()

    def wall_wait(self, step: timedelta) -> float:
        return step.total_seconds()


@attrs.define
class LocalTime:
    """:class:`SimulatedTime` behind the async interface: stepped, never waited for."""

    simulated: SimulatedTime

    @property
    def finished(self) -> bool:
        return self.simulated.finished

    async def advance(self, step: timedelta) -> datetime:
        return self.simulated.advance(step)

    def wall_wait(self, step: timedelta) -> float:
        return 0.0


@attrs.define
class ExchangeTime:
    """The clock a served local exchange publishes (``GET /local/clock``), mirrored into
    ``clock`` for the engine. A stepped exchange is advanced by the session; one running by
    itself is followed, a cycle every ``step`` of its time (``step / speed`` wall seconds)."""

    client: KalshiClient
    clock: ManualClock
    state: LocalClock

    @property
    def finished(self) -> bool:
        return self.state.finished

    async def advance(self, step: timedelta) -> datetime:
        try:
            if self.state.stepped:
                self.state = await self.client.advance_local_clock(step.total_seconds())
            else:
                self.state = await self._read()
        except KalshiCoreError:  # an unknown outcome: ask where the exchange stands
            self.state = await self._read()
        self.clock.set(max(self.state.now, self.clock.now()))
        return self.clock.now()

    async def _read(self) -> LocalClock:
        state = await self.client.get_local_clock()
        if state is None:
            raise KalshiCoreError("the exchange stopped publishing its clock")
        return state

    def wall_wait(self, step: timedelta) -> float:
        if self.state.stepped:
            return 0.0
        return step.total_seconds() / self.state.speed if self.state.speed > 0 else 0.0


VenueTime = WallTime | LocalTime | ExchangeTime


@attrs.define
class OpenVenue:
    """A :class:`VenueRun` from its parts; ``exchange`` is the local exchange when there is one
    in this process (the summary shows its progress); ``fill_model`` is the replay's fill
    model's ``describe()`` (what a report prints about how orders filled), empty when no
    history is replayed here."""

    gateway: Gateway
    clock: Clock
    description: str
    time: VenueTime
    exchange: object | None = None
    fill_model: dict[str, str] = attrs.field(factory=dict)
    #: What the session report must say about the data replayed (History.caveats).
    caveats: tuple[str, ...] = ()

    @property
    def finished(self) -> bool:
        return self.time.finished

    async def advance(self, step: timedelta) -> datetime:
        return await self.time.advance(step)

    def wall_wait(self, step: timedelta) -> float:
        return self.time.wall_wait(step)
