"""Market leases held by other workers: the dead ones' taken over, the live ones' reported.

Leases (``market_leases``, docs/adr/0001-market-ownership.md) keep two workers trading the
same exchange account off one market. A worker that dies without releasing them would hold
its markets until they expire (``run.lease_seconds`` of wall time); when its id is this
process's default form (``<host>:<pid>``, :func:`kalshi_core.engine.session.worker_id`) on
this host and that process no longer exists, it is provably dead and its leases are freed
at once. Leases of workers that may be alive are never taken: the markets they hold are
skipped, and the engine says how many and whose.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping, Sequence

import attrs

from kalshi_core.storage.repositories.leases import MarketLeases

log = logging.getLogger(__name__)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (one we may not signal still exists)."""
    if pid <= 0:
        return True  # not a process id: nothing proven
    try:
        os.kill(pid, 0)  # signal 0: an existence check, nothing is sent
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def provably_dead(worker_id: str, host: str | None = None) -> bool:
    """True when ``worker_id`` is ``<this host>:<pid>`` and no process ``pid`` runs here.

    Any other id (a configured ``run.worker_id``, another host's worker) proves nothing."""
    name, colon, pid = worker_id.rpartition(":")
    if not colon or not pid.isdigit() or name != (host or socket.gethostname()):
        return False
    return int(pid) != os.getpid() and not pid_alive(int(pid))


@attrs.frozen
class Holders:
    """Other workers' leases on markets a claim did not get: live owners (market count
    each) and how many leases of dead owners were freed."""

    live: Mapping[str, int]
    freed: int = 0

    @property
    def skipped(self) -> int:
        return sum(self.live.values())


async def free_dead_owners(leases: MarketLeases, tickers: Sequence[str], worker_id: str) -> Holders:
    """Free every lease of a provably dead owner among those held on ``tickers``."""
    live: dict[str, int] = {}
    freed = 0
    for owner, count in sorted((await leases.holders(tickers, worker_id)).items()):
        if provably_dead(owner):
            log.warning(
                "taking over %d market lease(s) of worker %s: its process is gone", count, owner
            )
            await leases.release(owner)
            freed += count
        else:
            live[owner] = count
    return Holders(live, freed)


def describe_owners(live: Mapping[str, int]) -> str:
    """``"vm:12 (40), bot-b (3)"``: who holds how many of the skipped markets."""
    return ", ".join(f"{owner} ({count})" for owner, count in sorted(live.items()))
