"""Shared fixtures for kalshi-core's own tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

import kalshi_core
from kalshi_core.testing.postgres import session_database

# Hypothesis' per-example deadline is a timing assertion: on a loaded 2-core machine it fails
# correct code. Speed targets live in benchmarks/, not in tests.
settings.register_profile("kalshi-core", deadline=None)
settings.load_profile("kalshi-core")

HISTORY = Path(kalshi_core.__file__).parent / "data" / "history"

# The shipped calibration curve follows the price (`kalshi-core fit` found no edge in the
# bundled data), and an edge must clear k standard errors, so the default configuration places
# no order. Tests of the trading mechanics (orders, fills, books, faults, reproducibility,
# reports) need a run that trades: they use the former default curve, which moves prices, with
# k = 0 and forecasts without a stderr traded as certain (the rules before stderrs). It is a
# fixture for the plumbing, not a claim of edge. Tests of the shipped decision rules are marked
# ``shipped_defaults`` and run without it.
TRADING_CURVE = Path(__file__).with_name("trading_curve.json")
CURVE_VARIABLE = "KALSHI_FORECASTERS__CALIBRATED__CURVE_PATH"
TRADE_UNPROVEN_EDGES = {
    f"KALSHI_{section}__{key}": value
    for section in ("VALIDATORS__MIN_EDGE", "STRATEGIES__DIRECTIONAL")
    for key, value in (
        ("MISSING_STDERR", "assume"),
        ("ASSUMED_STDERR_CENTS", "0"),
        ("STDERRS", "0"),
    )
}
TRADING_MECHANICS = {CURVE_VARIABLE: str(TRADING_CURVE), **TRADE_UNPROVEN_EDGES}


def use_trading_curve(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("shipped_defaults") is None:
        for name, value in TRADING_MECHANICS.items():
            monkeypatch.setenv(name, value)


@pytest.fixture(autouse=True)
def trading_curve(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    use_trading_curve(request, monkeypatch)


@pytest.fixture(scope="session", autouse=True)
def own_postgres_database() -> Iterator[str | None]:
    """This session's own database on the test PostgreSQL server: suites running beside this
    one (``tox run-parallel``) reset theirs without touching ours."""
    with session_database(os.environ) as url:
        yield url


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The recorded market history shipped inside the package (one folder per data set)."""
    assert HISTORY.is_dir(), f"recorded history missing from the package at {HISTORY}"
    return HISTORY


@pytest.fixture
def isolated(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Path:
    """A `kalshi-core run` sandbox: own database file, own dev key and data dir, nothing from
    the developer's environment, cwd in ``tmp_path``."""
    for name in list(os.environ):
        if name.startswith("KALSHI_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("KALSHI_LOAD_PLUGINS", "builtin")
    monkeypatch.setenv("KALSHI_DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path / 'run.sqlite3'}")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    # A cycle every 10 recorded minutes: a short session reaches the hours the history trades.
    monkeypatch.setenv("KALSHI_RUN__CYCLE_SECONDS", "600")
    use_trading_curve(request, monkeypatch)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def trade_unproven_edges(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``isolated``, trading forecasts without a stderr as if certain."""
    for name, value in TRADE_UNPROVEN_EDGES.items():
        monkeypatch.setenv(name, value)
    return isolated
