"""Fixtures for the core framework's tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No KALSHI_* variable or .secrets.toml of the developer's leaks into a test."""
    for name in list(os.environ):
        if name.startswith("KALSHI_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("KALSHI_LOAD_PLUGINS", "builtin")
    monkeypatch.chdir(tmp_path)
