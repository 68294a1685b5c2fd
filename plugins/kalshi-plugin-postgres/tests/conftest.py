"""Fixtures shared by the plugin's tests."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from kalshi_core.testing.postgres import session_database


@pytest.fixture(scope="session", autouse=True)
def own_postgres_database() -> Iterator[str | None]:
    """A database of this session's own: the core's suites may be resetting the server's
    default database at the same time (``tox run-parallel``)."""
    with session_database(os.environ) as url:
        yield url
