"""Whole runs with a non-default fill model and latency: reproducible, and the in-process venue
fills exactly like the local exchange over HTTP (both build the model from the settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.venues.test_reproducible_runs import FILLS, ORDERS, PNL, dump, run_into

pytestmark = pytest.mark.slow


async def test_prob_queue_with_latency_fills_alike_in_process_and_over_http(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KALSHI_EXCHANGE__FILL_MODEL", "prob_queue")
    monkeypatch.setenv("KALSHI_EXCHANGE__LATENCY__BASE_MS", "250")
    monkeypatch.setenv("KALSHI_EXCHANGE__LATENCY__CANCEL_MS", "500")
    runs = {}
    for venue in ("simulated", "paper"):
        monkeypatch.setenv("KALSHI_RUN__VENUE", venue)
        runs[venue] = dump(await run_into(isolated, monkeypatch, venue, cycles=150))

    def comparable(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return sorted(row[2:] for row in rows)

    simulated, paper = runs["simulated"], runs["paper"]
    assert simulated[ORDERS], "the run placed no order: nothing was compared"
    assert comparable(simulated[ORDERS]) == comparable(paper[ORDERS])
    assert sorted(r[1:] for r in simulated[FILLS]) == sorted(r[1:] for r in paper[FILLS])
    assert simulated[PNL] == paper[PNL]
