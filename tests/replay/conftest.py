"""Fixtures for the replay tests: the bundled history, loaded once, and fresh replays of it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kalshi_core.clock import ManualClock
from kalshi_core.exchange import Venue
from kalshi_core.exchange.replay import History, Replay, load_history

ReplayFactory = Callable[..., Replay]


@pytest.fixture(scope="session")
def kxinxu(shared_data_dir: Path) -> History:
    return load_history(shared_data_dir, ["kxinxu"])


@pytest.fixture(scope="session")
def crypto(shared_data_dir: Path) -> History:
    return load_history(shared_data_dir, ["crypto15m"])


@pytest.fixture(scope="session")
def both(shared_data_dir: Path) -> History:
    return load_history(shared_data_dir, ["kxinxu", "crypto15m"])


@pytest.fixture
def make_replay() -> ReplayFactory:
    """A fresh venue on a manual clock at the history's start, replaying ``history``."""

    def build(history: History, **options: object) -> Replay:
        venue = Venue(ManualClock(history.start_time))
        return Replay(venue, history, **options)  # type: ignore[arg-type]

    return build
