"""Built-in venues: ``paper`` (the local exchange over HTTP), ``simulated`` (in-process) and
``kalshi`` (Kalshi over HTTP, behind the live guard)."""

from __future__ import annotations

from typing import Any

from kalshi_core.hookspecs import hookimpl
from kalshi_core.venues.paper import open_kalshi, open_paper
from kalshi_core.venues.simulated import open_simulated


@hookimpl
def register_venues(register: Any) -> None:
    register("paper", open_paper)
    register("simulated", open_simulated)
    register("kalshi", open_kalshi)
