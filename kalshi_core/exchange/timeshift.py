"""Time-shift mode: the recorded history moved to the present, recorded offsets kept.

A client written against Kalshi filters by the wall clock (``min_ts = now - 1h``) and sets
expirations from it (``expiration_time = now + 60s``); on recorded time (January 2026 for the
bundled sets) the first finds nothing and the second never fires. Under ``exchange.time =
"present"`` every time in the history (open, close and settlement times, prints, quotes,
lifecycle events) moves by one offset, whole seconds, chosen so that the first market opens
at the wall-clock time the exchange starts; the exchange's clock then *is* the wall clock (see
:class:`kalshi_core.clock.PacedClock`). This is the one place the local exchange reads the wall
clock for its own time, through an injected :class:`~kalshi_core.clock.Clock`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeVar

import attrs

from kalshi_core.exchange.replay import EventKind, History

__all__ = ["TIME_MODES", "present_offset", "shift_history"]

TIME_MODES = ("recorded", "present")
T = TypeVar("T")


def _shifted(item: T, offset: timedelta) -> T:
    """``item`` (an attrs instance) with every datetime in it, nested ones too, moved."""
    changes: dict[str, Any] = {}
    for field in attrs.fields(type(item)):  # type: ignore[arg-type]
        value = getattr(item, field.name)
        if isinstance(value, datetime):
            changes[field.alias] = value + offset
        elif attrs.has(type(value)):
            moved = _shifted(value, offset)
            if moved is not value:
                changes[field.alias] = moved
    return attrs.evolve(item, **changes) if changes else item  # type: ignore[misc]


def present_offset(history: History, now: datetime) -> timedelta:
    """Whole seconds that move the history's first market open to ``now``."""
    opens = [e.time for e in history.events if e.kind is EventKind.OPEN]
    first = min(opens) if opens else history.start_time
    return timedelta(seconds=(now - first) // timedelta(seconds=1))


def shift_history(history: History, offset: timedelta) -> History:
    """``history`` with every recorded time moved by ``offset``; results and series kept."""
    if not offset:
        return history
    return attrs.evolve(
        history,
        markets=tuple(_shifted(m, offset) for m in history.markets),
        events=tuple(_shifted(e, offset) for e in history.events),
        records={t: _shifted(r, offset) for t, r in history.records.items()},
    )
