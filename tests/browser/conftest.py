"""Fixtures for the browser test: Debian's chromium driven by Playwright (no browser download).

The test runs in ``tox -e e2e`` (``KALSHI_TEST_E2E=1``); elsewhere it is skipped. Inside it a
missing ``chromium`` or ``playwright`` fails on CI (``CI=true``: .ci/services.sh installs
chromium) and skips on a developer's machine.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

E2E_VAR = "KALSHI_TEST_E2E"
CHROMIUM = os.environ.get("KALSHI_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true)")
    pytest.skip(reason)


@pytest.fixture
def browser() -> Iterator[Any]:
    """A headless chromium, the machine's own (Debian's package)."""
    if os.environ.get(E2E_VAR) != "1":
        pytest.skip(f"browser test: runs in `tox -e e2e` ({E2E_VAR}=1)")
    if shutil.which(CHROMIUM) is None:
        _missing(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415 (optional: tox -e e2e)
    except ImportError:
        _missing("playwright is not installed (pip install playwright; tox -e e2e has it)")
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
