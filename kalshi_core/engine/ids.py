"""Deterministic identifiers: the same decision always yields the same ``client_order_id``.

A retry, a crash and restart, or a second worker re-running a decision therefore produce the
same id, and the exchange's uniqueness check (409 ``order_already_exists``) plus the database's
unique constraint make a second placement impossible.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

PREFIX = "kc"


def _digest(*parts: str, length: int) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:length]


def decision_id(ticker: str, cycle_time: datetime, run_id: str) -> str:
    """One decision per market per cycle of one run."""
    return f"d-{_digest(run_id, ticker, cycle_time.isoformat(), length=24)}"


def decision_ids(cycle_time: datetime, run_id: str) -> Callable[[str], str]:
    """:func:`decision_id` of each market of one cycle: the same ids, with the parts every
    market shares (the run's prefix, the cycle's time text) prepared once, not per market."""
    shared = hashlib.sha256(f"{run_id}\x1f".encode())
    tail = f"\x1f{cycle_time.isoformat()}"

    def of(ticker: str) -> str:
        digest = shared.copy()
        digest.update(f"{ticker}{tail}".encode())
        return f"d-{digest.hexdigest()[:24]}"

    return of


def client_order_id(decision: str, intent_index: int, strategy: str) -> str:
    """The id of the ``intent_index``-th order intent of ``decision`` (at most 64 characters)."""
    return f"{PREFIX}-{_digest(decision, str(intent_index), strategy, length=32)}"
