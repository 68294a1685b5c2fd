"""Shared fixtures for kalshi-core's own tests."""

from __future__ import annotations

from pathlib import Path

import pytest

import kalshi_core

HISTORY = Path(kalshi_core.__file__).parent / "data" / "history"


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The recorded market history shipped inside the package (one folder per data set)."""
    assert HISTORY.is_dir(), f"recorded history missing from the package at {HISTORY}"
    return HISTORY
